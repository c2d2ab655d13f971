"""Stores the exact response of a request that claimed an `Idempotency-Key`, then sends it.

See `herald.idempotency.dependencies` for why this is a middleware. A 5xx (or an exception
that becomes one) releases the key so that a retry runs; anything else is stored, 4xx included.
"""

from __future__ import annotations

from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.idempotency.dependencies import CLAIM_STATE_KEY, IDEMPOTENT_METHODS
from herald.idempotency.store import Claim, IdempotencyStore, StoredResponse

log = structlog.get_logger("herald.idempotency")


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in IDEMPOTENT_METHODS:
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        start: Message | None = None
        chunks: list[bytes] = []
        settled = False

        async def capturing_send(message: Message) -> None:
            nonlocal start, settled
            claim: Claim | None = scope.get("state", {}).get(CLAIM_STATE_KEY)
            if claim is None or settled:
                await send(message)
            elif message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                settled = True
                body = b"".join(chunks)
                await _settle(
                    scope, claim, StoredResponse(start["status"], list(start.get("headers", [])), body)
                )
                await send(start)
                await send({"type": "http.response.body", "body": body})
            else:
                await send(message)

        try:
            await self.app(scope, receive, capturing_send)
        except BaseException:
            claim = scope.get("state", {}).get(CLAIM_STATE_KEY)
            if claim is not None and not settled:
                await _guarded(_store(scope).release(claim), "release")
            raise


async def _settle(scope: Scope, claim: Claim, response: StoredResponse) -> None:
    store = _store(scope)
    if response.status_code >= 500:
        await _guarded(store.release(claim), "release")
    else:
        await _guarded(store.complete(claim, response), "complete")


async def _guarded(step: Any, name: str) -> None:
    """The response goes out even if the store fails: the work is done and the client must learn it."""
    try:
        await step
    except Exception as error:
        log.error("idempotency_store_failed", step=name, error=type(error).__name__, exc_info=error)


def _store(scope: Scope) -> IdempotencyStore:
    store: IdempotencyStore = scope["app"].state.idempotency
    return store
