"""Benchmark: triggers and delivery, against a bare FastAPI baseline measured in the same run.

Herald runs as `herald serve` (API and engine in one process, uvicorn with uvloop and
httptools, rate limits off) on a fresh database; the baseline is a bare FastAPI app with one
endpoint that validates the same trigger body (Herald's own TriggerEventRequestDto), served by
uvicorn with the same settings. Load comes from `wrk` (apt install wrk) for throughput, and
from a lean asyncio client at a fixed rate for latency (`fixed_rate.py`).

Figures: single triggers/s vs the baseline and bulk events/s (100 per request), each followed
by how long the engine then took to store every in-app message (a busy server accepts triggers
first and expands them later; see `events.intake`) and the rate of the whole; trigger ->
in-app message stored latency (until the in-app job's transaction completes) p50/p99 at
500 triggers/s; a topic trigger to N subscribers until every in-app message is stored;
idle and loaded RSS of the server process.

    python bench/triggers.py                         # embedded SQLite
    python bench/triggers.py --postgres              # PostgreSQL (a scratch database is made;
                                                     # HERALD_BENCH_DATABASE_URL overrides the URL)
    python bench/triggers.py --topic-size 100000 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if "--postgres" in sys.argv:
    os.environ["HERALD_TEST_DATABASE_URL"] = os.environ.get(
        "HERALD_BENCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
    )
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
import uvicorn
from fastapi import FastAPI
from fixed_rate import collect_garbage_first, fixed_rate
from seeding import seed_subscribers
from sqlalchemy import func, select
from tests.support import POSTGRES_URL, TEST_MASTER_KEY, DatabaseFactory, free_port, read_credentials

from herald.config import Settings
from herald.db import Database
from herald.events.schemas import TriggerEventRequestDto
from herald.kit.ids import new_id
from herald.models import Job, Message

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
WORKFLOW = {
    "name": "Bench",
    "workflowId": "bench",
    "active": True,
    "steps": [
        {
            "name": "Inbox",
            "type": "in_app",
            "controlValues": {
                "subject": "Order {{ payload.order.id }}",
                "body": "Hi {{ subscriber.subscriberId }}",
            },
        }
    ],
}
TRIGGER = {"name": "bench", "to": "subscriber-1", "payload": {"order": {"id": "A-1"}, "n": 3}}
UVICORN_OPTIONS = {"log_config": None, "access_log": False, "server_header": False, "proxy_headers": False}


def baseline_app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/events/trigger", status_code=201)
    async def trigger(body: TriggerEventRequestDto) -> dict[str, Any]:
        return {"data": {"acknowledged": True, "status": "processed", "transactionId": new_id()}}

    return app


def serve_baseline(port: int) -> None:
    uvicorn.run(baseline_app(), host="127.0.0.1", port=port, **UVICORN_OPTIONS)  # type: ignore[arg-type]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process (all its threads) has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("server exited (see its log)")
        try:
            httpx.get(f"{url}/v1/health-check", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def wrk(url: str, path: str, body: Any, headers: dict[str, str], seconds: int, connections: int) -> float:
    """Requests per second of successful (2xx) answers."""
    script = Path(tempfile.mkdtemp()) / "post.lua"
    header_lines = "".join(f'wrk.headers["{k}"] = "{v}"\n' for k, v in headers.items())
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f"{header_lines}wrk.body = [[{json.dumps(body)}]]\n"
    )
    result = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), f"{url}{path}"],
        capture_output=True,
        text=True,
        check=True,
    )
    output = result.stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    seconds_taken = float(re.search(r"requests in ([\d.]+)s", output).group(1))  # type: ignore[union-attr]
    failed = int(non_2xx.group(1)) if non_2xx else 0
    if failed:
        print(f"  warning: {failed} non-2xx answers", file=sys.stderr)
    return (total - failed) / seconds_taken


async def _scalar(settings: Settings, statement: Any) -> Any:
    database = Database(settings)
    try:
        async with database.session(write=False) as session:
            return (await session.execute(statement)).scalar()
    finally:
        await database.dispose()


async def latencies(settings: Settings, sent: dict[str, tuple[float, float]]) -> list[float]:
    """Milliseconds from sending each trigger until its in-app message was stored: the later of
    its in-app job's completion and the trigger's answer (a first in-app step runs in the
    trigger's transaction, whose commit comes after the job's `finished_at` and before the
    answer)."""
    database = Database(settings)
    try:
        async with database.session(write=False) as session:
            rows = await session.execute(
                select(Message.transaction_id, Job.finished_at)
                .join(Job, Job.id == Message.job_id)
                .where(Message.transaction_id.in_(list(sent)))
            )
            done = {tid: finished for tid, finished in rows if finished is not None}
    finally:
        await database.dispose()
    return [
        (max(done[tid].timestamp(), answered) - started) * 1000
        for tid, (started, answered) in sent.items()
        if tid in done
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--duration", type=int, default=10, help="seconds per throughput run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--single-rounds", type=int, default=3, help="baseline/single pairs, alternated")
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--low-rate", type=int, default=50, help="a second latency run at this rate")
    parser.add_argument("--latency-runs", type=int, default=1, help="runs at --rate, one after another")
    parser.add_argument("--topic-size", type=int, default=100_000)
    parser.add_argument("--topic-timeout", type=float, default=600)
    parser.add_argument("--baseline-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_server:
        serve_baseline(args.baseline_server)
        return

    work_dir = Path(tempfile.mkdtemp(prefix="herald-bench-"))
    factory = DatabaseFactory(work_dir)
    settings = factory.settings_for(work_dir / "data")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_")}
    environment.update(
        HERALD_DATA_DIR=str(settings.data_dir),
        HERALD_MASTER_KEY=TEST_MASTER_KEY,
        HERALD_RATE_LIMIT_ENABLED="false",
        HERALD_LOG_LEVEL="warning",
    )
    if settings.database_url:
        environment["HERALD_DATABASE_URL"] = settings.database_url
    port, baseline_port = free_port(), free_port()
    server_log_path = work_dir / "herald-serve.log"
    server_log = server_log_path.open("wb")
    herald = subprocess.Popen(
        [sys.executable, "-m", "herald", "serve", "--port", str(port)],
        env=environment,
        stderr=server_log,
    )
    baseline = subprocess.Popen(
        [sys.executable, __file__, "--baseline-server", str(baseline_port)], stderr=subprocess.DEVNULL
    )
    url, baseline_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{baseline_port}"
    lines: list[str] = []

    def report(line: str) -> None:
        print(line, flush=True)
        lines.append(line)

    try:
        wait_until_up(url, herald)
        wait_until_up(baseline_url, baseline)
        key = next(e.secret_key for e in read_credentials(settings).environments if e.name == "Development")
        headers = {"Authorization": f"ApiKey {key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            assert client.post("/v2/workflows", json=WORKFLOW).status_code == 201
            assert client.post("/v2/subscribers", json={"subscriberId": "subscriber-1"}).status_code == 201
        database = "PostgreSQL" if POSTGRES_URL else "SQLite"
        cores = os.cpu_count()
        report(
            f"Herald trigger benchmark ({database}, {cores} cores, "
            f"wrk -c{args.connections}, {args.duration}s runs)"
        )
        idle = rss_mb(herald.pid)
        report(f"idle RSS: {idle:.0f} MB (target < 150 MB)")

        peak = 0.0
        for pair in range(1, args.single_rounds + 1):
            # Baseline and Herald one after the other, `--single-rounds` times: the machine's
            # speed drifts, so each ratio compares runs a few seconds apart.
            cpu_before = cpu_seconds(baseline.pid)
            base_rps = wrk(baseline_url, "/v1/events/trigger", TRIGGER, {}, args.duration, args.connections)
            base_cpu_ms = (cpu_seconds(baseline.pid) - cpu_before) * 1000 / (base_rps * args.duration)
            cpu_before = cpu_seconds(herald.pid)
            single = wrk(url, "/v1/events/trigger", TRIGGER, headers, args.duration, args.connections)
            single_cpu_ms = (cpu_seconds(herald.pid) - cpu_before) * 1000 / (single * args.duration)
            peak = max(peak, rss_mb(herald.pid))
            report(f"round {pair}: baseline (bare FastAPI, same body validation): {base_rps:,.0f} req/s")
            report(
                f"  single triggers accepted: {single:,.0f} /s = {single / base_rps:.0%} of baseline "
                "(target >= 50%)"
            )
            report(
                f"  server CPU per request (steadier than req/s on a shared machine): baseline "
                f"{base_cpu_ms:.3f} ms, Herald {single_cpu_ms:.3f} ms (API and the engine's in-app work) "
                f"= {base_cpu_ms / single_cpu_ms:.0%} of baseline"
            )
            report(backlog("single triggers", single * args.duration, args.duration, drain(settings, herald)))
        bulk_body = {"events": [TRIGGER] * 100}
        bulk = wrk(url, "/v1/events/trigger/bulk", bulk_body, headers, args.duration, 4) * 100
        peak = max(peak, rss_mb(herald.pid))
        report(f"bulk triggers accepted: {bulk:,.0f} events/s (target >= 20,000)")
        report(backlog("bulk events", bulk * args.duration, args.duration, drain(settings, herald)))
        peak = max(peak, rss_mb(herald.pid))

        # The first run at --rate comes right after the bulk run (its writes may still be being
        # flushed); --latency-runs repeats it, each run reported.
        for run, rate in enumerate([args.rate] * args.latency_runs + [args.low_rate]):
            collect_garbage_first()
            started = time.time()
            sent = asyncio.run(fixed_rate(url, headers, TRIGGER, rate, args.duration, run))
            achieved = len(sent) / (time.time() - started)
            drain(settings, herald)
            measured = sorted(asyncio.run(latencies(settings, sent)))
            p50 = statistics.median(measured)
            p99 = measured[max(0, int(len(measured) * 0.99) - 1)]
            report(
                f"trigger -> in-app stored, offered {rate}/s (sent {achieved:.0f}/s): p50 {p50:.1f} ms, "
                f"p99 {p99:.1f} ms over {len(measured)} triggers (targets at 500/s: 20 / 100 ms)"
            )

        asyncio.run(seed_subscribers(settings, args.topic_size, "member", "everyone"))
        peak = max(peak, rss_mb(herald.pid))
        start = time.monotonic()
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            response = client.post(
                "/v1/events/trigger",
                json={
                    "name": "bench",
                    "to": [{"type": "Topic", "topicKey": "everyone"}],
                    "transactionId": "topic",
                },
            )
            assert response.status_code == 201, response.text
        count = 0
        while time.monotonic() - start < args.topic_timeout:
            time.sleep(1)
            peak = max(peak, rss_mb(herald.pid))
            count = asyncio.run(
                _scalar(settings, select(func.count(Message.id)).where(Message.transaction_id == "topic"))
            )
            if count >= args.topic_size:
                break
        elapsed = time.monotonic() - start
        report(
            f"topic of {args.topic_size:,} subscribers: {count:,} in-app messages stored in {elapsed:.1f} s "
            f"({count / elapsed:,.0f} messages/s; target: all within 20 s)"
        )
        report(f"loaded RSS (peak sampled): {peak:.0f} MB (target < 400 MB)")
    finally:
        for process in (herald, baseline):
            process.terminate()
            process.wait(timeout=30)
        server_log.close()
        logged = server_log_path.read_text(errors="replace").splitlines()
        errors = [line for line in logged if '"error"' in line]
        if errors:
            print(f"  server logged {len(errors)} errors; the last: {errors[-1][:2000]}", file=sys.stderr)
        factory.drop(settings)
        factory.close()
        shutil.rmtree(work_dir, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    name = "triggers.postgresql.txt" if POSTGRES_URL else "triggers.txt"
    (RESULTS / name).write_text("\n".join(lines) + "\n")


def drain(settings: Settings, herald: subprocess.Popen[bytes], timeout: float = 600) -> float:
    """Wait until the engine has worked off every job (so runs do not overlap); the seconds it
    took (to 0.2 s)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        pending = asyncio.run(
            _scalar(settings, select(func.count(Job.id)).where(Job.status.in_(["pending", "running"])))
        )
        if not pending:
            return time.monotonic() - started
        time.sleep(0.2)
    print("  warning: jobs still pending after the drain timeout", file=sys.stderr)
    return time.monotonic() - started


def backlog(what: str, accepted: float, seconds: float, drained: float) -> str:
    """What was left to expand and deliver when the load stopped, and the rate of the whole."""
    return (
        f"  {what}: every in-app message stored {drained:.1f} s after the load stopped; "
        f"{accepted / (seconds + drained):,.0f} /s from first trigger to last message"
    )


if __name__ == "__main__":
    main()
