"""Herald's own websocket protocol for Engine.IO (herald.realtime.websocket package), against real clients."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import socketio
import websockets
from websockets.asyncio.client import ClientConnection

from tests.inbox.fixtures import deliver, session_token
from tests.support import DatabaseFactory, RunningServer, running


def socket_url(server: RunningServer, token: str) -> str:
    base = server.url.replace("http://", "ws://", 1)
    return f"{base}/socket.io/?EIO=4&transport=websocket&token={token}"


async def joined_socket(server: RunningServer, token: str, origin: str | None = None) -> ClientConnection:
    """A websocket that opened an Engine.IO session and joined namespace `/`, as @novu/js does."""
    socket = await websockets.connect(socket_url(server, token), origin=origin)
    opened = await socket.recv()
    assert isinstance(opened, str) and opened.startswith("0")
    await socket.send("40")
    joined = await socket.recv()
    assert isinstance(joined, str) and joined.startswith("40{"), joined
    return socket


async def until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_open_packet_fragmented_join_websocket_ping_and_events(server: RunningServer) -> None:
    token = session_token(server, "ann")
    async with websockets.connect(socket_url(server, token)) as socket:
        opened = await socket.recv()
        assert isinstance(opened, str) and opened[0] == "0"
        handshake = json.loads(opened[1:])
        assert handshake["upgrades"] == [] and handshake["sid"]
        assert handshake["pingInterval"] == 25_000 and handshake["pingTimeout"] == 20_000
        assert handshake["maxPayload"] == 1_000_000
        await socket.send(["4", "0"])  # the namespace join, in two websocket fragments
        joined = await socket.recv()
        assert isinstance(joined, str) and joined.startswith("40{") and json.loads(joined[2:])["sid"]
        await asyncio.wait_for(await socket.ping(b"still there?"), 5)

        message_id = await asyncio.to_thread(deliver, server, "ann", content="Hello Ann")
        event = await asyncio.wait_for(socket.recv(), 10)
        assert isinstance(event, str) and event.startswith("42")
        name, data = json.loads(event[2:])
        assert name == "notification_received" and data["message"]["_id"] == message_id


async def test_a_refused_token_gets_a_connect_error_packet(server: RunningServer) -> None:
    async with websockets.connect(socket_url(server, "garbage")) as socket:
        assert str(await socket.recv()).startswith("0")
        await socket.send("40")
        refused = await socket.recv()
        assert isinstance(refused, str) and refused.startswith("44")
        assert json.loads(refused[2:]) == {"message": "Invalid or expired Inbox session token"}


async def test_sessions_end_with_the_client_close_packet_or_the_connection(server: RunningServer) -> None:
    engine = server.app.sockets.server.eio
    token = session_token(server, "bob")
    first = await joined_socket(server, token)
    second = await joined_socket(server, token)
    await until(lambda: len(engine.sockets) == 2)
    await first.send("1")  # Engine.IO close
    await asyncio.wait_for(first.wait_closed(), 10)
    await until(lambda: len(engine.sockets) == 1)
    second.transport.abort()  # the client vanishes without a websocket close
    await until(lambda: len(engine.sockets) == 0)


async def test_an_unmasked_client_frame_fails_the_connection(server: RunningServer) -> None:
    token = session_token(server, "cid")
    host, port = server.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET /socket.io/?EIO=4&transport=websocket&token={token} HTTP/1.1\r\nHost: {host}\r\n"
        f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    response = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert response.startswith(b"HTTP/1.1 101")
    header = await reader.readexactly(2)
    await reader.readexactly(header[1] & 0x7F)  # the Engine.IO open packet
    writer.write(b"\x81\x0240")  # a text frame without the mask every client frame must carry
    header = await asyncio.wait_for(reader.readexactly(2), 10)
    assert header[0] == 0x88  # close
    code = struct.unpack("!H", await reader.readexactly(header[1] & 0x7F))[0]
    assert code == 1002
    writer.close()


async def test_long_polling_upgraded_to_websocket_still_gets_events(server: RunningServer) -> None:
    token = session_token(server, "dee")
    client = socketio.AsyncClient(reconnection=False)
    received: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    client.on("notification_received", received.put)
    await client.connect(f"{server.url}?token={token}", transports=["polling", "websocket"], wait_timeout=10)
    try:
        await until(lambda: client.transport() == "websocket")
        message_id = await asyncio.to_thread(deliver, server, "dee", content="upgraded")
        event = await asyncio.wait_for(received.get(), 10)
        message = event["message"]
        assert isinstance(message, dict) and message["_id"] == message_id
    finally:
        await client.disconnect()


@pytest.fixture
def origin_server(database_factory: DatabaseFactory, tmp_path: Path) -> Iterator[RunningServer]:
    settings = database_factory.settings_for(tmp_path / "data", inbox_cors_origins=["https://app.example"])
    try:
        yield from running(settings)
    finally:
        database_factory.drop(settings)


async def test_websockets_from_other_origins_are_refused(origin_server: RunningServer) -> None:
    token = session_token(origin_server, "eve")
    with pytest.raises(websockets.exceptions.InvalidStatus):
        await websockets.connect(socket_url(origin_server, token), origin="https://elsewhere.example")
    socket = await joined_socket(origin_server, token, origin="https://app.example")
    await socket.close()
