"""The secret-key guard: every 401 case in Novu's shape, and what the SDK makes of it."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from novu_py import Novu, models

from tests.support import RunningServer

PUBLIC_PATHS = {"/v1/health-check", "/openapi.json"}


def assert_novu_401(response: httpx.Response, path: str, message: str) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"statusCode", "timestamp", "path", "message", "error"}
    assert body["statusCode"] == 401
    assert body["error"] == "Unauthorized"
    assert body["path"] == path
    assert body["message"] == message
    assert datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))


def test_missing_header(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}/v1/environments")
    assert_novu_401(response, "/v1/environments", "Missing authorization header")


def test_empty_header_counts_as_missing(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}/v1/environments", headers={"Authorization": ""})
    assert_novu_401(response, "/v1/environments", "Missing authorization header")


def test_bearer_scheme_with_a_valid_key_is_refused_with_a_hint(server: RunningServer) -> None:
    key = server.keys["Development"]
    response = httpx.get(f"{server.url}/v1/environments?limit=5", headers={"Authorization": f"Bearer {key}"})
    body = response.json()
    assert response.status_code == 401
    assert body["message"].startswith('Invalid authentication scheme: "Bearer"')
    assert "ApiKey <secret key>" in body["message"]
    assert body["path"] == "/v1/environments?limit=5"
    assert key not in response.text


@pytest.mark.parametrize(
    "header",
    ["ApiKey", "ApiKey a b", "{key}", "{key} ApiKey", "Basic"],
)
def test_malformed_values(server: RunningServer, header: str) -> None:
    key = server.keys["Development"]
    response = httpx.get(f"{server.url}/v1/environments", headers={"Authorization": header.format(key=key)})
    assert response.status_code == 401
    assert response.json()["message"].startswith("Malformed authorization header")
    assert key not in response.text


@pytest.mark.parametrize("candidate", ["0" * 32, "not-a-key", "f" * 64])
def test_unknown_key(server: RunningServer, candidate: str) -> None:
    response = httpx.get(f"{server.url}/v1/environments", headers={"Authorization": f"ApiKey {candidate}"})
    assert_novu_401(response, "/v1/environments", "API Key not found")


def test_scheme_is_case_insensitive(server: RunningServer) -> None:
    key = server.keys["Development"]
    response = httpx.get(f"{server.url}/v1/environments", headers={"Authorization": f"apikey {key}"})
    assert response.status_code == 200


def test_application_identifier_authorizes_nothing(server: RunningServer) -> None:
    identifier = server.credentials.environments[0].identifier
    response = httpx.get(f"{server.url}/v1/environments", headers={"Authorization": f"ApiKey {identifier}"})
    assert_novu_401(response, "/v1/environments", "API Key not found")


def test_sdk_parses_the_401_as_its_error_dto(server: RunningServer) -> None:
    novu = Novu(secret_key="0" * 32, server_url=server.url)
    with pytest.raises(models.ErrorDto) as raised:
        novu.environments.list()
    assert raised.value.data.status_code == 401
    assert raised.value.data.message == "API Key not found"
    assert raised.value.data.path == "/v1/environments"


def test_sdk_adds_the_apikey_prefix_and_works(server: RunningServer) -> None:
    novu = Novu(secret_key=server.keys["Production"], server_url=server.url)
    assert novu.environments.list().result


def test_every_secret_key_route_refuses_a_request_without_a_key(server: RunningServer) -> None:
    """Walks the app's own OpenAPI description, so a route added later cannot skip the guard."""
    checked = 0
    # Built on first use (~2 s of CPU): httpx's default 5 s is too short on a loaded machine.
    paths = httpx.get(f"{server.url}/openapi.json", timeout=60).json()["paths"]
    with httpx.Client(base_url=server.url) as client:
        for path, operations in paths.items():
            if path in PUBLIC_PATHS or path.startswith("/v1/inbox/"):
                continue  # the Inbox's own guard (session tokens): tests/inbox/test_session.py
            concrete = path.replace("{", "x").replace("}", "")
            for method, operation in operations.items():
                assert operation.get("security") == [{"secretKey": []}], (method, path)
                response = client.request(method, concrete, json={} if method != "get" else None)
                assert response.status_code == 401, (method, path, response.text)
                assert response.json()["message"] == "Missing authorization header"
                checked += 1
    assert checked >= 5


def test_no_cors_headers_on_the_secret_key_api(server: RunningServer) -> None:
    origin = {"Origin": "https://example.com"}
    preflight = httpx.options(
        f"{server.url}/v1/environments",
        headers={
            **origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    response = httpx.get(f"{server.url}/v1/environments", headers={**origin, **server.headers()})
    assert response.status_code == 200
    assert not any(name.startswith("access-control-") for name in response.headers)


def test_health_check_needs_no_key(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}/v1/health-check")
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "ok"
