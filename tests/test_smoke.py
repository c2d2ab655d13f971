from novu_py import Novu

from tests.support import RunningServer


def test_sdk_lists_environments(server: RunningServer) -> None:
    novu = Novu(secret_key=server.keys["Development"], server_url=server.url)
    names = [env.name for env in novu.environments.list().result]
    assert names == ["Development", "Production"]
