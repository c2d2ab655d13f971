"""A key reaches its own environment only."""

from __future__ import annotations

import httpx

from tests.support import RunningServer


def test_each_key_is_its_own_environment(server: RunningServer) -> None:
    for name in ("Development", "Production"):
        me = httpx.get(f"{server.url}/v1/environments/me", headers=server.headers(name)).json()["data"]
        assert me["_id"] == server.environment_ids[name]
        assert me["name"] == name


def test_listing_never_shows_secret_keys(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}/v1/environments", headers=server.headers())
    for key in server.keys.values():
        assert key not in response.text
    assert all("apiKeys" not in env for env in response.json()["data"])


def test_a_key_cannot_change_another_environment(server: RunningServer) -> None:
    production_id = server.environment_ids["Production"]
    with server.client("Development") as development:
        renamed = development.put(f"/v1/environments/{production_id}", json={"color": "#000000"})
        assert renamed.status_code == 403
        staging = development.post("/v1/environments", json={"name": "Staging"}).json()["data"]
        deleted = development.delete(f"/v1/environments/{staging['_id']}")
        assert deleted.status_code == 403
    staging_key = staging["apiKeys"][0]["key"]
    with httpx.Client(base_url=server.url, headers={"Authorization": f"ApiKey {staging_key}"}) as own:
        assert own.get("/v1/environments/me").json()["data"]["_id"] == staging["_id"]
        assert own.delete(f"/v1/environments/{staging['_id']}").status_code == 200
        assert own.get("/v1/environments/me").status_code == 401
