"""The socket.io server the Inbox connects to, at `/socket.io/` on the API's own port.

A client authenticates with its Inbox session token, in the handshake query (`?token=`, as
@novu/js sends it) or in `auth.token`; a missing, invalid, expired or revoked token is refused.
Each subscriber's sockets share one room, named by `subscriber_room`. With `HERALD_REDIS_URL`
the server uses socket.io's Redis manager, so an emit from any process (another API process,
or a worker's write-only publisher) reaches the sockets wherever they are connected.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import socketio
import structlog
from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import Receive, Scope, Send

from herald.config import Settings
from herald.db import Database
from herald.inbox.service import caller_for_token
from herald.kit.crypto import SecretBox
from herald.realtime.websocket import EngineIoWebSocket, websocket_protocol

SOCKET_PATH = "socket.io"
REDIS_CHANNEL = "herald-socketio"
NAMESPACE = "/"
log = structlog.get_logger("herald.realtime")


def subscriber_room(environment_id: str, subscriber_pk: str) -> str:
    return f"inbox:{environment_id}:{subscriber_pk}"


def redis_manager(settings: Settings, *, write_only: bool) -> socketio.AsyncRedisManager | None:
    if settings.redis_url is None:
        return None
    return socketio.AsyncRedisManager(
        settings.redis_url.get_secret_value(), channel=REDIS_CHANNEL, write_only=write_only
    )


class InboxSocketServer:
    """The socket.io server; `attach` gives it the database and secret box once the app starts."""

    def __init__(self, settings: Settings) -> None:
        origins = settings.inbox_cors_origins
        self.server = socketio.AsyncServer(
            async_mode="asgi",
            client_manager=redis_manager(settings, write_only=False),
            cors_allowed_origins="*" if "*" in origins else origins,
        )
        self.asgi = socketio.ASGIApp(self.server, socketio_path=SOCKET_PATH)
        # uvicorn's `ws=`: serves @novu/js's websockets without an ASGI call each (see websocket.py)
        self.websocket_protocol: type[EngineIoWebSocket] = websocket_protocol(
            self.server.eio, f"/{SOCKET_PATH}/"
        )
        self._database: Database | None = None
        self._box: SecretBox | None = None
        self.server.on("connect", self._connect)

    def attach(self, database: Database, box: SecretBox) -> None:
        self._database, self._box = database, box

    async def _connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        token = _token(environ, auth)
        if token is None or self._database is None or self._box is None:
            raise socketio.exceptions.ConnectionRefusedError("Invalid or expired Inbox session token")
        try:
            async with self._database.session(write=False) as session:
                caller = await caller_for_token(session, self._box, token)
        except SQLAlchemyError:
            # A database too busy to check the token now: refuse; the client retries with backoff.
            log.warning("inbox_socket_token_check_failed", exc_info=True)
            raise socketio.exceptions.ConnectionRefusedError("Try again later") from None
        if caller is None:
            raise socketio.exceptions.ConnectionRefusedError("Invalid or expired Inbox session token")
        await self.server.enter_room(sid, subscriber_room(caller.scope.environment_id, caller.subscriber_pk))


def _token(environ: dict[str, Any], auth: Any) -> str | None:
    if isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"]:
        return str(auth["token"])
    values = parse_qs(environ.get("QUERY_STRING", "")).get("token")
    return values[0] if values and values[0] else None


class SocketsFirstApp(FastAPI):
    """The API with the socket server in front of its whole middleware stack.

    `/socket.io/` requests that reach the ASGI app (HTTP long-polling, and the websockets
    `websocket.py` hands over) go straight to the socket server: a socket lives for hours inside
    the ASGI call that opened it, and every middleware layer it passed through would stay in
    memory with it; none of them has anything to do for the socket server anyway.
    """

    def __init__(self, sockets: InboxSocketServer, **options: Any) -> None:
        super().__init__(**options)
        self.sockets = sockets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("path", "").startswith(f"/{SOCKET_PATH}/"):
            await self.sockets.asgi(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    def uvicorn_websocket_options(self) -> dict[str, Any]:
        """uvicorn's websocket settings for this app (`herald serve` and the test servers use them)."""
        return {
            # Inbox sockets (Engine.IO over websocket) without an ASGI call each: a few KB per idle socket.
            "ws": self.sockets.websocket_protocol,
            # Small JSON events: a deflate context per socket would cost more memory than it saves.
            "ws_per_message_deflate": False,
        }
