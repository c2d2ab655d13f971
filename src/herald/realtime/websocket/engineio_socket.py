"""One Engine.IO session over one of Herald's websockets, shaped as python-engineio's server uses a socket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import engineio
from engineio import exceptions, packet

from herald.realtime.websocket.frames import CLOSE_NORMAL, CLOSE_TOO_BIG

if TYPE_CHECKING:
    from herald.realtime.websocket.protocol import EngineIoWebSocket

_background: set[asyncio.Task[Any]] = set()


def spawn(work: Coroutine[Any, Any, Any]) -> None:
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
        self._connection.close(CLOSE_NORMAL)

    def schedule_ping(self) -> None:
        self.last_ping = None
        self._ping_timer = asyncio.get_running_loop().call_later(self.server.ping_interval, self._ping_due)

    def receive(self, data: str | bytes) -> None:
        if len(data) > self.server.max_http_buffer_size:
            self._connection.close(CLOSE_TOO_BIG)
            return
        try:
            pkt = packet.Packet(encoded_packet=data)
        except Exception:  # not an Engine.IO packet: engineio ignores it too
            return
        if pkt.packet_type == packet.PONG:
            self.schedule_ping()
        elif pkt.packet_type == packet.MESSAGE:
            # engineio runs each message handler as its own task (async_handlers)
            spawn(self.server._trigger_event("message", self.sid, pkt.data, run_async=False))
        elif pkt.packet_type == packet.UPGRADE:
            self._connection.send_message(packet.Packet(packet.NOOP).encode())
        elif pkt.packet_type == packet.CLOSE:
            spawn(self.close(wait=False, abort=True, reason=self.server.reason.CLIENT_DISCONNECT))

    def transport_lost(self) -> None:
        self._stop_pinging()
        if not self.closed and not self.closing:
            spawn(self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE))

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
