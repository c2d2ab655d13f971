"""Rate limits as a client sees them: headers, 429 and recovery, levels, Redis sharing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from novu_py import Novu
from novu_py.utils import BackoffStrategy, RetryConfig
from pydantic import SecretStr
from typer.testing import CliRunner

from herald.cli import app as cli
from herald.config import Settings
from tests.probe import BULK_PATHS, CATEGORY_PATHS, probe_server
from tests.support import REDIS_URL, TEST_MASTER_KEY, DatabaseFactory, RunningServer, free_port, running

RATE_HEADERS = ("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "ratelimit-policy")
TINY = {"rate_limit_level": "custom", "rate_limit_custom_rps": {"global": 1}}  # 5 per 5 s, burst 5


@pytest.fixture
def probe(
    monkeypatch: pytest.MonkeyPatch, database_factory: DatabaseFactory, tmp_path: Path
) -> Iterator[RunningServer]:
    yield from probe_server(monkeypatch, database_factory, tmp_path)


@pytest.fixture
def tiny(database_factory: DatabaseFactory, tmp_path: Path) -> Iterator[RunningServer]:
    settings = database_factory.settings_for(tmp_path / "data").model_copy(update=TINY)
    try:
        yield from running(settings)
    finally:
        database_factory.drop(settings)


def test_every_category_carries_novus_headers(probe: RunningServer) -> None:
    figures = {"trigger": (3000, 3300), "configuration": (1000, 1100), "global": (1500, 1650)}
    with probe.client() as client:
        for category, paths in CATEGORY_PATHS.items():
            limit, burst = figures[category]
            for taken, path in enumerate(paths, start=1):
                response = client.get(path)
                assert response.status_code == 200, path
                assert response.headers["ratelimit-limit"] == str(limit)
                assert response.headers["ratelimit-remaining"] == str(burst - taken)
                assert response.headers["ratelimit-reset"] == "5"
                assert response.headers["ratelimit-policy"] == (
                    f'{limit};w=5;burst={burst};comment="token bucket";category="{category}";'
                    'cost="single";serviceLevel="business"'
                )
        environments = client.get("/v1/environments")
        assert 'category="global"' in environments.headers["ratelimit-policy"]


def test_bulk_calls_cost_one_hundred(probe: RunningServer) -> None:
    with probe.client() as client:
        trigger_bulk, broadcast, subscribers_bulk = (client.post(path, json={}) for path in BULK_PATHS)
    assert trigger_bulk.headers["ratelimit-remaining"] == "3200"
    assert broadcast.headers["ratelimit-remaining"] == "3100"
    assert 'category="trigger";cost="bulk"' in broadcast.headers["ratelimit-policy"]
    assert subscribers_bulk.headers["ratelimit-remaining"] == "1000"
    assert 'category="configuration";cost="bulk"' in subscribers_bulk.headers["ratelimit-policy"]


def test_environments_have_their_own_buckets_and_errors_are_limited_too(probe: RunningServer) -> None:
    with probe.client("Development") as development, probe.client("Production") as production:
        development.get("/v1/probe")
        missing = development.put("/v1/environments/000000000000000000000000", json={"name": "x"})
        assert missing.status_code == 404
        assert missing.headers["ratelimit-remaining"] == "1648"
        assert production.get("/v1/probe").headers["ratelimit-remaining"] == "1649"


def test_no_headers_without_a_valid_key_or_on_the_health_check(probe: RunningServer) -> None:
    anonymous = httpx.get(f"{probe.url}/v1/probe")
    unknown = httpx.get(f"{probe.url}/v1/probe", headers={"Authorization": "ApiKey " + "0" * 32})
    health = httpx.get(f"{probe.url}/v1/health-check")
    for response in (anonymous, unknown, health):
        assert not any(name in response.headers for name in RATE_HEADERS)
    assert (anonymous.status_code, unknown.status_code, health.status_code) == (401, 401, 200)


def test_429_then_recovery_after_reset(tiny: RunningServer) -> None:
    with tiny.client() as client:
        remaining = [client.get("/v1/environments").headers["ratelimit-remaining"] for _ in range(5)]
        assert remaining == ["4", "3", "2", "1", "0"]
        refused = client.get("/v1/environments")
        assert refused.status_code == 429
        body = refused.json()
        assert body["message"] == "API rate limit exceeded"
        assert body["statusCode"] == 429 and body["path"] == "/v1/environments" and "timestamp" in body
        assert refused.headers["retry-after"] == refused.headers["ratelimit-reset"]
        assert refused.headers["ratelimit-remaining"] == "0"
        time.sleep(int(refused.headers["ratelimit-reset"]))
        recovered = client.get("/v1/environments")
        assert recovered.status_code == 200
        assert recovered.headers["ratelimit-remaining"] == "4"


def test_novu_py_retries_a_429_into_a_success(tiny: RunningServer) -> None:
    with tiny.client() as client:
        for _ in range(5):
            client.get("/v1/environments")
        assert client.get("/v1/environments").status_code == 429
    statuses: list[int] = []
    http = httpx.Client(event_hooks={"response": [lambda response: statuses.append(response.status_code)]})
    novu = Novu(
        secret_key=tiny.keys["Development"],
        server_url=tiny.url,
        client=http,
        retry_config=RetryConfig("backoff", BackoffStrategy(50, 500, 1.5, 30_000), False),
    )
    names = [env.name for env in novu.environments.list().result]
    assert names == ["Development", "Production"]
    assert statuses[0] == 429 and statuses[-1] == 200


def _cli_env(settings: Settings) -> dict[str, str]:
    env = {"HERALD_DATA_DIR": str(settings.data_dir), "HERALD_MASTER_KEY": TEST_MASTER_KEY}
    if settings.database_url:
        env["HERALD_DATABASE_URL"] = settings.database_url
    return env


def test_service_level_override_set_through_the_cli(tiny: RunningServer) -> None:
    runner = CliRunner()
    env = _cli_env(tiny.settings)
    result = runner.invoke(cli, ["rate-limit", "set", "-e", "Production", "-l", "free"], env=env)
    assert result.exit_code == 0, result.output
    bad = runner.invoke(cli, ["rate-limit", "set", "-e", "Production", "-l", "gold"], env=env)
    assert bad.exit_code == 1 and "Unknown service level" in bad.output
    shown = runner.invoke(cli, ["rate-limit", "show"], env={**env, "HERALD_RATE_LIMIT_LEVEL": "custom"})
    assert "Production               free         (own)" in shown.output
    assert "Development              custom       (default)" in shown.output

    with tiny.client("Production") as production, tiny.client("Development") as development:
        assert 'serviceLevel="free"' in production.get("/v1/environments").headers["ratelimit-policy"]
        policy = development.get("/v1/environments").headers["ratelimit-policy"]
        assert policy.startswith("5;w=5;burst=5;") and 'serviceLevel="custom"' in policy

    assert runner.invoke(cli, ["rate-limit", "clear", "-e", "Production"], env=env).exit_code == 0
    shown = runner.invoke(cli, ["rate-limit", "show"], env=env)
    assert "Production               business     (default)" in shown.output


@pytest.mark.parametrize("fail_open", [True, False])
def test_redis_failure_fails_open_or_closed(
    fail_open: bool, database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    unreachable = SecretStr(f"redis://127.0.0.1:{free_port()}/0")
    settings = database_factory.settings_for(tmp_path / "data").model_copy(
        update={"redis_url": unreachable, "rate_limit_fail_open": fail_open}
    )
    try:
        for server in running(settings):
            with server.client() as client:
                response = client.get("/v1/environments")
            if fail_open:
                assert response.status_code == 200
                assert "ratelimit-limit" not in response.headers
            else:
                assert response.status_code == 503
                assert response.json()["message"] == "Rate limiting is unavailable; retry shortly"
    finally:
        database_factory.drop(settings)


def test_rate_limiting_can_be_switched_off(database_factory: DatabaseFactory, tmp_path: Path) -> None:
    settings = database_factory.settings_for(tmp_path / "data").model_copy(
        update={"rate_limit_enabled": False}
    )
    try:
        for server in running(settings):
            with server.client() as client:
                assert "ratelimit-limit" not in client.get("/v1/environments").headers
    finally:
        database_factory.drop(settings)


@pytest.mark.skipif(not REDIS_URL, reason="HERALD_TEST_REDIS_URL is not set")
def test_two_server_processes_share_buckets_through_redis(
    database_factory: DatabaseFactory, tmp_path: Path
) -> None:
    assert REDIS_URL
    settings = database_factory.settings_for(tmp_path / "data").model_copy(
        update={**TINY, "redis_url": SecretStr(REDIS_URL)}
    )
    port = free_port()
    env = {
        **os.environ,
        **_cli_env(settings),
        "HERALD_REDIS_URL": REDIS_URL,
        "HERALD_RATE_LIMIT_LEVEL": "custom",
        "HERALD_RATE_LIMIT_CUSTOM_RPS": '{"global": 1}',
        "HERALD_LOG_LEVEL": "warning",
    }
    other = subprocess.Popen(
        [sys.executable, "-m", "herald", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for server in running(settings):
            other_url = f"http://127.0.0.1:{port}"
            _wait_until_up(other_url, other)
            urls = [server.url, other_url] * 3
            statuses = [
                httpx.get(f"{url}/v1/environments", headers=server.headers()).status_code for url in urls
            ]
            assert statuses == [200] * 5 + [429]
    finally:
        other.terminate()
        other.wait(timeout=15)
        database_factory.drop(settings)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "the second Herald process exited"
        try:
            if httpx.get(f"{url}/v1/health-check", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("the second Herald process did not start")
