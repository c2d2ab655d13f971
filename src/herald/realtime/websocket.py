"""Engine.IO websockets served straight from uvicorn's connection, without an ASGI call per socket.

Through ASGI, every open websocket is a task awaiting `receive()` at the bottom of a chain of
coroutine frames for as long as it stays open, and python-engineio adds four more tasks of its
own (writer, reader, ping, a `wait_for` each) with their timers, beside uvicorn's queue, events
and parsed handshake: about 50 KB per idle Inbox socket (bench/sockets.py). This module is a
uvicorn websocket protocol (`uvicorn.run(ws=...)`): for a new Engine.IO session opened over
websocket at the socket.io path (`?EIO=4&transport=websocket`, as @novu/js connects) it
completes the handshake itself, frames RFC 6455 messages in `data_received` and hands Engine.IO
packets to python-engineio's server through its own socket object (`DirectSocket`), so an idle
socket is a protocol object, a socket object and a ping timer, with no task: about 8 KB.
Pings, ping timeouts (engineio's service task) and the socket.io layer above (connect handler,
rooms, emits, Redis fan-out) are python-engineio's and python-socketio's, unchanged.

Anything else (a websocket to another path, a long-polling session upgrading to websocket, a
request engineio would refuse: bad origin, version or handshake) goes to uvicorn's own
websocket protocol and the ASGI app, exactly as before.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
import sys
import time
from collections.abc import Coroutine
from typing import Any, ClassVar, cast
from urllib.parse import parse_qs

import engineio
from engineio import exceptions, packet
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

_ACCEPT_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_TEXT, _BINARY, _CLOSE, _PING, _PONG, _CONTINUATION = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0
_CLOSE_NORMAL, _CLOSE_PROTOCOL_ERROR = 1000, 1002
_CLOSE_INVALID_DATA, _CLOSE_TOO_BIG, _CLOSE_RESTART = 1007, 1009, 1012
_CLOSE_WAIT_SECONDS = 5.0
_MAX_WRITE_BUFFER = 8 * 1024 * 1024  # a client that reads nothing is dropped past this backlog

_background: set[asyncio.Task[Any]] = set()


def _spawn(work: Coroutine[Any, Any, Any]) -> None:
    task = asyncio.get_running_loop().create_task(work)
    _background.add(task)
    task.add_done_callback(_background.discard)


class DirectSocket:
    """One Engine.IO session on one websocket, as engineio's server and socket.io use a socket."""

    __slots__ = (
        "_connection",
        "_ping_timer",
        "closed",
        "closing",
        "connected",
        "last_ping",
        "server",
        "session",
        "sid",
        "upgraded",
        "upgrading",
    )

    def __init__(self, server: engineio.AsyncServer, sid: str, connection: EngineIoWebSocket) -> None:
        self.server = server
        self.sid = sid
        self.session: dict[str, Any] = {}
        self.last_ping: float | None = None
        self.connected = True
        self.upgraded = True
        self.upgrading = False
        self.closing = False
        self.closed = False
        self._connection = connection
        self._ping_timer: asyncio.TimerHandle | None = None

    async def send(self, pkt: packet.Packet) -> None:
        if await self.check_ping_timeout():
            self._connection.send_message(pkt.encode())

    async def check_ping_timeout(self) -> bool:
        """engineio's: a pong later than `ping_timeout` closes the socket (its service task asks)."""
        if self.closed:
            raise exceptions.SocketIsClosedError()
        if self.last_ping and time.time() - self.last_ping > self.server.ping_timeout:
            await self.close(wait=False, abort=False, reason=self.server.reason.PING_TIMEOUT)
            return False
        return True

    async def close(self, wait: bool = True, abort: bool = False, reason: Any = None) -> None:
        if self.closed or self.closing:
            return
        self.closing = True
        self._stop_pinging()
        await self.server._trigger_event(
            "disconnect", self.sid, reason or self.server.reason.SERVER_DISCONNECT, run_async=False
        )
        if not abort:
            self._connection.send_message(packet.Packet(packet.CLOSE).encode())
        self.closed = True
        self.server.sockets.pop(self.sid, None)
        self._connection.close(_CLOSE_NORMAL)

    def schedule_ping(self) -> None:
        self.last_ping = None
        self._ping_timer = asyncio.get_running_loop().call_later(self.server.ping_interval, self._ping_due)

    def receive(self, data: str | bytes) -> None:
        if len(data) > self.server.max_http_buffer_size:
            self._connection.close(_CLOSE_TOO_BIG)
            return
        try:
            pkt = packet.Packet(encoded_packet=data)
        except Exception:  # not an Engine.IO packet: engineio ignores it too
            return
        if pkt.packet_type == packet.PONG:
            self.schedule_ping()
        elif pkt.packet_type == packet.MESSAGE:
            # engineio runs each message handler as its own task (async_handlers)
            _spawn(self.server._trigger_event("message", self.sid, pkt.data, run_async=False))
        elif pkt.packet_type == packet.UPGRADE:
            self._connection.send_message(packet.Packet(packet.NOOP).encode())
        elif pkt.packet_type == packet.CLOSE:
            _spawn(self.close(wait=False, abort=True, reason=self.server.reason.CLIENT_DISCONNECT))

    def transport_lost(self) -> None:
        self._stop_pinging()
        if not self.closed and not self.closing:
            _spawn(self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE))

    def _ping_due(self) -> None:
        self._ping_timer = None
        if self.closing or self.closed:
            return
        self.last_ping = time.time()
        self._connection.send_message(packet.Packet(packet.PING).encode())

    def _stop_pinging(self) -> None:
        if self._ping_timer is not None:
            self._ping_timer.cancel()
            self._ping_timer = None


class EngineIoWebSocket(asyncio.Protocol):
    """uvicorn's websocket protocol for Herald; `websocket_protocol` binds it to an engine."""

    engine: ClassVar[engineio.AsyncServer]
    path: ClassVar[str]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._config = config
        self._server_state = server_state
        self._app_state = app_state
        self._transport: asyncio.Transport | None = None
        self._delegate: asyncio.Protocol | None = None
        self._socket: DirectSocket | None = None
        self._handshake_seen = False
        self._buffer = bytearray()
        self._fragments: tuple[int, bytearray] | None = None
        self._close_timer: asyncio.TimerHandle | None = None
        self._closing = False

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._server_state.connections.add(self)  # type: ignore[arg-type]

    def connection_lost(self, exc: Exception | None) -> None:
        self._server_state.connections.discard(self)
        if self._close_timer is not None:
            self._close_timer.cancel()
            self._close_timer = None
        if self._delegate is not None:
            self._delegate.connection_lost(exc)
        elif self._socket is not None:
            self._socket.transport_lost()

    def data_received(self, data: bytes) -> None:
        if self._delegate is not None:
            self._delegate.data_received(data)
        elif not self._handshake_seen:
            self._handshake_seen = True
            self._handshake(data)
        else:
            self._buffer += data
            if self._socket is not None:
                self._read_frames()

    def eof_received(self) -> bool | None:
        if self._delegate is not None:
            return self._delegate.eof_received()
        return None

    def pause_writing(self) -> None:
        if self._delegate is not None:
            self._delegate.pause_writing()

    def resume_writing(self) -> None:
        if self._delegate is not None:
            self._delegate.resume_writing()

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown."""
        if self._delegate is not None:
            self._delegate.shutdown()  # type: ignore[attr-defined]
        else:
            self.close(_CLOSE_RESTART)

    # what the socket calls

    def send_message(self, encoded: str | bytes) -> None:
        if self._closing or self._transport is None:
            return
        if isinstance(encoded, str):
            self._send_frame(_TEXT, encoded.encode("utf-8"))
        else:
            self._send_frame(_BINARY, encoded)
        if self._transport.get_write_buffer_size() > _MAX_WRITE_BUFFER:
            self._transport.abort()

    def close(self, code: int) -> None:
        """Start the closing handshake; the connection ends on the client's answer or a timeout."""
        if self._closing or self._transport is None:
            return
        self._closing = True
        if self._transport.is_closing():  # already gone: nothing to say to it
            return
        self._send_frame(_CLOSE, struct.pack("!H", code))
        self._close_timer = asyncio.get_running_loop().call_later(_CLOSE_WAIT_SECONDS, self._transport.close)

    # handshake

    def _handshake(self, request: bytes) -> None:
        target, headers = _parse_request(request)
        path, _, query_string = target.partition("?")
        query = parse_qs(query_string)
        fresh_engineio_websocket = (
            (path + "/" if not path.endswith("/") else path) == self.path
            and query.get("EIO") == ["4"]
            and query.get("transport") == ["websocket"]
            and "sid" not in query
            and headers.get("sec-websocket-version") == "13"
            and bool(headers.get("sec-websocket-key"))
        )
        environ = _environ(path, query_string, headers) if fresh_engineio_websocket else None
        if environ is None or not self._origin_allowed(environ):
            self._hand_over(request)
            return
        _spawn(self._open(environ, headers["sec-websocket-key"]))

    def _origin_allowed(self, environ: dict[str, Any]) -> bool:
        origin = environ.get("HTTP_ORIGIN")
        if not origin or self.engine.cors_allowed_origins == []:
            return True
        allowed = self.engine._cors_allowed_origins(environ)
        return allowed is None or origin in allowed

    def _hand_over(self, request: bytes) -> None:
        """Everything this protocol does not serve goes to uvicorn's own websocket protocol."""
        assert self._transport is not None
        delegate = WebSocketsSansIOProtocol(self._config, self._server_state, self._app_state)
        self._server_state.connections.discard(self)
        self._delegate = delegate
        delegate.connection_made(self._transport)
        delegate.data_received(request)
        if self._buffer:
            delegate.data_received(bytes(self._buffer))
            self._buffer.clear()

    async def _open(self, environ: dict[str, Any], key: str) -> None:
        engine = self.engine
        if engine.start_service_task:
            engine.start_service_task = False
            engine.service_task_handle = engine.start_background_task(engine._service_task)
        sid = engine.generate_id()
        socket = DirectSocket(engine, sid, self)
        engine.sockets[sid] = socket
        accepted = await engine._trigger_event("connect", sid, environ, run_async=False)
        transport = self._transport
        if accepted is not None and accepted is not True:
            engine.sockets.pop(sid, None)
            if transport is not None and not transport.is_closing():
                transport.write(b"HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                transport.close()
            return
        if transport is None or transport.is_closing():
            socket.transport_lost()
            return
        accept = base64.b64encode(hashlib.sha1(key.encode("ascii") + _ACCEPT_GUID).digest())
        transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
            b"sec-websocket-accept: " + accept + b"\r\n\r\n"
        )
        self._socket = socket
        opening = {
            "sid": sid,
            "upgrades": engine._upgrades(sid, "websocket"),
            "pingTimeout": int(engine.ping_timeout * 1000),
            "pingInterval": int(engine.ping_interval + engine.ping_interval_grace_period) * 1000,
            "maxPayload": engine.max_http_buffer_size,
        }
        self.send_message(packet.Packet(packet.OPEN, opening).encode())
        socket.schedule_ping()
        self._read_frames()

    # frames (RFC 6455: client frames are masked; no extension is negotiated)

    def _read_frames(self) -> None:
        buffer = self._buffer
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            final, opcode, length, start = first & 0x80, first & 0x0F, second & 0x7F, 2
            if first & 0x70 or not second & 0x80:
                self._fail(_CLOSE_PROTOCOL_ERROR)
                return
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = struct.unpack_from("!H", buffer, 2)[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = struct.unpack_from("!Q", buffer, 2)[0], 10
            if length > self.engine.max_http_buffer_size:
                self._fail(_CLOSE_TOO_BIG)
                return
            end = start + 4 + length
            if len(buffer) < end:
                return
            payload = _unmask(bytes(buffer[start + 4 : end]), bytes(buffer[start : start + 4]))
            del buffer[:end]
            if not self._frame(bool(final), opcode, payload):
                return
        if not buffer:
            self._buffer = bytearray()

    def _frame(self, final: bool, opcode: int, payload: bytes) -> bool:
        """Handle one frame; False once the connection is failing or closing."""
        if self._closing and opcode != _CLOSE:
            return True  # after our close frame, only the client's close frame matters
        if opcode >= _CLOSE:
            if not final or len(payload) > 125:
                self._fail(_CLOSE_PROTOCOL_ERROR)
                return False
            if opcode == _CLOSE:
                self._closed_by_client(payload)
                return False
            if opcode == _PING:
                self._send_frame(_PONG, payload)
            return True
        if opcode == _CONTINUATION:
            if self._fragments is None:
                self._fail(_CLOSE_PROTOCOL_ERROR)
                return False
            message_opcode, parts = self._fragments
            parts += payload
            if len(parts) > self.engine.max_http_buffer_size:
                self._fail(_CLOSE_TOO_BIG)
                return False
            if not final:
                return True
            self._fragments = None
            return self._message(message_opcode, bytes(parts))
        if opcode not in (_TEXT, _BINARY) or self._fragments is not None:
            self._fail(_CLOSE_PROTOCOL_ERROR)
            return False
        if not final:
            self._fragments = (opcode, bytearray(payload))
            return True
        return self._message(opcode, payload)

    def _message(self, opcode: int, payload: bytes) -> bool:
        assert self._socket is not None
        if opcode == _BINARY:
            self._socket.receive(payload)
            return not self._closing
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            self._fail(_CLOSE_INVALID_DATA)
            return False
        self._socket.receive(text)
        return not self._closing

    def _closed_by_client(self, payload: bytes) -> None:
        if not self._closing:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else _CLOSE_NORMAL
            self._send_frame(_CLOSE, struct.pack("!H", code if code != 1005 else _CLOSE_NORMAL))
            self._closing = True
        if self._transport is not None:
            self._transport.close()

    def _fail(self, code: int) -> None:
        self.close(code)
        if self._transport is not None:
            self._transport.close()

    def _send_frame(self, opcode: int, payload: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            return  # uvloop refuses writes to a closed transport
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, length)
        elif length < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 127, length)
        self._transport.write(header + payload)


def websocket_protocol(engine: engineio.AsyncServer, path: str) -> type[EngineIoWebSocket]:
    """The uvicorn websocket protocol (`ws=`) serving `engine`'s websockets at `path` ("/socket.io/")."""
    return type("HeraldEngineIoWebSocket", (EngineIoWebSocket,), {"engine": engine, "path": path})


def _parse_request(request: bytes) -> tuple[str, dict[str, str]]:
    """Target and headers (names lowercased, repeats joined) of the upgrade request uvicorn re-serialized."""
    head = request.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    request_line, *lines = head.split("\r\n")
    parts = request_line.split(" ")
    target = parts[1] if len(parts) == 3 else ""
    headers: dict[str, str] = {}
    for line in lines:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip()
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    return target, headers


def _environ(path: str, query_string: str, headers: dict[str, str]) -> dict[str, Any]:
    """The WSGI-style environ engineio's ASGI driver builds, which socket.io's connect handler receives."""
    environ: dict[str, Any] = {
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.async": True,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "asgi",
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query_string,
        "RAW_URI": f"{path}?{query_string}" if query_string else path,
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "0",
        "SERVER_NAME": "asgi",
        "SERVER_PORT": "0",
    }
    for name, value in headers.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    environ["wsgi.url_scheme"] = environ.get("HTTP_X_FORWARDED_PROTO", "http")
    return environ


def _unmask(payload: bytes, mask: bytes) -> bytes:
    length = len(payload)
    if not length:
        return b""
    key = (mask * (length // 4 + 1))[:length]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(length, "little")
