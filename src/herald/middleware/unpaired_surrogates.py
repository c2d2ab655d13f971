"""Refuses with 400 a JSON body whose strings hold an unpaired UTF-16 surrogate escape.

JSON lets a string say `"\\ud800"` alone, and Python's parser makes a `str` of it, but such a
string is not Unicode text: SQLite, orjson and the response serializer all refuse to encode
it, so it ended as a 500 wherever it was stored or answered. A body is checked only if it
holds a surrogate escape at all (a paired one, `"\\ud83c\\udf89"`, is how ASCII-only JSON writers
such as Python's `json.dumps` send an emoji, and passes). The body is read here, as the
routes would read it, and handed on unchanged.
"""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Receive, Scope, Send

from herald.errors import error_response
from herald.kit.asgi_body import body_of, read_body, replaying

MESSAGE = "Request body is not valid JSON: a string holds an unpaired UTF-16 surrogate escape"
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class UnpairedSurrogatesMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received, _ = await read_body(receive)
        body = body_of(received)
        if _SURROGATE_ESCAPE.search(body) and _holds_unpaired_surrogate(body):
            await error_response(scope, 400, MESSAGE)(scope, receive, send)
            return
        await self.app(scope, replaying(received, receive), send)


def _holds_unpaired_surrogate(body: bytes) -> bool:
    try:
        parsed = json.loads(body)
    except ValueError:
        return False  # not JSON: the route answers that
    try:
        json.dumps(parsed, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    return False
