"""Idempotency-Key as a client sees it, on the database store (and on Redis when available)."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from novu_py import Novu
from novu_py.utils import BackoffStrategy, RetryConfig
from pydantic import SecretStr
from sqlalchemy import func, select, update

from herald.db import Database
from herald.idempotency.repository import IdempotencyRepository
from herald.kit.scope import EnvironmentScope
from herald.kit.time import utc_now
from herald.models import IdempotencyRecord
from tests.inbox.fixtures import application_identifier, subscriber_hash
from tests.probe import calls, probe_server
from tests.support import REDIS_URL, DatabaseFactory, RunningServer, running

STORES = ["database", pytest.param("redis", marks=pytest.mark.skipif(not REDIS_URL, reason="needs Redis"))]


@pytest.fixture(params=STORES)
def server_with_store(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    database_factory: DatabaseFactory,
    tmp_path: Path,
) -> Iterator[RunningServer]:
    overrides: dict[str, Any] = {"idempotency_store": request.param}
    if request.param == "redis":
        assert REDIS_URL
        overrides["redis_url"] = SecretStr(REDIS_URL)
    yield from probe_server(monkeypatch, database_factory, tmp_path, **overrides)


def _key() -> str:
    return uuid.uuid4().hex


def _environment_names(server: RunningServer) -> list[str]:
    with server.client() as client:
        return [env["name"] for env in client.get("/v1/environments").json()["data"]]


def _db(server: RunningServer, work: Any) -> Any:
    async def run() -> Any:
        database = Database(server.settings)
        try:
            async with database.session(write=True) as session:
                return await work(session)
        finally:
            await database.dispose()

    return asyncio.run(run())


def _scope(server: RunningServer, environment: str = "Development") -> EnvironmentScope:
    return EnvironmentScope(server.environment_ids[environment], server.credentials.organization_id)


def test_one_hundred_concurrent_duplicates_run_once(server_with_store: RunningServer) -> None:
    server = server_with_store
    key = _key()

    async def hammer() -> list[httpx.Response]:
        headers = {**server.headers(), "Idempotency-Key": key}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as client:
            return await asyncio.gather(
                *(client.post("/v1/environments", json={"name": "Staging"}) for _ in range(100))
            )

    responses = asyncio.run(hammer())
    assert _environment_names(server) == ["Development", "Production", "Staging"]
    originals = [r for r in responses if r.status_code == 201 and "idempotency-replay" not in r.headers]
    replays = [r for r in responses if r.headers.get("idempotency-replay") == "true"]
    conflicts = [r for r in responses if r.status_code == 409]
    assert len(originals) == 1
    assert len(replays) + len(conflicts) == 99
    assert all(r.status_code == 201 and r.content == originals[0].content for r in replays)
    assert all(r.headers["retry-after"] == "1" for r in conflicts)
    assert all(r.headers["idempotency-key"] == key for r in responses)


def test_replay_carries_the_stored_response_and_headers(server_with_store: RunningServer) -> None:
    key = _key()
    with server_with_store.client() as client:
        first = client.post("/v1/environments", json={"name": "Staging"}, headers={"Idempotency-Key": key})
        again = client.post("/v1/environments", json={"name": "Staging"}, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert "idempotency-replay" not in first.headers
    assert again.headers["idempotency-replay"] == "true"
    assert first.headers["idempotency-key"] == again.headers["idempotency-key"] == key
    assert again.content == first.content
    assert again.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert "ratelimit-policy" in again.headers
    assert _environment_names(server_with_store).count("Staging") == 1


def test_same_key_with_another_body_is_422(server_with_store: RunningServer) -> None:
    key = _key()
    with server_with_store.client() as client:
        client.post("/v1/environments", json={"name": "Staging"}, headers={"Idempotency-Key": key})
        reused = client.post("/v1/environments", json={"name": "Other"}, headers={"Idempotency-Key": key})
    assert reused.status_code == 422
    body = reused.json()
    message = f'Request with key "{key}" is being reused for a different body'
    assert body["message"] == message
    assert body["errors"] == {"Idempotency-Key": {"messages": [message], "value": key}}
    assert {"statusCode", "timestamp", "path", "error"} <= set(body)
    assert reused.headers["idempotency-key"] == key


def test_client_errors_are_stored_and_replayed(server_with_store: RunningServer) -> None:
    key = _key()
    with server_with_store.client() as client:
        first = client.post(
            "/v1/environments", json={"name": "Development"}, headers={"Idempotency-Key": key}
        )
        again = client.post(
            "/v1/environments", json={"name": "Development"}, headers={"Idempotency-Key": key}
        )
    assert first.status_code == again.status_code == 422
    assert again.headers["idempotency-replay"] == "true"
    assert again.json() == first.json()


def test_a_server_error_releases_the_key(server_with_store: RunningServer) -> None:
    headers = {**server_with_store.headers(), "Idempotency-Key": _key()}
    # One connection per request: uvicorn closes the connection after an unhandled exception.
    failed, retried, replayed = (
        httpx.post(f"{server_with_store.url}/v1/probe/flaky", json={}, headers=headers) for _ in range(3)
    )
    assert failed.status_code == 500
    assert retried.status_code == 201 and "idempotency-replay" not in retried.headers
    assert replayed.headers["idempotency-replay"] == "true"
    assert calls["flaky"] == 2


def test_keys_are_scoped_per_environment(server_with_store: RunningServer) -> None:
    key = _key()
    with server_with_store.client("Development") as dev, server_with_store.client("Production") as prod:
        first = dev.post("/v1/environments", json={"name": "From dev"}, headers={"Idempotency-Key": key})
        second = prod.post("/v1/environments", json={"name": "From prod"}, headers={"Idempotency-Key": key})
    assert first.status_code == second.status_code == 201
    assert "idempotency-replay" not in second.headers


def test_long_keys_are_refused_and_gets_ignore_keys(server_with_store: RunningServer) -> None:
    with server_with_store.client() as client:
        too_long = client.post("/v1/environments", json={"name": "X"}, headers={"Idempotency-Key": "k" * 256})
        longest = client.post("/v1/environments", json={"name": "Y"}, headers={"Idempotency-Key": "k" * 255})
        key = _key()
        reads = [client.get("/v1/environments", headers={"Idempotency-Key": key}) for _ in range(2)]
    assert too_long.status_code == 400
    assert too_long.json()["message"] == (
        f'idempotencyKey "{"k" * 256}" has exceeded the maximum allowed length of 255 characters'
    )
    assert longest.status_code == 201
    assert all("idempotency-key" not in r.headers and "idempotency-replay" not in r.headers for r in reads)
    assert "X" not in _environment_names(server_with_store)


def test_novu_py_retries_a_409_into_a_success(server: RunningServer) -> None:
    """A key claimed by a request still in progress: novu-py waits `Retry-After` and retries."""
    key = _key()

    async def claim(session: Any) -> None:
        now = utc_now()
        await IdempotencyRepository(session, _scope(server)).claim(
            key, "x", "other-request", now, now + timedelta(hours=1)
        )

    async def release(session: Any) -> None:
        await IdempotencyRepository(session, _scope(server)).release(key, "other-request")

    _db(server, claim)
    releaser = threading.Timer(1.5, lambda: _db(server, release))
    releaser.start()
    statuses: list[int] = []
    http = httpx.Client(event_hooks={"response": [lambda response: statuses.append(response.status_code)]})
    novu = Novu(
        secret_key=server.keys["Development"],
        server_url=server.url,
        client=http,
        retry_config=RetryConfig("backoff", BackoffStrategy(50, 500, 1.5, 30_000), False),
    )
    created = novu.environments.create(
        create_environment_request_dto={"name": "Staging", "color": "#3498db"}, idempotency_key=key
    )
    releaser.join()
    assert created.result.name == "Staging"
    assert statuses[0] == 409 and statuses[-1] == 201
    assert _environment_names(server).count("Staging") == 1


def test_a_claim_whose_response_was_lost_is_not_run_again(server: RunningServer) -> None:
    key = _key()
    with server.client() as client:
        client.post("/v1/environments", json={"name": "Staging"}, headers={"Idempotency-Key": key})

    async def lose_response(session: Any) -> None:
        await session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.idempotency_key == key)
            .values(status_code=None, created_at=utc_now() - timedelta(minutes=5))
        )

    _db(server, lose_response)
    with server.client() as client:
        again = client.post("/v1/environments", json={"name": "Staging"}, headers={"Idempotency-Key": key})
    assert again.status_code == 422
    assert "was processed, but its response was not recorded" in again.json()["message"]
    assert _environment_names(server).count("Staging") == 1


def test_expired_keys_run_again_and_are_cleaned_up(database_factory: DatabaseFactory, tmp_path: Path) -> None:
    settings = database_factory.settings_for(tmp_path / "data").model_copy(
        update={"idempotency_ttl_seconds": 1.0, "idempotency_cleanup_interval_seconds": 0.3}
    )

    async def count(session: Any) -> int:
        return int((await session.execute(select(func.count()).select_from(IdempotencyRecord))).scalar_one())

    try:
        for server in running(settings):
            key = _key()
            with server.client() as client:
                client.post("/v1/environments", json={"name": "One"}, headers={"Idempotency-Key": key})
                assert _db(server, count) == 1
                deadline = utc_now() + timedelta(seconds=20)
                while _db(server, count) and utc_now() < deadline:
                    threading.Event().wait(0.1)
                assert _db(server, count) == 0  # deleted by the cleanup task of the running server
                again = client.post(
                    "/v1/environments", json={"name": "Two"}, headers={"Idempotency-Key": key}
                )
            assert again.status_code == 201 and "idempotency-replay" not in again.headers
            assert _environment_names(server)[-2:] == ["One", "Two"]
    finally:
        database_factory.drop(settings)


def test_an_expired_record_not_yet_cleaned_up_is_taken_over(server: RunningServer) -> None:
    key = _key()
    with server.client() as client:
        client.post("/v1/environments", json={"name": "One"}, headers={"Idempotency-Key": key})

    async def expire(session: Any) -> None:
        await session.execute(
            update(IdempotencyRecord)
            .where(IdempotencyRecord.idempotency_key == key)
            .values(expires_at=utc_now() - timedelta(seconds=1))
        )

    _db(server, expire)
    with server.client() as client:
        again = client.post("/v1/environments", json={"name": "Two"}, headers={"Idempotency-Key": key})
    assert again.status_code == 201 and "idempotency-replay" not in again.headers


def test_idempotency_can_be_switched_off(database_factory: DatabaseFactory, tmp_path: Path) -> None:
    settings = database_factory.settings_for(tmp_path / "data").model_copy(
        update={"idempotency_enabled": False}
    )
    try:
        for server in running(settings):
            key = _key()
            with server.client() as client:
                first = client.post("/v1/environments", json={"name": "A"}, headers={"Idempotency-Key": key})
                second = client.post("/v1/environments", json={"name": "B"}, headers={"Idempotency-Key": key})
            assert first.status_code == second.status_code == 201
            assert "idempotency-key" not in second.headers
    finally:
        database_factory.drop(settings)


def test_a_key_on_a_route_that_takes_none_is_ignored_and_the_work_commits(server: RunningServer) -> None:
    """The Inbox has no idempotency: a key sent there defers nothing and replays nothing."""
    body = {
        "applicationIdentifier": application_identifier(server),
        "subscriber": {"subscriberId": "alice", "firstName": "Alice"},
        "subscriberHash": subscriber_hash(server.keys["Development"], "alice"),
    }
    headers = {"Idempotency-Key": _key()}
    responses = [
        httpx.post(f"{server.url}/v1/inbox/session", json=body, headers=headers, timeout=30) for _ in range(2)
    ]
    assert [response.status_code for response in responses] == [201, 201]
    assert all("idempotency-replay" not in response.headers for response in responses)
    with server.client() as client:
        assert client.get("/v2/subscribers/alice").json()["data"]["firstName"] == "Alice"
