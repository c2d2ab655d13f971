"""Benchmark: idle Inbox sockets on one Herald process (target: 10,000 under 300 MB RSS).

Starts `herald serve` as its own process on a fresh embedded database, measures its RSS idle
(the baseline), then opens socket.io connections as @novu/js does (Engine.IO 4 over websocket,
token in the query, a browser's handshake headers, namespace `/` joined) in steps of
1,000 / 5,000 / 10,000, and measures the server's RSS at each step once the connections are
idle. After the last step it stays idle past a ping interval, counts the sockets still open and
the server pings they answered, and measures once more.

The clients run in this process as plain asyncio protocols (no task, no websocket library per
socket), so opening thousands of sockets is bounded by the server, not by the clients.

    python bench/sockets.py              # steps 1000 5000 10000
    python bench/sockets.py 500 2000     # other steps
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "sockets.txt"
STEPS = [int(arg) for arg in sys.argv[1:]] or [1_000, 5_000, 10_000]
CONNECT_CONCURRENCY = 20
PING_INTERVAL_SECONDS = 25
BROWSER_HEADERS = (
    "Pragma: no-cache\r\nCache-Control: no-cache\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36\r\n"
    "Origin: http://localhost:5173\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
)


class InboxClient(asyncio.Protocol):
    """One idle @novu/js-like socket: websocket handshake, Engine.IO open, join `/`, answer pings."""

    def __init__(self, host: str, target: str, joined: asyncio.Future[None]) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        self.request = (
            f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n{BROWSER_HEADERS}\r\n"
        ).encode()
        self.joined = joined
        self.buffer = bytearray()
        self.upgraded = False
        self.open = False
        self.pings = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(self.request)  # type: ignore[attr-defined]
        self.open = True

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self._fail(f"connection lost: {exc!r}")

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end])
            del self.buffer[: end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self._fail(f"no upgrade: {head[:120]!r}")
                return
            self.upgraded = True
        while (frame := self._next_frame()) is not None:
            opcode, payload = frame
            if opcode == 0x1:
                self._packet(payload.decode())
            elif opcode == 0x9:
                self._send(0xA, payload)
            elif opcode == 0x8:
                self._fail("closed by the server")

    def _next_frame(self) -> tuple[int, bytes] | None:
        buffer = self.buffer
        if len(buffer) < 2:
            return None
        opcode, length, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
        if length == 126:
            if len(buffer) < 4:
                return None
            length, start = struct.unpack_from("!H", buffer, 2)[0], 4
        elif length == 127:
            if len(buffer) < 10:
                return None
            length, start = struct.unpack_from("!Q", buffer, 2)[0], 10
        if len(buffer) < start + length:
            return None
        payload = bytes(buffer[start : start + length])
        del buffer[: start + length]
        return opcode, payload

    def _packet(self, packet: str) -> None:
        if packet == "2":
            self.pings += 1
            self._send(0x1, b"3")
        elif packet.startswith("0{"):
            self._send(0x1, b"40")
        elif packet.startswith("40"):
            if not self.joined.done():
                self.joined.set_result(None)
        elif packet.startswith("44"):
            self._fail(f"refused: {packet}")

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        assert self.transport is not None and len(payload) < 126
        self.transport.write(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def _fail(self, why: str) -> None:
        if not self.joined.done():
            self.joined.set_exception(ConnectionError(why))
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


async def open_sockets(port: int, target: str, count: int) -> tuple[list[InboxClient], int]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
    clients: list[InboxClient] = []

    async def one() -> None:
        async with gate:
            joined: asyncio.Future[None] = loop.create_future()
            _, client = await loop.create_connection(
                lambda: InboxClient(f"127.0.0.1:{port}", target, joined), "127.0.0.1", port
            )
            await asyncio.wait_for(joined, 60)
            clients.append(client)

    results = await asyncio.gather(*(one() for _ in range(count)), return_exceptions=True)
    failures = [result for result in results if isinstance(result, BaseException)]
    if failures:
        print(f"{len(failures)} sockets failed, first: {failures[0]!r}", file=sys.stderr)
    return clients, len(failures)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def settled_rss_mb(pid: int) -> float:
    """Median of a few readings a second apart, once the server is idle."""
    readings = []
    for _ in range(5):
        readings.append(rss_mb(pid))
        await asyncio.sleep(1)
    return statistics.median(readings)


def raise_fd_limit(wanted: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(max(soft, wanted), hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


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
    lines: list[str] = []
    clients: list[InboxClient] = []
    try:
        token = await _session_token(f"http://127.0.0.1:{port}", environment)
        await asyncio.sleep(2)
        baseline = await settled_rss_mb(server.pid)
        lines.append(f"idle server, no sockets (baseline): RSS {baseline:.1f} MB")
        print(lines[-1], flush=True)

        target = f"/socket.io/?EIO=4&transport=websocket&token={token}"
        for step in STEPS:
            started = time.perf_counter()
            opened, failed = await open_sockets(port, target, step - len(clients))
            clients += opened
            took = time.perf_counter() - started
            await asyncio.sleep(3)  # idle: let the handshake garbage go
            rss = await settled_rss_mb(server.pid)
            lines.append(_step_line(len(clients), rss, baseline, f"opened {len(opened)} in {took:.1f} s"))
            if failed:
                lines[-1] += f", {failed} failed"
            print(lines[-1], flush=True)

        await asyncio.sleep(PING_INTERVAL_SECONDS + 5)  # a whole ping round, all sockets idle
        rss = await settled_rss_mb(server.pid)
        alive = sum(client.open for client in clients)
        answered = sum(client.pings for client in clients)
        idle_note = f"after {PING_INTERVAL_SECONDS + 5} s idle, {answered} pings answered"
        lines.append(_step_line(alive, rss, baseline, idle_note))
        print(lines[-1], flush=True)
        met = alive >= 10_000 and rss < 300
        lines.append(f"target: 10,000 idle sockets under 300 MB RSS ({'met' if met else 'NOT met'})")
        write_results(lines)
    finally:
        for client in clients:
            if client.transport is not None:
                client.transport.close()
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _step_line(sockets: int, rss: float, baseline: float, note: str) -> str:
    per_socket_kb = (rss - baseline) * 1024 / max(sockets, 1)
    return (
        f"{sockets:>6} idle sockets: RSS {rss:.1f} MB, {rss / baseline:.2f}x baseline, "
        f"{per_socket_kb:.1f} KB per socket above baseline ({note})"
    )


async def _session_token(base: str, environment: dict[str, str]) -> str:
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
            check=True,
        )
        identifier = _development_identifier(keys.stdout)
        session = await client.post(
            "/v1/inbox/session",
            json={"applicationIdentifier": identifier, "subscriber": {"subscriberId": "bench-subscriber"}},
        )
        session.raise_for_status()
        token: str = session.json()["data"]["token"]
        return token


def write_results(lines: list[str]) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        "bench/sockets.py: idle socket.io connections on one `herald serve` process (embedded SQLite)\n"
        + "\n".join(lines)
        + "\n"
    )
    print(f"written {RESULTS.relative_to(ROOT)}")


def _development_identifier(keys_json: str) -> str:
    credentials = json.loads(keys_json)
    return next(env["identifier"] for env in credentials["environments"] if env["name"] == "Development")


if __name__ == "__main__":
    asyncio.run(main())
