"""Benchmark: the CPU cost of the trigger API itself, in one process, as instructions per event.

Wall-clock rates on this shared machine move by a third within minutes; the number of
instructions a trigger costs does not. This drives Herald's ASGI app in-process (no sockets,
no HTTP client: the count is the server's own work, from its middleware to its commit) with
single or bulk triggers from a few concurrent callers, the worker off unless asked, the garbage
collector tuned as `herald serve` tunes it, and counts the instructions of the measured part
under valgrind's callgrind (apt install valgrind). Without `--instructions` it reports CPU time
per event instead (quick, but as noisy as the machine).

    python bench/api_cost.py --instructions --bulk --requests 150 --callers 4
    python bench/api_cost.py --instructions --requests 3000 --callers 32      # single triggers
    python bench/api_cost.py --bulk --requests 600                            # CPU time only

Compare two trees by running each one's copy of this script (the server code is imported from
the tree the script sits in).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from triggers import TRIGGER, WORKFLOW

from herald.config import Settings

Message = dict[str, Any]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bulk", action="store_true", help="bulk requests of 100 events")
    parser.add_argument("--requests", type=int, default=150)
    parser.add_argument("--callers", type=int, default=4)
    parser.add_argument("--worker", action="store_true", help="run the engine in the process too")
    parser.add_argument("--instructions", action="store_true", help="count them under callgrind")
    parser.add_argument("--callgrind-run", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    events = args.requests * (100 if args.bulk else 1)
    if args.instructions:
        print(f"instructions per event: {instructions(sys.argv[1:], events):,.0f}")
        return
    from tests.support import DatabaseFactory

    work = Path(tempfile.mkdtemp(prefix="herald-api-cost-"))
    factory = DatabaseFactory(work)  # migrates a template database (outside the event loop)
    settings = factory.settings_for(work / "data", rate_limit_enabled=False)
    try:
        cpu_seconds = asyncio.run(drive(settings, args, toggle_callgrind=args.callgrind_run))
    finally:
        factory.drop(settings)
        factory.close()
    if not args.callgrind_run:
        print(f"CPU per event: {cpu_seconds / events * 1e6:.1f} us ({events:,} events)")


def instructions(arguments: list[str], events: int) -> float:
    """This script again under callgrind, instrumented only while it drives the requests."""
    arguments = [argument for argument in arguments if argument != "--instructions"]
    with tempfile.TemporaryDirectory() as work:
        output = Path(work) / "callgrind.out"
        subprocess.run(
            [
                "valgrind",
                "--tool=callgrind",
                "--instr-atstart=no",
                f"--callgrind-out-file={output}",
                sys.executable,
                __file__,
                *arguments,
                "--callgrind-run",
            ],
            check=True,
            capture_output=True,
        )
        totals = re.search(r"^totals: (\d+)", output.read_text(errors="replace"), re.MULTILINE)
        if totals is None:
            raise RuntimeError("callgrind wrote no totals")
        return int(totals[1]) / events


async def drive(settings: Settings, args: argparse.Namespace, *, toggle_callgrind: bool) -> float:
    """Start the app on its database, warm it up, then send the requests; the CPU seconds the
    measured part took."""
    from tests.support import read_credentials

    from herald.app import create_app
    from herald.kit.long_running import tune_garbage_collection_for_serving
    from herald.logs import configure_logging

    configure_logging("warning")
    app = create_app(settings, run_worker=args.worker)
    lifespan = _Lifespan(app)
    await lifespan.start()
    try:
        credentials = await asyncio.to_thread(read_credentials, settings)
        key = next(e.secret_key for e in credentials.environments if e.name == "Development")
        assert await _post(app, key, "/v2/workflows", json.dumps(WORKFLOW).encode()) == 201
        subscriber = json.dumps({"subscriberId": "subscriber-1"}).encode()
        assert await _post(app, key, "/v2/subscribers", subscriber) == 201
        path = "/v1/events/trigger/bulk" if args.bulk else "/v1/events/trigger"
        body = json.dumps({"events": [TRIGGER] * 100} if args.bulk else TRIGGER).encode()
        for _ in range(20):
            await _post(app, key, path, body)
        tune_garbage_collection_for_serving()
        left = args.requests

        async def caller() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                assert await _post(app, key, path, body) == 201

        _callgrind(toggle_callgrind, "on")
        started = time.process_time()
        await asyncio.gather(*(caller() for _ in range(args.callers)))
        spent = time.process_time() - started
        _callgrind(toggle_callgrind, "off")
        return spent
    finally:
        await lifespan.stop()


def _callgrind(toggle: bool, state: str) -> None:
    if toggle:
        subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], check=True, capture_output=True)


async def _post(app: Any, key: str, path: str, body: bytes) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", f"ApiKey {key}".encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    statuses: list[int] = []

    async def receive() -> Message:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope, receive, send)
    return statuses[0]


class _Lifespan:
    """The app's startup and shutdown, as an ASGI server runs them."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.to_app: asyncio.Queue[Message] = asyncio.Queue()
        self.from_app: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self.task = asyncio.create_task(self.app(scope, self.to_app.get, self.from_app.put))
        await self.to_app.put({"type": "lifespan.startup"})
        answer = await self.from_app.get()
        if answer["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"startup failed: {answer}")

    async def stop(self) -> None:
        await self.to_app.put({"type": "lifespan.shutdown"})
        await self.from_app.get()
        if self.task is not None:
            await self.task


if __name__ == "__main__":
    main()
