"""Gives every request an id (echoed as `X-Request-Id`), writes one log line per request, and
turns an unexpected exception into Novu's 500 body (logged once, with its `errorId`)."""

from __future__ import annotations

import logging
import os
import re
import time

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.errors import unexpected_error_response
from herald.logs import REQUEST_ID

log = structlog.get_logger("herald.http")
_REQUEST_LINES = logging.getLogger("herald.http")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or os.urandom(16).hex()
        started = time.perf_counter()
        status_code = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status_code, response_started
            if message["type"] == "http.response.start":
                status_code = message["status"]
                response_started = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        request_id_token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, send_with_request_id)
        except Exception as exc:
            if response_started:
                raise
            await unexpected_error_response(scope, exc)(scope, receive, send_with_request_id)
        finally:
            # Checked first: at `warning`, building the line's fields cost more than the rest
            # of this middleware (the level check is cached by `logging`).
            if _REQUEST_LINES.isEnabledFor(logging.INFO):
                log.info(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status_code,
                    duration_ms=round((time.perf_counter() - started) * 1000, 2),
                    environment_id=scope.get("state", {}).get("environment_id"),
                )
            REQUEST_ID.reset(request_id_token)


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _SAFE_REQUEST_ID.match(candidate) else None
    return None
