"""Engine.IO sockets opened straight over websocket (as @novu/js opens them) that cost one task while idle.

python-engineio's own socket keeps four tasks per websocket for its whole life: a writer waiting
on its queue through `wait_for` (one more task and a timer), a reader task re-created for every
packet under another `wait_for` timer, and a task sleeping until the next ping. With thousands
of idle Inbox sockets those tasks, their frames and timers are most of the memory a socket costs.

`LeanSocket` keeps the same protocol and the same engineio bookkeeping (the server's socket
table, `last_ping`, `closing`/`closed`, the connect/message/disconnect events) but reads in the
ASGI call's own task, writes from a task that exists only while packets are waiting, and pings
from a loop timer. Dead clients are still found by engineio's service task, which closes a
socket whose pong is late (`check_ping_timeout`). Sockets that start with HTTP long-polling and
upgrade later keep engineio's own implementation.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from typing import Any

import engineio
from engineio import exceptions, packet
from engineio.async_drivers import asgi as engineio_asgi
from engineio.async_socket import AsyncSocket

WebSocket = Any  # engineio.async_drivers.asgi.WebSocket: send(str), wait() -> str | bytes, close()


class LeanSocket(AsyncSocket):  # type: ignore[misc]
    # engineio's own state, set by its constructor and read by its server
    server: LeanEngineServer
    queue: asyncio.Queue[packet.Packet | None]
    last_ping: float | None
    connected: bool
    upgraded: bool
    closing: bool
    closed: bool

    def __init__(self, server: LeanEngineServer, sid: str) -> None:
        super().__init__(server, sid)
        self._websocket: WebSocket | None = None
        self._outbox: list[packet.Packet | None] = []
        self._writer: asyncio.Task[None] | None = None
        self._ping_timer: asyncio.TimerHandle | None = None

    async def send(self, pkt: packet.Packet) -> None:
        if self._websocket is None:
            await super().send(pkt)
        elif await self.check_ping_timeout():
            self._enqueue(pkt)

    def schedule_ping(self) -> None:
        # As engineio: a new ping only once the client answered the previous one.
        if self.last_ping:
            self.last_ping = None
            self._ping_timer = asyncio.get_running_loop().call_later(
                self.server.ping_interval, self._ping_due
            )

    def _ping_due(self) -> None:
        self._ping_timer = None
        if self.closing or self.closed:
            return
        self.last_ping = time.time()
        ping = packet.Packet(packet.PING)
        if self._websocket is None:
            self.queue.put_nowait(ping)
        else:
            self._enqueue(ping)

    async def close(self, wait: bool = True, abort: bool = False, reason: Any = None) -> None:
        if self._websocket is None:
            await super().close(wait=wait, abort=abort, reason=reason)
            return
        if self.closed or self.closing:
            return
        self.closing = True
        self._stop_pinging()
        await self.server._trigger_event(
            "disconnect", self.sid, reason or self.server.reason.SERVER_DISCONNECT, run_async=False
        )
        if not abort:
            self._enqueue(packet.Packet(packet.CLOSE))
        self._enqueue(None)  # the writer closes the websocket once everything before is sent
        self.closed = True
        if wait and self._writer is not None:
            await asyncio.shield(self._writer)

    async def _websocket_handler(self, ws: WebSocket) -> None:
        if self.connected:  # an upgrade from long-polling: engineio's own handshake and loops
            await super()._websocket_handler(ws)
            return
        self.connected = True
        self.upgraded = True
        self._websocket = ws
        while not self.queue.empty():  # the OPEN packet, queued before the websocket was accepted
            self._enqueue(self.queue.get_nowait())
            self.queue.task_done()
        try:
            await self._read(ws)
        finally:
            await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)
            if self._writer is not None:
                await asyncio.shield(self._writer)

    async def _read(self, ws: WebSocket) -> None:
        while not self.closed:
            try:
                data = await ws.wait()
            except OSError:  # the client is gone
                return
            if data is None:
                return
            if len(data) > self.server.max_http_buffer_size:
                return
            try:
                await self.receive(packet.Packet(encoded_packet=data))
            except exceptions.UnknownPacketError:
                pass
            except exceptions.SocketIsClosedError:
                return
            except Exception:
                self.server.logger.exception("Unknown receive error")

    def _enqueue(self, pkt: packet.Packet | None) -> None:
        self._outbox.append(pkt)
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        ws: WebSocket = self._websocket
        try:
            while self._outbox:
                pkt = self._outbox.pop(0)
                if pkt is None:
                    self._outbox.clear()
                    await ws.close()
                    return
                try:
                    await ws.send(pkt.encode())
                except Exception:
                    self._outbox.clear()
                    await ws.close()
                    return
        finally:
            self._writer = None

    def _stop_pinging(self) -> None:
        if self._ping_timer is not None:
            self._ping_timer.cancel()
            self._ping_timer = None


class LeanEngineServer(engineio.AsyncServer):  # type: ignore[misc]
    """engineio's ASGI server, with `LeanSocket` for connections opened over websocket."""

    # engineio's own state, set by its constructor
    _async: dict[str, Any]
    start_service_task: bool
    service_task_handle: Any
    sockets: dict[str, AsyncSocket]

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._async = {**self._async, "translate_request": translate_request}

    async def _handle_connect(
        self, environ: dict[str, Any], transport: str, jsonp_index: int | None = None
    ) -> Any:
        if transport != "websocket":
            return await super()._handle_connect(environ, transport, jsonp_index)
        # engineio's `_handle_connect` for the websocket transport, with a `LeanSocket`.
        if self.start_service_task:
            self.start_service_task = False
            self.service_task_handle = self.start_background_task(self._service_task)
        sid = self.generate_id()
        socket = LeanSocket(self, sid)
        self.sockets[sid] = socket
        opening = {
            "sid": sid,
            "upgrades": self._upgrades(sid, transport),
            "pingTimeout": int(self.ping_timeout * 1000),
            "pingInterval": int(self.ping_interval + self.ping_interval_grace_period) * 1000,
            "maxPayload": self.max_http_buffer_size,
        }
        await socket.send(packet.Packet(packet.OPEN, opening))
        accepted = await self._trigger_event("connect", sid, environ, run_async=False)
        if accepted is not None and accepted is not True:
            del self.sockets[sid]
            self.logger.warning("Application rejected connection")
            return self._unauthorized(accepted or None)
        socket.schedule_ping()
        response = await socket.handle_get_request(environ)
        if socket.closed and sid in self.sockets:
            del self.sockets[sid]
        return response


class _NoBody:
    """`wsgi.input` of a websocket request: it has no body."""

    async def read(self, length: int | None = None) -> bytes:
        return b""


_NO_BODY = _NoBody()


async def translate_request(scope: dict[str, Any], receive: Any, send: Any) -> dict[str, Any]:
    """engineio's ASGI `translate_request`; for websockets without the body reader class it defines
    (and keeps alive in the environ) for every request."""
    if scope["type"] != "websocket":
        environ: dict[str, Any] = await engineio_asgi.translate_request(scope, receive, send)
        return environ
    event = await receive()
    if event["type"] != "websocket.connect":
        return {}
    query_string = ""
    if scope.get("query_string"):
        with contextlib.suppress(UnicodeDecodeError):
            query_string = scope["query_string"].decode("utf-8")
    environ = {
        "wsgi.input": _NO_BODY,
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.async": True,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "SERVER_SOFTWARE": "asgi",
        "REQUEST_METHOD": "GET",
        "PATH_INFO": scope["path"],
        "QUERY_STRING": query_string,
        "RAW_URI": f"{scope['path']}?{query_string}" if query_string else scope["path"],
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "0",
        "SERVER_NAME": "asgi",
        "SERVER_PORT": "0",
        "asgi.receive": receive,
        "asgi.send": send,
        "asgi.scope": scope,
    }
    for raw_name, raw_value in scope["headers"]:
        try:
            name = raw_name.upper().decode("utf-8")
            value = raw_value.decode("utf-8")
        except UnicodeDecodeError:
            continue
        key = "HTTP_" + name.replace("-", "_")
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    environ["wsgi.url_scheme"] = environ.get("HTTP_X_FORWARDED_PROTO", "http")
    return environ
