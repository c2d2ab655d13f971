"""Benchmark: reading the activity feed and the messages list over 100,000 notifications.

Loads 100,000 notifications (1,000 subscribers, one workflow of two steps: two jobs, two
execution details and one in-app message each) straight into a fresh database, then measures
the median latency of the read endpoints against a trivial authenticated round trip
(GET /v1/environments/me) measured in the same run.

    python bench/activity.py                      # embedded SQLite
    HERALD_BENCH_DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/postgres \\
        python bench/activity.py                  # PostgreSQL (a scratch database is made)
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if os.environ.get("HERALD_BENCH_DATABASE_URL"):
    os.environ["HERALD_TEST_DATABASE_URL"] = os.environ["HERALD_BENCH_DATABASE_URL"]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from sqlalchemy import insert, text
from tests.support import POSTGRES_URL, DatabaseFactory, RunningServer, start_server

from herald.config import Settings
from herald.db import Database
from herald.kit.ids import new_id
from herald.kit.time import utc_now
from herald.logs import configure_logging
from herald.models import ExecutionDetail, Job, Message, Notification, Subscriber, Workflow, WorkflowStep

NOTIFICATIONS = 100_000
SUBSCRIBERS = 1_000
REPEATS = 30
RESULTS = Path(__file__).parent / "results" / "activity.txt"


async def analyze(settings: Settings) -> None:
    database = Database(settings)
    try:
        async with database.engine.connect() as connection:
            await connection.execute(text("ANALYZE"))
            await connection.commit()
    finally:
        await database.dispose()


async def load(settings: Settings, environment_id: str, organization_id: str) -> tuple[str, str, str]:
    """Insert the data set; the id of a notification in the middle, its transaction and subscriber."""
    owner = {"environment_id": environment_id, "organization_id": organization_id}
    now = utc_now()
    stamps = {"created_at": now, "updated_at": now, **owner}
    workflow_id = new_id()
    subscribers = [
        {"id": new_id(), "subscriber_id": f"s{n:04d}", "email": f"s{n}@example.com", "channels": [], **stamps}
        for n in range(SUBSCRIBERS)
    ]
    steps = [("inbox", "in_app"), ("wait", "delay")]
    database = Database(settings)
    try:
        async with database.session(write=True) as session:
            await session.execute(insert(Subscriber), subscribers)
            await session.execute(
                insert(Workflow),
                [
                    {
                        "id": workflow_id,
                        "identifier": "bench",
                        "name": "Bench",
                        "tags": [],
                        "preferences": {},
                        **stamps,
                    }
                ],
            )
            await session.execute(
                insert(WorkflowStep),
                [
                    {
                        "id": new_id(),
                        "workflow_id": workflow_id,
                        "step_id": s,
                        "name": s,
                        "type": t,
                        "position": i,
                        **stamps,
                    }
                    for i, (s, t) in enumerate(steps)
                ],
            )
        for start in range(0, NOTIFICATIONS, 10_000):
            notifications, jobs, details, messages = [], [], [], []
            for n in range(start, start + 10_000):
                subscriber = subscribers[n % SUBSCRIBERS]["id"]
                notification = new_id()
                transaction = f"tx-{n}"
                notifications.append(
                    {
                        "id": notification,
                        "event_id": new_id(),
                        "transaction_id": transaction,
                        "subscriber_id": subscriber,
                        "workflow_id": workflow_id,
                        "workflow_identifier": "bench",
                        "workflow_name": "Bench",
                        "status": "completed",
                        "channels": ["in_app", "delay"],
                        "tags": [],
                        "severity": "none",
                        "critical": False,
                        "payload": {"n": n},
                        "overrides": {},
                        **stamps,
                    }
                )
                for step_id, step_type in steps:
                    job = new_id()
                    jobs.append(
                        {
                            "id": job,
                            "kind": "workflow_step",
                            "status": "completed",
                            "args": {"step_id": step_id},
                            "run_at": now,
                            "attempts": 1,
                            "max_attempts": 5,
                            "transaction_id": transaction,
                            "notification_id": notification,
                            **stamps,
                        }
                    )
                    details.append(
                        {
                            "id": new_id(),
                            "notification_id": notification,
                            "job_id": job,
                            "step_id": step_id,
                            "status": "Success",
                            "detail": "done",
                            **stamps,
                        }
                    )
                    if step_type == "in_app":
                        messages.append(
                            {
                                "id": new_id(),
                                "notification_id": notification,
                                "job_id": job,
                                "subscriber_id": subscriber,
                                "transaction_id": transaction,
                                "workflow_id": workflow_id,
                                "workflow_identifier": "bench",
                                "step_id": step_id,
                                "channel": "in_app",
                                "status": "sent",
                                "content": f"Message {n}",
                                "cta": {},
                                "tags": [],
                                "severity": "none",
                                "critical": False,
                                "seen": False,
                                "read": False,
                                "archived": False,
                                **stamps,
                            }
                        )
            async with database.session(write=True) as session:
                for model, rows in ((Notification, notifications), (Job, jobs), (ExecutionDetail, details)):
                    await session.execute(insert(model), rows)
                await session.execute(insert(Message), messages)
        middle = NOTIFICATIONS // 2
        return notifications[middle % 10_000]["id"], f"tx-{NOTIFICATIONS - 10_000 + middle % 10_000}", "s0042"
    finally:
        await database.dispose()


def median_ms(http: httpx.Client, path: str, params: dict[str, Any] | None = None) -> float:
    http.get(path, params=params).raise_for_status()
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        http.get(path, params=params).raise_for_status()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> None:
    configure_logging("warning")
    work_dir = Path(tempfile.mkdtemp(prefix="herald-bench-"))
    factory = DatabaseFactory(work_dir)
    settings = factory.settings_for(work_dir / "data", rate_limit_enabled=False)
    server: RunningServer = start_server(settings)
    lines: list[str] = []

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    try:
        backend = "PostgreSQL" if POSTGRES_URL else "SQLite (embedded)"
        report(
            f"Herald activity benchmark on {backend}, {os.cpu_count()} CPUs, {NOTIFICATIONS:,} notifications"
        )
        started = time.perf_counter()
        notification_id, transaction_id, subscriber_id = asyncio.run(
            load(settings, server.environment_ids["Development"], server.credentials.organization_id)
        )
        report(f"(setup: loaded directly in {time.perf_counter() - started:.1f} s)")
        with server.client() as http:
            baseline = median_ms(http, "/v1/environments/me")
            report(f"trivial round trip (GET /v1/environments/me), median of {REPEATS}: {baseline:.2f} ms")
            cases: list[tuple[str, str, dict[str, Any] | None]] = [
                ("feed, first page of 10", "/v1/notifications", None),
                ("feed, first page of 50", "/v1/notifications", {"limit": 50}),
                ("feed, page 100 of 10", "/v1/notifications", {"page": 100}),
                ("feed, one subscriber", "/v1/notifications", {"subscriberIds": subscriber_id}),
                ("feed, one transaction", "/v1/notifications", {"transactionId": transaction_id}),
                ("feed, channel in_app", "/v1/notifications", {"channels": "in_app"}),
                ("feed, search", "/v1/notifications", {"search": transaction_id}),
                ("one notification", f"/v1/notifications/{notification_id}", None),
                ("messages, first page of 10 (+ totalCount)", "/v1/messages", None),
                ("messages, one subscriber", "/v1/messages", {"subscriberId": subscriber_id}),
                ("messages, one transaction", "/v1/messages", {"transactionId": transaction_id}),
            ]
            # SQLite has no planner statistics until ANALYZE (or PRAGMA optimize) runs; PostgreSQL's
            # autovacuum gathers them on its own, though not yet right after a bulk load.
            for phase in ("with",) if POSTGRES_URL else ("without", "with"):
                if phase == "with":
                    asyncio.run(analyze(settings))
                report(f"-- {phase} planner statistics (ANALYZE)")
                for name, path, params in cases:
                    took = median_ms(http, path, params)
                    report(f"{name}: {took:.2f} ms = {took / baseline:.1f}x the round trip")
    finally:
        server.stop()
        factory.drop(settings)
        factory.close()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    sections = RESULTS.read_text().strip().split("\n\n") if RESULTS.exists() else []
    kept = [section for section in sections if section and not section.startswith(lines[0])]
    RESULTS.write_text("\n\n".join([*kept, "\n".join(lines)]) + "\n")
    print(f"written to {RESULTS}")


if __name__ == "__main__":
    main()
