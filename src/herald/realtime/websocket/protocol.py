"""uvicorn's websocket protocol for Herald: Engine.IO websockets served without an ASGI call, framed here."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
from typing import Any, ClassVar, cast
from urllib.parse import parse_qs

import engineio
from engineio import packet
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from herald.realtime.websocket.engineio_socket import DirectSocket, spawn
from herald.realtime.websocket.frames import (
    ACCEPT_GUID,
    BINARY,
    CLOSE,
    CLOSE_INVALID_DATA,
    CLOSE_NORMAL,
    CLOSE_PROTOCOL_ERROR,
    CLOSE_RESTART,
    CLOSE_TOO_BIG,
    CONTINUATION,
    PING,
    PONG,
    TEXT,
    parse_request,
    unmask,
    wsgi_environ,
)

_CLOSE_WAIT_SECONDS = 5.0
_MAX_WRITE_BUFFER = 8 * 1024 * 1024  # a client that reads nothing is dropped past this backlog


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
            self.close(CLOSE_RESTART)

    # what the socket calls

    def send_message(self, encoded: str | bytes) -> None:
        if self._closing or self._transport is None:
            return
        if isinstance(encoded, str):
            self._send_frame(TEXT, encoded.encode("utf-8"))
        else:
            self._send_frame(BINARY, encoded)
        if self._transport.get_write_buffer_size() > _MAX_WRITE_BUFFER:
            self._transport.abort()

    def close(self, code: int) -> None:
        """Start the closing handshake; the connection ends on the client's answer or a timeout."""
        if self._closing or self._transport is None:
            return
        self._closing = True
        if self._transport.is_closing():  # already gone: nothing to say to it
            return
        self._send_frame(CLOSE, struct.pack("!H", code))
        self._close_timer = asyncio.get_running_loop().call_later(_CLOSE_WAIT_SECONDS, self._transport.close)

    # handshake

    def _handshake(self, request: bytes) -> None:
        target, headers = parse_request(request)
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
        environ = wsgi_environ(path, query_string, headers) if fresh_engineio_websocket else None
        if environ is None or not self._origin_allowed(environ):
            self._hand_over(request)
            return
        spawn(self._open(environ, headers["sec-websocket-key"]))

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
        accept = base64.b64encode(hashlib.sha1(key.encode("ascii") + ACCEPT_GUID).digest())
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
                self._fail(CLOSE_PROTOCOL_ERROR)
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
                self._fail(CLOSE_TOO_BIG)
                return
            end = start + 4 + length
            if len(buffer) < end:
                return
            payload = unmask(bytes(buffer[start + 4 : end]), bytes(buffer[start : start + 4]))
            del buffer[:end]
            if not self._frame(bool(final), opcode, payload):
                return
        if not buffer:
            self._buffer = bytearray()

    def _frame(self, final: bool, opcode: int, payload: bytes) -> bool:
        """Handle one frame; False once the connection is failing or closing."""
        if self._closing and opcode != CLOSE:
            return True  # after our close frame, only the client's close frame matters
        if opcode >= CLOSE:
            if not final or len(payload) > 125:
                self._fail(CLOSE_PROTOCOL_ERROR)
                return False
            if opcode == CLOSE:
                self._closed_by_client(payload)
                return False
            if opcode == PING:
                self._send_frame(PONG, payload)
            return True
        if opcode == CONTINUATION:
            if self._fragments is None:
                self._fail(CLOSE_PROTOCOL_ERROR)
                return False
            message_opcode, parts = self._fragments
            parts += payload
            if len(parts) > self.engine.max_http_buffer_size:
                self._fail(CLOSE_TOO_BIG)
                return False
            if not final:
                return True
            self._fragments = None
            return self._message(message_opcode, bytes(parts))
        if opcode not in (TEXT, BINARY) or self._fragments is not None:
            self._fail(CLOSE_PROTOCOL_ERROR)
            return False
        if not final:
            self._fragments = (opcode, bytearray(payload))
            return True
        return self._message(opcode, payload)

    def _message(self, opcode: int, payload: bytes) -> bool:
        assert self._socket is not None
        if opcode == BINARY:
            self._socket.receive(payload)
            return not self._closing
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            self._fail(CLOSE_INVALID_DATA)
            return False
        self._socket.receive(text)
        return not self._closing

    def _closed_by_client(self, payload: bytes) -> None:
        if not self._closing:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else CLOSE_NORMAL
            self._send_frame(CLOSE, struct.pack("!H", code if code != 1005 else CLOSE_NORMAL))
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
