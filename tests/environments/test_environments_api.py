"""`/v1/environments` through novu-py and raw HTTP."""

from __future__ import annotations

import httpx
import pytest
from novu_py import Novu, models

from tests.support import RunningServer


@pytest.fixture
def novu(server: RunningServer) -> Novu:
    return Novu(secret_key=server.keys["Development"], server_url=server.url)


def test_bootstrap_made_development_and_production(novu: Novu, server: RunningServer) -> None:
    environments = novu.environments.list().result
    development, production = environments
    assert (development.name, development.type) == ("Development", models.EnvironmentResponseDtoType.DEV)
    assert (production.name, production.type) == ("Production", models.EnvironmentResponseDtoType.PROD)
    assert production.parent_id == development.id
    assert development.parent_id is None
    assert {env.organization_id for env in environments} == {server.credentials.organization_id}
    assert all(len(env.identifier) == 12 for env in environments)
    assert all(len(env.id) == 24 for env in environments)


def test_create_custom_environment_returns_its_key_once(novu: Novu, server: RunningServer) -> None:
    created = novu.environments.create(
        create_environment_request_dto={"name": "Staging", "color": "#123abc"}
    ).result
    assert created.name == "Staging"
    assert created.parent_id == server.environment_ids["Development"]
    assert created.api_keys and len(created.api_keys[0].key) == 32
    staging = Novu(secret_key=created.api_keys[0].key, server_url=server.url)
    assert [env.name for env in staging.environments.list().result] == [
        "Development",
        "Production",
        "Staging",
    ]


def test_update_own_environment(server: RunningServer) -> None:
    created = httpx.post(
        f"{server.url}/v1/environments", headers=server.headers(), json={"name": "QA"}
    ).json()["data"]
    novu = Novu(secret_key=created["apiKeys"][0]["key"], server_url=server.url)
    updated = novu.environments.update(
        environment_id=created["_id"],
        update_environment_request_dto={"name": "Quality", "color": "#abcdef"},
    ).result
    assert (updated.name, updated.slug) == ("Quality", "quality")
    assert updated.api_keys is None


def test_delete_own_custom_environment(server: RunningServer) -> None:
    created = httpx.post(
        f"{server.url}/v1/environments", headers=server.headers(), json={"name": "Temp"}
    ).json()["data"]
    novu = Novu(secret_key=created["apiKeys"][0]["key"], server_url=server.url)
    novu.environments.delete(environment_id=created["_id"])
    names = [
        env.name
        for env in Novu(secret_key=server.keys["Development"], server_url=server.url)
        .environments.list()
        .result
    ]
    assert "Temp" not in names


@pytest.mark.parametrize("name", ["Development", "Production"])
def test_protected_environments_cannot_be_deleted(server: RunningServer, name: str) -> None:
    response = httpx.delete(
        f"{server.url}/v1/environments/{server.environment_ids[name]}", headers=server.headers(name)
    )
    assert response.status_code == 400
    assert "protected" in response.json()["message"]


def test_protected_environments_cannot_be_renamed(server: RunningServer) -> None:
    response = httpx.put(
        f"{server.url}/v1/environments/{server.environment_ids['Development']}",
        headers=server.headers(),
        json={"name": "Dev"},
    )
    assert response.status_code == 400


def test_duplicate_and_reserved_names(server: RunningServer) -> None:
    with server.client() as client:
        assert client.post("/v1/environments", json={"name": "Staging"}).status_code == 201
        duplicate = client.post("/v1/environments", json={"name": "Staging"})
        assert duplicate.status_code == 400
        assert duplicate.json()["message"] == "Environment name must be unique"
        reserved = client.post("/v1/environments", json={"name": "production"})
        assert reserved.status_code == 422
        assert "name" in reserved.json()["errors"]


def test_validation_errors_name_the_field(server: RunningServer) -> None:
    with server.client() as client:
        response = client.post("/v1/environments", json={"name": "X", "color": "blue", "parentId": 5})
    body = response.json()
    assert response.status_code == 422
    assert body["statusCode"] == 422 and body["path"] == "/v1/environments"
    assert set(body["errors"]) == {"color", "parentId"}
    assert body["errors"]["color"]["value"] == "blue"
    assert body["errors"]["color"]["messages"]


def test_sdk_raises_its_validation_error_dto(novu: Novu) -> None:
    with pytest.raises(models.ValidationErrorDto) as raised:
        novu.environments.create(create_environment_request_dto={"name": "", "color": "#ffffff"})
    assert "name" in raised.value.data.errors


def test_unknown_parent_is_404(server: RunningServer) -> None:
    with server.client() as client:
        response = client.post("/v1/environments", json={"name": "Orphan", "parentId": "0" * 24})
    assert response.status_code == 404


def test_unknown_fields_are_ignored(server: RunningServer) -> None:
    with server.client() as client:
        response = client.post("/v1/environments", json={"name": "Extra", "__source": "editor", "dns": {}})
    assert response.status_code == 201
