"""Every error answer in Novu's shape: 404, 405, 413, bad JSON, and a 500 that tells nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.support import RunningServer, captured_logs

NOVU_ERROR_KEYS = {"statusCode", "timestamp", "path", "message", "error"}


def test_unknown_route_is_404(server: RunningServer) -> None:
    response = httpx.get(f"{server.url}/v1/nothing-here?x=1", headers=server.headers())
    assert response.status_code == 404
    assert set(response.json()) == NOVU_ERROR_KEYS
    assert response.json()["path"] == "/v1/nothing-here?x=1"
    assert response.json()["message"] == "Cannot GET /v1/nothing-here"


def test_wrong_method_is_405(server: RunningServer) -> None:
    response = httpx.patch(f"{server.url}/v1/environments", headers=server.headers(), json={})
    assert response.status_code == 405
    assert set(response.json()) == NOVU_ERROR_KEYS
    assert response.json()["statusCode"] == 405
    assert response.headers["allow"] == "GET, POST"


def test_invalid_json_is_400(server: RunningServer) -> None:
    response = httpx.post(
        f"{server.url}/v1/environments",
        headers={**server.headers(), "Content-Type": "application/json"},
        content=b'{"name": ',
    )
    assert response.status_code == 400
    assert response.json()["message"] == "Request body is not valid JSON"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/events/trigger", b'{"name": "w", "to": "alice", "transactionId": "tx-\\ud800"}'),
        ("/v1/events/trigger/bulk", b'{"events": [{"name": "w", "to": "alice", "payload": {"\\udc00": 1}}]}'),
        ("/v2/subscribers", b'{"subscriberId": "\\udbff-alone"}'),
    ],
    ids=["trigger", "bulk, in a key", "subscriber"],
)
def test_an_unpaired_surrogate_escape_is_400(server: RunningServer, path: str, body: bytes) -> None:
    """JSON may escape half a UTF-16 pair alone; the string it makes is not Unicode, and could
    be neither stored nor answered (it was a 500)."""
    headers = {**server.headers(), "Content-Type": "application/json"}
    response = httpx.post(f"{server.url}{path}", headers=headers, content=body)
    assert response.status_code == 400
    assert set(response.json()) == NOVU_ERROR_KEYS
    assert "unpaired UTF-16 surrogate" in response.json()["message"]


def test_a_surrogate_pair_escape_is_text(server: RunningServer) -> None:
    headers = {**server.headers(), "Content-Type": "application/json"}
    body = b'{"subscriberId": "party-\\ud83c\\udf89"}'  # how ASCII-only JSON writers send an emoji
    response = httpx.post(f"{server.url}/v2/subscribers", headers=headers, content=body)
    assert response.status_code == 201
    assert response.json()["data"]["subscriberId"] == "party-\U0001f389"


def test_body_over_512_kb_is_413(server: RunningServer) -> None:
    big = {"name": "x" * (600 * 1024)}
    response = httpx.post(f"{server.url}/v1/environments", headers=server.headers(), json=big)
    assert response.status_code == 413
    assert set(response.json()) == NOVU_ERROR_KEYS


def test_chunked_body_over_the_limit_is_413(server: RunningServer) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(80):
            yield b"y" * 8192
        yield b'"}'

    response = httpx.post(
        f"{server.url}/v1/environments",
        headers={**server.headers(), "Content-Type": "application/json"},
        content=chunks(),
    )
    assert response.status_code == 413


def test_every_response_has_a_request_id(server: RunningServer) -> None:
    response = httpx.get(
        f"{server.url}/v1/environments", headers={**server.headers(), "X-Request-Id": "abc-1"}
    )
    assert response.headers["x-request-id"] == "abc-1"
    generated = httpx.get(f"{server.url}/v1/environments", headers=server.headers())
    assert len(generated.headers["x-request-id"]) == 32


def test_unexpected_failure_is_500_with_error_id_and_nothing_internal(server: RunningServer) -> None:
    app: FastAPI = server.app  # type: ignore[assignment]

    async def explode() -> None:
        raise RuntimeError("internal detail: password=hunter2 at /srv/herald/secret.py")

    app.add_api_route("/v1/test-explode", explode, methods=["GET"])
    with captured_logs() as logs:
        response = httpx.get(f"{server.url}/v1/test-explode", headers=server.headers())
    body = response.json()
    assert response.status_code == 500
    assert body["message"] == "Internal server error"
    assert len(body["errorId"]) == 32
    assert "hunter2" not in response.text and "Traceback" not in response.text
    logged = logs.getvalue()
    assert logged.count(body["errorId"]) == 1
    error_line = json.loads(next(line for line in logged.splitlines() if body["errorId"] in line))
    assert error_line["request_id"] == response.headers["x-request-id"]
    assert "RuntimeError" in logged
    assert "hunter2" not in logged


def test_nul_characters_are_a_client_error_on_every_database(server: RunningServer) -> None:
    with server.client() as client:
        created = client.post("/v2/subscribers", json={"subscriberId": "nul-test", "firstName": "a\u0000b"})
        preferences = client.patch(
            "/v2/subscribers/nul-test/preferences",
            json={"channels": {"email": False}, "workflowId": "w\u0000"},
        )
    for response in (created, preferences):
        assert response.status_code < 500, response.text
    if server.settings.database_url:
        assert created.status_code == 400
        assert "NUL" in created.json()["message"]
