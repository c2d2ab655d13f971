"""Triggers sent at a fixed rate by a lean HTTP/1.1 client, for latency measurements.

httpx's async client costs some 10 ms of CPU per request on a busy 2-core machine: asked for
500 requests a second it got 68 through to a bare FastAPI endpoint, so the latency it measured
was its own queue's. This client writes each request as bytes on a pool of keep-alive
connections and reads back the status line, the headers and `Content-Length` bytes of body:
a few hundred microseconds per request, so the offered rate is what the server receives.

The client's own garbage collector stays off while it sends (the caller collects first, with
`collect_garbage_first`): this process has imported Herald, SQLAlchemy and FastAPI (for the
benchmark's setup), and a full collection of that heap took up to 176 ms here, a pause counted
as the server's latency for every trigger in flight.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import time
from typing import Any
from urllib.parse import urlsplit

_MAX_CONNECTIONS = 64


class _Connections:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.free = asyncio.Semaphore(_MAX_CONNECTIONS)

    async def take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        await self.free.acquire()
        if self.idle:
            return self.idle.pop()
        return await asyncio.open_connection(self.host, self.port)

    def give_back(self, connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None) -> None:
        if connection is not None:
            self.idle.append(connection)
        self.free.release()

    def close(self) -> None:
        for _, writer in self.idle:
            writer.close()


async def _post(connection: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes) -> int:
    reader, writer = connection
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    await reader.readexactly(length)
    return status


def collect_garbage_first() -> None:
    """A full collection now, so that none is due while `fixed_rate` sends with the collector off."""
    gc.collect()


def _request(host: str, path: str, headers: dict[str, str], body: dict[str, Any]) -> bytes:
    content = json.dumps(body).encode()
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(content)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + content


async def fixed_rate(
    url: str, headers: dict[str, str], trigger: dict[str, Any], rate: int, seconds: float, run: int = 0
) -> dict[str, tuple[float, float]]:
    """Send `rate` triggers per second for `seconds`; by transactionId of each accepted trigger,
    when it was sent and when its answer arrived (epoch seconds; refused or failed ones are
    counted and reported). `run` tells apart the transactionIds of runs at the same rate."""
    address = urlsplit(url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    connections = _Connections(host, port)
    sent: dict[str, float] = {}
    answered: dict[str, float] = {}
    failed: list[str] = []

    async def one(index: int) -> None:
        transaction_id = f"lat-{rate}-{run}-{index}"
        body = {**trigger, "transactionId": transaction_id}
        request = _request(f"{host}:{port}", "/v1/events/trigger", headers, body)
        connection = None
        sent[transaction_id] = time.time()  # when due: waiting for a free connection counts
        try:
            connection = await connections.take()
            status = await _post(connection, request)
            answered[transaction_id] = time.time()
            if status != 201:
                failed.append(str(status))
                del sent[transaction_id]
        except (OSError, asyncio.IncompleteReadError) as error:
            failed.append(type(error).__name__)
            sent.pop(transaction_id, None)
            connection = None
        finally:
            connections.give_back(connection)

    tasks = []
    gc.disable()  # the caller collects first, outside the measured time
    try:
        start = time.monotonic()
        for index in range(int(rate * seconds)):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(index)))
        await asyncio.gather(*tasks)
    finally:
        gc.enable()
    connections.close()
    if failed:
        print(f"  warning: {len(failed)} triggers failed at {rate}/s: {sorted(set(failed))}", file=sys.stderr)
    return {transaction_id: (sent[transaction_id], answered[transaction_id]) for transaction_id in sent}
