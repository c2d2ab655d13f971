"""The trigger fast path (`herald.events.fast_path`) answers exactly as the FastAPI endpoints do.

The endpoints are reached with a JSON media type the fast path leaves to them
(`application/vnd.herald-test+json`: FastAPI reads any `+json` body as JSON), so every case
below is sent both ways and the two answers compared, status, headers and body.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from herald.config import Settings
from tests.engine.helpers import create_workflow, in_app
from tests.support import RunningServer, running

FAST = "application/json"
ENDPOINT = "application/vnd.herald-test+json"
# Differ between any two answers: when they were made, and the request's id.
_VARYING_HEADERS = {"date", "x-request-id", "ratelimit-reset", "ratelimit-remaining", "retry-after"}
PAYLOAD_SCHEMA = {
    "type": "object",
    "properties": {"orderId": {"type": "string"}},
    "required": ["orderId"],
}


def _send(
    server: RunningServer, path: str, body: Any, media_type: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    content = body if isinstance(body, bytes) else httpx.Request("POST", "/", json=body).content
    with server.client() as client:
        return client.post(path, content=content, headers={"Content-Type": media_type, **(headers or {})})


def _comparable(response: httpx.Response) -> tuple[int, dict[str, str], Any]:
    headers = {k: v for k, v in response.headers.items() if k not in _VARYING_HEADERS}
    headers.pop("content-length", None)
    body = response.json()
    if isinstance(body, dict):
        body.pop("timestamp", None)
        data = body.get("data")
        for item in data if isinstance(data, list) else [data]:
            if isinstance(item, dict) and "transactionId" in item:  # "fast-1" and "endpoint-1" compare as "1"
                item["transactionId"] = item["transactionId"].split("-", 1)[-1]
    return response.status_code, headers, body


def _both_ways(server: RunningServer, path: str, fast: Any, endpoint: Any, **kwargs: Any) -> None:
    fast_answer = _send(server, path, fast, FAST, **kwargs)
    endpoint_answer = _send(server, path, endpoint, ENDPOINT, **kwargs)
    assert _comparable(fast_answer) == _comparable(endpoint_answer)


def _trigger(transaction_id: str, **fields: Any) -> dict[str, Any]:
    return {"name": "orders", "to": "alice", "transactionId": transaction_id, **fields}


@pytest.fixture
def orders(server: RunningServer) -> RunningServer:
    with server.client() as client:
        create_workflow(client, "orders", [in_app()])
        create_workflow(client, "strict", [in_app()], payloadSchema=PAYLOAD_SCHEMA, validatePayload=True)
    return server


def test_an_accepted_trigger_answers_the_same(orders: RunningServer) -> None:
    _both_ways(orders, "/v1/events/trigger", _trigger("fast-1"), _trigger("endpoint-1"))


def test_an_accepted_bulk_answers_the_same(orders: RunningServer) -> None:
    def bulk(prefix: str) -> dict[str, Any]:
        return {
            "events": [
                _trigger(f"{prefix}-1"),
                {"name": "missing-workflow", "to": "bob", "transactionId": f"{prefix}-2"},
                {"name": "orders", "transactionId": f"{prefix}-3"},
            ]
        }

    fast = _comparable(_send(orders, "/v1/events/trigger/bulk", bulk("fast"), FAST))
    endpoint = _comparable(_send(orders, "/v1/events/trigger/bulk", bulk("endpoint"), ENDPOINT))
    assert fast == endpoint
    answers = fast[2]["data"]
    assert [item["status"] for item in answers] == ["processed", "error", "error"]
    assert any("to" in message for message in answers[2]["error"])  # its own validation error


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(_trigger("tx-1", name="missing-workflow"), id="unknown workflow"),
        pytest.param({"name": "strict", "to": "alice", "payload": {"orderId": 7}}, id="payload schema"),
        pytest.param({"name": "orders"}, id="missing field"),
        pytest.param({"name": "orders", "to": 42}, id="wrong type"),
        pytest.param(b'{"name": "orders", "to": ', id="not json"),
        pytest.param(b"[1, 2]", id="not an object"),
    ],
)
def test_a_refused_trigger_answers_the_same(orders: RunningServer, body: Any) -> None:
    _both_ways(orders, "/v1/events/trigger", body, body)


@pytest.mark.parametrize(
    "authorization", [None, "ApiKey 0123456789abcdef0123456789abcdef", "Bearer abc"], ids=str
)
def test_a_bad_key_answers_the_same(orders: RunningServer, authorization: str | None) -> None:
    for media_type in (FAST, ENDPOINT):
        headers = {"Content-Type": media_type}
        if authorization:
            headers["Authorization"] = authorization
        response = httpx.post(f"{orders.url}/v1/events/trigger", json=_trigger("tx-key"), headers=headers)
        assert response.status_code == 401


def test_an_idempotency_key_is_honoured(orders: RunningServer) -> None:
    headers = {"Idempotency-Key": "key-1"}
    first = _send(orders, "/v1/events/trigger", _trigger("tx-idem"), FAST, headers=headers)
    again = _send(orders, "/v1/events/trigger", _trigger("tx-idem"), FAST, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotency-replay"] == "true"
    assert again.json() == first.json()
    other_body = _send(orders, "/v1/events/trigger", _trigger("tx-other"), FAST, headers=headers)
    assert other_body.status_code == 422


def test_a_rate_limit_refusal_answers_the_same(settings: Settings) -> None:
    tiny = settings.model_copy(update={"rate_limit_level": "custom", "rate_limit_custom_rps": {"trigger": 1}})
    server = next(servers := running(tiny))
    try:
        with server.client() as client:
            create_workflow(client, "orders", [in_app()])
        fast = [_send(server, "/v1/events/trigger", _trigger(f"tx-{n}"), FAST) for n in range(6)]
        endpoint = _send(server, "/v1/events/trigger", _trigger("tx-endpoint"), ENDPOINT)
        assert [answer.status_code for answer in fast] == [201] * 5 + [429]
        assert "retry-after" in fast[-1].headers
        assert _comparable(fast[-1]) == _comparable(endpoint)
    finally:
        servers.close()
