"""CORS for the Inbox routes only: browsers call `/v1/inbox/*` from the customer's pages.

The secret-key API sends no CORS headers at all, so a browser page can never use a secret key
against Herald even by mistake.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from herald.inbox.endpoints import PREFIX

_METHODS = ["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"]


class InboxCorsMiddleware:
    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=origins,
            allow_methods=_METHODS,
            allow_headers=["*"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] == "http" and (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
