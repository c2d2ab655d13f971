"""Benchmark: CPU time of the delivery engine per in-app message.

A fresh database; a workflow with one in-app step (Liquid subject and body); N triggers
stored through the API (bulk triggers, one subscriber each, so N events and N notifications
with their first step jobs) by a server that runs no engine. Then the engine alone, in this
process (`build_worker`, the socket.io publisher of `herald serve` with no client
connected), runs every due job until idle; the CPU time of this process
(`time.process_time`, which includes aiosqlite's thread) divided by the messages stored is
the figure. `--topic` measures a topic trigger instead (one event; fan-out jobs included).

    python bench/engine_delivery.py                   # embedded SQLite, 5,000 messages, 3 rounds
    python bench/engine_delivery.py --postgres
    python bench/engine_delivery.py --count 2000 --profile   # cProfile of one round, top 40

The machines are noisy: compare against an earlier commit in the same conditions, alternating
runs (`git archive <commit> src | tar -x -C /tmp/base`, then the same command with
`PYTHONPATH=/tmp/base/src`, which that checkout's `herald` then shadows this one's).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import tempfile
import threading
import time
from pathlib import Path

if "--postgres" in sys.argv:
    os.environ["HERALD_TEST_DATABASE_URL"] = os.environ.get(
        "HERALD_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import socketio
import uvicorn
from seeding import seed_subscribers
from sqlalchemy import func, select
from tests.support import DatabaseFactory, free_port, read_credentials

from herald.app import create_app
from herald.config import Settings
from herald.db import Database
from herald.engine.process import build_worker
from herald.jobs.wakeup import JobWakeUp
from herald.logs import configure_logging
from herald.models import Message
from herald.realtime.socket_publisher import SocketPublisher

RESULTS = Path(__file__).resolve().parent / "results"
STEP = {
    "name": "Inbox",
    "type": "in_app",
    "controlValues": {
        "subject": "Order {{ payload.order.id }} shipped",
        "body": "Hi {{ subscriber.firstName }}, your {{ payload.n }} items are on their way.",
        "primaryAction": {
            "label": "Track",
            "redirect": {"url": "https://example.com/{{ payload.order.id }}"},
        },
    },
}


def serve(settings: Settings) -> tuple[str, uvicorn.Server, threading.Thread]:
    app = create_app(settings, run_worker=False)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}", server, thread


def store_triggers(url: str, key: str, count: int, round_no: int) -> None:
    with httpx.Client(base_url=url, headers={"Authorization": f"ApiKey {key}"}, timeout=60) as client:
        for start in range(0, count, 100):
            events = [
                {
                    "name": "bench",
                    "to": f"s{round_no}-{i}",
                    "payload": {"order": {"id": f"A-{i}"}, "n": i % 7},
                }
                for i in range(start, min(count, start + 100))
            ]
            response = client.post("/v1/events/trigger/bulk", json={"events": events})
            assert response.status_code == 201, response.text


async def run_engine(settings: Settings, profile: cProfile.Profile | None) -> tuple[int, float, float, float]:
    """Run every due job; (messages stored, CPU seconds, wall seconds, CPU seconds of the event
    loop's thread: the rest is the database driver's thread, aiosqlite's on SQLite)."""
    database = Database(settings)
    try:
        publisher = SocketPublisher(socketio.AsyncServer(async_mode="asgi"), database)
        worker = build_worker(database, settings, publisher, JobWakeUp())
        before = await _messages(database)
        cpu, wall, main = time.process_time(), time.perf_counter(), time.thread_time()
        if profile is not None:
            profile.enable()
        await worker.run_until_idle()
        if profile is not None:
            profile.disable()
        cpu, wall, main = time.process_time() - cpu, time.perf_counter() - wall, time.thread_time() - main
        return await _messages(database) - before, cpu, wall, main
    finally:
        await database.dispose()


async def _messages(database: Database) -> int:
    async with database.session(write=False) as session:
        return int((await session.execute(select(func.count(Message.id)))).scalar_one())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--count", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--topic", action="store_true", help="one topic trigger of --count members")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    configure_logging("warning")
    lines: list[str] = []

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    with tempfile.TemporaryDirectory() as work:
        factory = DatabaseFactory(Path(work))
        settings = factory.settings_for(Path(work) / "data", rate_limit_enabled=False, log_level="warning")
        try:
            url, server, thread = serve(settings)
            key = next(
                e.secret_key for e in read_credentials(settings).environments if e.name == "Development"
            )
            with httpx.Client(base_url=url, headers={"Authorization": f"ApiKey {key}"}) as client:
                response = client.post(
                    "/v2/workflows",
                    json={"name": "Bench", "workflowId": "bench", "active": True, "steps": [STEP]},
                )
                assert response.status_code == 201, response.text
            per_message: list[float] = []
            for round_no in range(args.rounds):
                if args.topic:
                    topic_key = f"topic-{round_no}"
                    asyncio.run(seed_subscribers(settings, args.count, f"t{round_no}", topic_key))
                    with httpx.Client(base_url=url, headers={"Authorization": f"ApiKey {key}"}) as client:
                        response = client.post(
                            "/v1/events/trigger",
                            json={"name": "bench", "to": [{"type": "Topic", "topicKey": topic_key}]},
                        )
                        assert response.status_code == 201, response.text
                else:
                    asyncio.run(seed_subscribers(settings, args.count, f"s{round_no}", None))
                    store_triggers(url, key, args.count, round_no)
                profile = cProfile.Profile() if args.profile and round_no == args.rounds - 1 else None
                stored, cpu, wall, main = asyncio.run(run_engine(settings, profile))
                assert stored == args.count, (stored, args.count)
                per_message.append(cpu / stored * 1000)
                report(
                    f"round {round_no + 1}: {stored} in-app messages, CPU {cpu:.2f} s "
                    f"({cpu / stored * 1000:.3f} ms/message; "
                    f"event loop's thread {main / stored * 1000:.3f}), "
                    f"wall {wall:.2f} s"
                )
                if profile is not None:
                    stats = pstats.Stats(profile)
                    stats.sort_stats("tottime").print_stats(40)
                    stats.sort_stats("cumulative").print_stats(60)
            server.should_exit = True
            thread.join(timeout=15)
            best = min(per_message)
            kind = "topic" if args.topic else "bulk"
            report(f"best CPU per delivered in-app message: {best:.3f} ms ({kind}, {args.count:,} a round)")
            name = (
                f"engine_delivery{'.topic' if args.topic else ''}{'.postgresql' if args.postgres else ''}.txt"
            )
            RESULTS.mkdir(exist_ok=True)
            (RESULTS / name).write_text("\n".join(lines) + "\n")
        finally:
            factory.drop(settings)
            factory.close()


if __name__ == "__main__":
    main()
