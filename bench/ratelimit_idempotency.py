"""What rate limiting and idempotency cost per request, against baselines measured in the same run.

    python bench/ratelimit_idempotency.py [--redis-url redis://127.0.0.1:6379/0] [--database-url URL]

1. In-memory limiter: a direct call vs an empty function; and the whole per-request check
   (category, cached service level, bucket) vs an empty coroutine.
2. Redis limiter: one `take` (the Lua script) vs a bare PING round trip.
3. Idempotency on `POST /v1/environments` (heavy) and `POST /v2/subscribers` (one insert)
   against a real server: no header vs a fresh key (claim + stored response) vs a replayed
   key, interleaved in shuffled order per round; the cost of a key is the median of the
   per-round differences (fresh key - no header), also shown per block of rounds to show how
   stable it is. Rate limiting is off in that server.
Writes bench/results/ratelimit_idempotency.txt (ratelimit_idempotency.postgresql.txt with
--database-url). Timings are wall clock on whatever else the machine is doing: compare the
ratios within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from herald.app import create_app
from herald.config import Settings
from herald.db import Database
from herald.environments.service import installation_credentials
from herald.kit.crypto import SecretBox
from herald.kit.scope import EnvironmentScope
from herald.logs import configure_logging
from herald.ratelimit.bucket import MemoryRateLimiter
from herald.ratelimit.policy import policies_for
from herald.ratelimit.redis_limiter import RedisRateLimiter
from herald.ratelimit.service import RateLimitService

RESULTS = Path(__file__).parent / "results" / "ratelimit_idempotency.txt"
MASTER_KEY = "bench-master-key-0123456789abcdef-not-for-production"
WARM_UP_ROUNDS = 20
lines: list[str] = []


def report(line: str = "") -> None:
    print(line)
    lines.append(line)


def per_call_us(function: Callable[[], Any], repeat: int = 200_000) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeat):
            function()
        best = min(best, time.perf_counter() - started)
    return best / repeat * 1e6


async def per_await_us(function: Callable[[], Awaitable[Any]], repeat: int) -> float:
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(repeat):
            await function()
        best = min(best, time.perf_counter() - started)
    return best / repeat * 1e6


def empty() -> None:
    return None


async def empty_coroutine() -> None:
    return None


async def bench_memory() -> None:
    report("== in-memory limiter")
    policy = policies_for("business", {})["global"]
    limiter = MemoryRateLimiter()
    baseline = per_call_us(empty)
    direct = per_call_us(lambda: limiter.consume("env:global", policy, 0))
    report(f"empty function call                      {baseline:8.3f} us")
    report(f"MemoryRateLimiter.consume                {direct:8.3f} us   ({direct / baseline:.1f}x empty)")
    service = RateLimitService(limiter, default_level="business", custom_rps={}, fail_open=True)
    scope = EnvironmentScope("0" * 24, "1" * 24)
    service._levels[scope.environment_id] = ("business", float("inf"))  # a cached level, as after 1 request
    coroutine_baseline = await per_await_us(empty_coroutine, 100_000)
    check = await per_await_us(lambda: service.check(None, scope, "POST", "/v1/events/trigger"), 100_000)  # type: ignore[arg-type]
    report(f"await empty coroutine                    {coroutine_baseline:8.3f} us")
    report(
        f"await RateLimitService.check (per req.)  {check:8.3f} us   "
        f"(+{check - coroutine_baseline:.3f} us; budget 200 us)"
    )


async def bench_redis(url: str) -> None:
    report("== Redis limiter")
    redis = Redis.from_url(url)
    try:
        await redis.ping()
    except Exception as error:
        report(f"skipped: Redis at {url} is unreachable ({type(error).__name__})")
        return
    policy = policies_for("business", {})["global"]
    limiter = RedisRateLimiter(redis)
    bucket = f"bench-{uuid.uuid4().hex}"
    await limiter.take(bucket, policy, 0)
    ping = await per_await_us(redis.ping, 2_000)
    take = await per_await_us(lambda: limiter.take(bucket, policy, 0), 2_000)
    report(f"PING round trip                          {ping:8.1f} us")
    report(f"RedisRateLimiter.take (Lua, 1 trip)      {take:8.1f} us   ({take / ping:.2f}x PING)")
    await redis.delete(f"herald:rl:{bucket}")
    await redis.aclose()


def start_server(settings: Settings) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = _free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return server, thread, f"http://127.0.0.1:{port}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def secret_key(settings: Settings) -> str:
    async def read() -> str:
        database = Database(settings)
        try:
            async with database.session(write=False) as session:
                credentials = await installation_credentials(session, SecretBox(MASTER_KEY))
        finally:
            await database.dispose()
        return credentials.environments[0].secret_key

    return asyncio.run(read())


VARIANTS = ("no header", "fresh key", "replayed key")


# (path, body field): POST /v1/environments is heavy (keys, defaults: ~10-20 ms); POST
# /v2/subscribers is one insert, so the same absolute cost stands out of less noise.
TARGETS = (("/v1/environments", "name"), ("/v2/subscribers", "subscriberId"))


def bench_idempotency(database_url: str | None, rounds: int, blocks: int) -> None:
    scratch = _scratch_database(database_url) if database_url else None
    load_before = os.getloadavg()[0]
    try:
        timings = _run_server_and_time(scratch, rounds)
    finally:
        if database_url and scratch:
            asyncio.run(_admin(database_url, f'DROP DATABASE IF EXISTS "{_name(scratch)}" WITH (FORCE)'))
    report(
        f"machine load (1-min average, {os.cpu_count()} CPUs): {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after the runs below"
    )
    for path, target_timings in timings.items():
        report(f"== idempotency on POST {path} (real server, keep-alive client)")
        _report_idempotency(database_url, target_timings, blocks)
        report()


def _scratch_database(admin_url: str) -> str:
    """A database of its own on the given server, dropped afterwards."""
    name = f"herald_bench_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    return f"{admin_url.rpartition('/')[0]}/{name}"


def _name(url: str) -> str:
    return url.rpartition("/")[2]


async def _admin(url: str, statement: str) -> None:
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _run_server_and_time(database_url: str | None, rounds: int) -> dict[str, dict[str, list[float]]]:
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            data_dir=Path(data_dir),
            database_url=database_url,
            master_key=MASTER_KEY,
            rate_limit_enabled=False,
            log_level="warning",
        )
        server, thread, url = start_server(settings)
        try:
            key = secret_key(settings)
            return {path: _time_variants(url, key, path, field, rounds) for path, field in TARGETS}
        finally:
            server.should_exit = True
            thread.join(timeout=15)


def _time_variants(url: str, key: str, path: str, field: str, rounds: int) -> dict[str, list[float]]:
    """Each round sends the three variants once, in a shuffled order, so that drift (the table
    grows, other processes come and go) hits them alike; warm-up rounds are dropped."""
    timings: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
    replay_key = uuid.uuid4().hex
    shuffler = random.Random(7)
    with httpx.Client(base_url=url, headers={"Authorization": f"ApiKey {key}"}) as client:
        client.post(path, json={field: "replayed"}, headers={"Idempotency-Key": replay_key})
        for round_ in range(-WARM_UP_ROUNDS, rounds):
            order = list(VARIANTS)
            shuffler.shuffle(order)
            for variant in order:
                extra = {}
                name = f"{variant[:5]}-{round_}"
                if variant == "fresh key":
                    extra = {"Idempotency-Key": uuid.uuid4().hex}
                elif variant == "replayed key":
                    extra, name = {"Idempotency-Key": replay_key}, "replayed"
                started = time.perf_counter()
                response = client.post(path, json={field: name}, headers=extra)
                elapsed = (time.perf_counter() - started) * 1000
                assert response.status_code == 201, response.text
                if round_ >= 0:
                    timings[variant].append(elapsed)
    return timings


def _report_idempotency(database_url: str | None, timings: dict[str, list[float]], blocks: int) -> None:
    rounds = len(timings["no header"])
    base = statistics.median(timings["no header"])
    report(
        f"database: {'PostgreSQL' if database_url else 'SQLite (embedded)'}; {rounds} rounds, "
        f"each the 3 variants in shuffled order (+{WARM_UP_ROUNDS} warm-up rounds dropped)"
    )
    for variant, values in timings.items():
        median = statistics.median(values)
        report(
            f"{variant:<14} median {median:7.3f} ms  mean {statistics.fmean(values):7.3f} ms  "
            f"(+{median - base:6.3f} ms, {median / base:.2f}x no header)"
        )
    added = [fresh - plain for fresh, plain in zip(timings["fresh key"], timings["no header"], strict=True)]
    quartiles = statistics.quantiles(added, n=4)
    report(
        f"added by a fresh key, paired per round: median {statistics.median(added):+.3f} ms "
        f"(quartiles {quartiles[0]:+.3f} / {quartiles[2]:+.3f} ms; budget 1 ms)"
    )
    size = rounds // blocks
    per_block = [statistics.median(added[i * size : (i + 1) * size]) for i in range(blocks)]
    report(f"  the same, per block of {size} rounds: " + "  ".join(f"{value:+.3f}" for value in per_block))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--redis-url", default=os.environ.get("HERALD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="A PostgreSQL server (URL of any database on it): the run creates a scratch database "
        "there and drops it afterwards. Default: embedded SQLite.",
    )
    parser.add_argument("--rounds", type=int, default=900)
    parser.add_argument("--blocks", type=int, default=6, help="Report the added time per block, too.")
    arguments = parser.parse_args()
    configure_logging("warning")
    asyncio.run(bench_memory())
    report()
    asyncio.run(bench_redis(arguments.redis_url))
    report()
    bench_idempotency(arguments.database_url, arguments.rounds, arguments.blocks)
    lines.pop()
    results = RESULTS.with_suffix(".postgresql.txt") if arguments.database_url else RESULTS
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
