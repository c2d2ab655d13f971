"""Every environment starts with the active in-app integration; its `hmac` flag per environment."""

from novu_py import Novu

from tests.integrations.helpers import client_for, create_custom_environment, hmac_required, stored_rows
from tests.support import RunningServer


def _in_app(novu: Novu) -> list[object]:
    return [i for i in novu.integrations.list().result if i.channel == "in_app"]


def test_development_and_production_start_with_the_novu_inbox(server: RunningServer) -> None:
    for environment, hmac in (("Development", False), ("Production", True)):
        novu = Novu(secret_key=server.keys[environment], server_url=server.url)
        integrations = novu.integrations.list().result
        assert len(integrations) == 1
        inbox = integrations[0]
        assert inbox.provider_id == "novu"
        assert inbox.channel == "in_app"
        assert inbox.name == "Novu Inbox"
        assert inbox.identifier.startswith("novu-inbox-")
        assert inbox.active is True
        assert inbox.primary is False
        assert inbox.deleted is False
        assert inbox.environment_id == server.environment_ids[environment]
        assert inbox.credentials is not None
        assert inbox.credentials.hmac is hmac
        assert [i.id for i in novu.integrations.list_active().result] == [inbox.id]
        assert hmac_required(server, server.environment_ids[environment]) is hmac


def test_a_custom_environment_starts_with_the_inbox_requiring_hmac(server: RunningServer) -> None:
    environment_id, secret_key = create_custom_environment(server)
    novu = Novu(secret_key=secret_key, server_url=server.url)
    [inbox] = novu.integrations.list().result
    assert (inbox.provider_id, inbox.channel, inbox.active) == ("novu", "in_app", True)
    assert inbox.environment_id == environment_id
    assert inbox.credentials is not None and inbox.credentials.hmac is True
    assert hmac_required(server, environment_id) is True


def test_the_hmac_flag_follows_the_in_app_integration(server: RunningServer) -> None:
    development = server.environment_ids["Development"]
    novu = Novu(secret_key=server.keys["Development"], server_url=server.url)
    [inbox] = novu.integrations.list().result
    assert inbox.id is not None
    updated = novu.integrations.update(
        integration_id=inbox.id, update_integration_request_dto={"credentials": {"hmac": True}}
    ).result
    assert updated.credentials is not None and updated.credentials.hmac is True
    assert hmac_required(server, development) is True
    novu.integrations.update(integration_id=inbox.id, update_integration_request_dto={"credentials": {}})
    assert hmac_required(server, development) is False
    novu.integrations.delete(integration_id=inbox.id)
    assert hmac_required(server, development) is True  # no integration: fail closed


def test_one_environment_has_one_novu_in_app_integration(server: RunningServer) -> None:
    with server.client() as client:
        response = client.post("/v1/integrations", json={"providerId": "novu", "channel": "in_app"})
    assert response.status_code == 400
    assert response.json()["message"] == "One environment can only have one In app provider"


def test_deleting_a_custom_environment_deletes_its_integrations(server: RunningServer) -> None:
    environment_id, secret_key = create_custom_environment(server)
    with client_for(server, secret_key) as client:
        assert (
            client.post("/v1/integrations", json={"providerId": "twilio", "channel": "sms"}).status_code
            == 201
        )
        assert client.delete(f"/v1/environments/{environment_id}").status_code == 200
    assert stored_rows(server, environment_id) == []
