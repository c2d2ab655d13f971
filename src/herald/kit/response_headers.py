"""Headers that request-scoped code adds to whatever response the request ends with.

A dependency cannot add headers to an error response raised after it (a 404 from the
endpoint, a 422 from body validation), so it records them in the request state and this
middleware appends them when the response starts, success or error alike.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_STATE_KEY = "extra_response_headers"


def add_response_headers(request: Request, headers: list[tuple[bytes, bytes]]) -> None:
    state: dict[str, Any] = request.scope.setdefault("state", {})
    state.setdefault(_STATE_KEY, []).extend(headers)


class ResponseHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = scope.get("state", {}).get(_STATE_KEY)
                if extra:
                    message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
