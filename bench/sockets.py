"""Benchmark: idle Inbox sockets on one Herald process (target: 10,000 under 300 MB RSS).

Starts `herald serve` as its own process on a fresh embedded database, measures its RSS idle
(the baseline), then opens socket.io connections as @novu/js does (Engine.IO 4 over
websocket, token in the query) in steps of 1,000 / 5,000 / 10,000, answering the server's
pings, and measures the server's RSS at each step once the connections are idle.
The clients run in this process, on other file descriptors than the server's.

    python bench/sockets.py              # steps 1000 5000 10000
    python bench/sockets.py 500 2000     # other steps
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import websockets

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "sockets.txt"
STEPS = [int(arg) for arg in sys.argv[1:]] or [1_000, 5_000, 10_000]
CONNECT_CONCURRENCY = 10


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def raise_fd_limit(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, wanted), hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


async def hold_socket(
    url: str, ready: asyncio.Queue[bool], stop: asyncio.Event, gate: asyncio.Semaphore
) -> None:
    """One idle @novu/js-like socket: open, join namespace `/`, answer pings until `stop`.
    `gate` bounds how many handshakes run at once (as browsers arrive spread over time)."""
    handshaking = True
    await gate.acquire()
    try:
        async with websockets.connect(url, max_size=2**20, open_timeout=60, ping_interval=None) as socket:
            opened = await socket.recv()
            assert str(opened).startswith("0"), opened
            await socket.send("40")
            joined = await socket.recv()
            assert str(joined).startswith("40"), joined
            handshaking = False
            gate.release()
            await ready.put(True)
            async for packet in socket:  # until cancelled
                if packet == "2":
                    await socket.send("3")
    except Exception as error:  # a refused or dropped socket counts as not ready
        if handshaking:
            gate.release()
        await ready.put(False)
        if not stop.is_set():
            print(f"socket failed: {error!r}", file=sys.stderr)


async def main() -> None:
    limit = raise_fd_limit(max(STEPS) + 1_000)
    if limit < max(STEPS) + 100:
        raise SystemExit(f"ulimit -n is {limit}: too low for {max(STEPS)} sockets")
    port = free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="herald-bench-sockets-"))
    environment = {
        **os.environ,
        "HERALD_DATA_DIR": str(data_dir),
        "HERALD_LOG_LEVEL": "warning",
        "HERALD_RATE_LIMIT_ENABLED": "false",
    }
    environment.pop("HERALD_DATABASE_URL", None)
    environment.pop("HERALD_REDIS_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "herald", "serve", "--port", str(port)],
        env=environment,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)),
    )
    base = f"http://127.0.0.1:{port}"
    lines: list[str] = []
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            for _ in range(300):
                try:
                    if (await client.get("/v1/health-check")).status_code < 500:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            keys = subprocess.run(
                [sys.executable, "-m", "herald", "keys", "--json"],
                env=environment,
                capture_output=True,
                text=True,
            )
            identifier = _development_identifier(keys.stdout)
            session = await client.post(
                "/v1/inbox/session",
                json={
                    "applicationIdentifier": identifier,
                    "subscriber": {"subscriberId": "bench-subscriber"},
                },
            )
            session.raise_for_status()
            token = session.json()["data"]["token"]
        await asyncio.sleep(2)
        baseline = rss_mb(server.pid)
        lines.append(f"idle server, no sockets (baseline): RSS {baseline:.1f} MB")
        print(lines[-1], flush=True)

        url = f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket&token={token}"
        ready: asyncio.Queue[bool] = asyncio.Queue()
        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        connected = 0

        for step in STEPS:
            started = time.perf_counter()
            wanted = step - connected
            for _ in range(wanted):
                tasks.append(asyncio.create_task(hold_socket(url, ready, stop, gate)))
            ok = 0
            for _ in range(wanted):
                ok += await asyncio.wait_for(ready.get(), timeout=300)
            connected += ok
            took = time.perf_counter() - started
            await asyncio.sleep(5)  # idle: let the handshake garbage go
            rss = rss_mb(server.pid)
            per_socket_kb = (rss - baseline) * 1024 / max(connected, 1)
            lines.append(
                f"{connected:>6} idle sockets: RSS {rss:.1f} MB, {rss / baseline:.2f}x baseline, "
                f"{per_socket_kb:.1f} KB per socket above baseline (opened {wanted} in {took:.1f} s)"
            )
            print(lines[-1], flush=True)
        write_results(lines)
    finally:
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def write_results(lines: list[str]) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        "bench/sockets.py: idle socket.io connections on one `herald serve` process (embedded SQLite)\n"
        + "\n".join(lines)
        + "\ntarget: 10,000 idle sockets under 300 MB RSS\n"
    )
    print(f"written {RESULTS.relative_to(ROOT)}")


def _development_identifier(keys_json: str) -> str:
    credentials = json.loads(keys_json)
    return next(env["identifier"] for env in credentials["environments"] if env["name"] == "Development")


if __name__ == "__main__":
    asyncio.run(main())
