"""Benchmark: bulk subscriber creation and adding 100,000 subscribers to a topic.

Runs a real Herald server on a fresh migrated database (as the tests do) and measures, in the
same run, a baseline for each figure:
  - a trivial authenticated round trip (GET /v1/environments/me);
  - POST /v1/subscribers/bulk with 500 subscribers (novu-py), against 500 bare SQLAlchemy
    inserts of the same rows;
  - adding 100,000 existing subscribers to a topic through POST /v1/topics/{key}/subscribers
    (10 requests of 10,000), and 10,000 through the v2 route (100 requests of 100, its
    maximum), against 100,000 bare SQLAlchemy inserts of membership rows.

    python bench/configuration.py                      # embedded SQLite
    HERALD_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \\
        python bench/configuration.py                  # PostgreSQL (a scratch database is made)
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

if os.environ.get("HERALD_BENCH_DATABASE_URL"):
    os.environ["HERALD_TEST_DATABASE_URL"] = os.environ["HERALD_BENCH_DATABASE_URL"]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text
from tests.clients import novu
from tests.support import POSTGRES_URL, DatabaseFactory, RunningServer, start_server

from herald.config import Settings
from herald.db import Database
from herald.kit.ids import new_id
from herald.kit.time import utc_now
from herald.logs import configure_logging
from herald.models import Subscriber, TopicSubscription

MEMBERS = 100_000
V1_CHUNK = 10_000
V2_MEMBERS = 10_000
RESULTS = Path(__file__).parent / "results" / "configuration.txt"


def timed(work: Callable[[], Any]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def bare_inserts(
    settings: Settings, environment_id: str, organization_id: str, rows: Callable[[], Any]
) -> float:
    """Time inserting `rows()` -> (model, list of dicts) in one transaction, straight through SQLAlchemy."""

    async def run() -> float:
        database = Database(settings)
        try:
            model, values = rows()
            for value in values:
                value.update(environment_id=environment_id, organization_id=organization_id)
            start = time.perf_counter()
            async with database.session(write=True) as session:
                await session.execute(insert(model), values)
            return time.perf_counter() - start
        finally:
            await database.dispose()

    return asyncio.run(run())


def analyze(settings: Settings) -> None:
    """Refresh PostgreSQL's planner statistics after the direct bulk load of the setup (a real
    installation's autovacuum does this; right after loading 100,000 rows it has not run yet)."""
    if not POSTGRES_URL:
        return

    async def run() -> None:
        database = Database(settings)
        try:
            async with database.engine.connect() as connection:
                await connection.execute(text("ANALYZE"))
                await connection.commit()
        finally:
            await database.dispose()

    asyncio.run(run())


def subscriber_rows(prefix: str, count: int) -> tuple[type[Subscriber], list[dict[str, Any]]]:
    now = utc_now()
    return Subscriber, [
        {
            "id": new_id(),
            "subscriber_id": f"{prefix}{n:06d}",
            "email": f"{prefix}{n}@example.com",
            "channels": [],
            "created_at": now,
            "updated_at": now,
        }
        for n in range(count)
    ]


def main() -> None:
    configure_logging("warning")
    work_dir = Path(tempfile.mkdtemp(prefix="herald-bench-"))
    factory = DatabaseFactory(work_dir)
    settings = factory.settings_for(work_dir / "data")
    server: RunningServer = start_server(settings)
    lines: list[str] = []

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    try:
        environment_id = server.environment_ids["Development"]
        organization_id = server.credentials.organization_id
        client = novu(server)
        backend = "PostgreSQL" if POSTGRES_URL else "SQLite (embedded)"
        report(f"Herald configuration benchmark on {backend}, {os.cpu_count()} CPUs")

        with server.client() as http:
            http.get("/v1/environments/me")
            trips = [timed(lambda: http.get("/v1/environments/me").raise_for_status()) for _ in range(50)]
        round_trip = statistics.median(trips)
        report(f"trivial round trip (GET /v1/environments/me), median of 50: {round_trip * 1000:.2f} ms")

        bulk_times = []
        for run in range(5):
            body = {
                "subscribers": [
                    {"subscriber_id": f"bulk{run}-{n}", "email": f"b{run}.{n}@example.com"}
                    for n in range(500)
                ]
            }
            bulk_times.append(timed(lambda: client.subscribers.create_bulk(bulk_subscriber_create_dto=body)))  # noqa: B023
        bulk = statistics.median(bulk_times)
        bare_500 = statistics.median(
            bare_inserts(
                settings, environment_id, organization_id, lambda r=run: subscriber_rows(f"bare{r}-", 500)
            )
            for run in range(5)
        )
        report(
            f"bulk create 500 subscribers (POST /v1/subscribers/bulk), median of 5: {bulk * 1000:.1f} ms"
            f" = {bulk / bare_500:.1f}x 500 bare SQLAlchemy inserts ({bare_500 * 1000:.1f} ms)"
            f" = {bulk / round_trip:.0f}x a trivial round trip"
        )

        setup = bare_inserts(settings, environment_id, organization_id, lambda: subscriber_rows("m", MEMBERS))
        report(f"(setup: {MEMBERS:,} subscribers inserted directly in {setup:.1f} s)")
        ids = [f"m{n:06d}" for n in range(MEMBERS)]
        analyze(settings)

        with server.client() as http:

            def add_v1() -> None:
                for start in range(0, MEMBERS, V1_CHUNK):
                    response = http.post(
                        "/v1/topics/bench-v1/subscribers", json={"subscribers": ids[start : start + V1_CHUNK]}
                    )
                    response.raise_for_status()
                    assert len(response.json()["data"]["succeeded"]) == V1_CHUNK

            v1 = timed(add_v1)
            members = http.get("/v2/topics/bench-v1/subscriptions", params={"limit": 1}).json()
            assert members["totalCount"] == MEMBERS or members["totalCountCapped"], members

        def add_v2() -> None:
            for start in range(0, V2_MEMBERS, 100):
                client.topics.subscriptions.create(
                    topic_key="bench-v2",
                    create_topic_subscriptions_request_dto={"subscriber_ids": ids[start : start + 100]},
                )

        analyze(settings)
        v2 = timed(add_v2)

        topic_id = client.topics.create(create_update_topic_request_dto={"key": "bench-bare"}).result.id
        internal = asyncio.run(_internal_ids(settings, environment_id))
        now = utc_now()
        bare_members = bare_inserts(
            settings,
            environment_id,
            organization_id,
            lambda: (
                TopicSubscription,
                [
                    {
                        "id": new_id(),
                        "topic_id": topic_id,
                        "subscriber_pk": pk,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for pk in internal
                ],
            ),
        )
        report(
            f"add {MEMBERS:,} subscribers to a topic (v1, {MEMBERS // V1_CHUNK} requests of {V1_CHUNK:,}): "
            f"{v1:.2f} s = {MEMBERS / v1:,.0f} members/s = {v1 / bare_members:.1f}x "
            f"{MEMBERS:,} bare SQLAlchemy membership inserts ({bare_members:.2f} s)"
        )
        report(
            f"add {V2_MEMBERS:,} subscribers to a topic (v2 via novu-py, {V2_MEMBERS // 100} requests "
            f"of 100): {v2:.2f} s = {V2_MEMBERS / v2:,.0f} members/s = "
            f"{v2 / (bare_members * V2_MEMBERS / MEMBERS):.1f}x the same number of bare inserts"
        )
    finally:
        server.stop()
        factory.drop(settings)
        factory.close()
    # One section per database: this run replaces the previous run's section of its backend.
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    sections = RESULTS.read_text().strip().split("\n\n") if RESULTS.exists() else []
    kept = [section for section in sections if section and not section.startswith(lines[0])]
    RESULTS.write_text("\n\n".join([*kept, "\n".join(lines)]) + "\n")
    print(f"written to {RESULTS}")


async def _internal_ids(settings: Settings, environment_id: str) -> list[str]:
    database = Database(settings)
    try:
        async with database.session(write=False) as session:
            result = await session.execute(
                Subscriber.__table__.select()
                .with_only_columns(Subscriber.id)
                .where(Subscriber.environment_id == environment_id, Subscriber.subscriber_id.like("m%"))
            )
            return [row[0] for row in result]
    finally:
        await database.dispose()


if __name__ == "__main__":
    main()
