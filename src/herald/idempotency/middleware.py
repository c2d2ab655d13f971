"""Stores the exact response of a request that claimed an `Idempotency-Key`, then sends it.

See `herald.idempotency.dependencies` for why this is a middleware. A 5xx (or an exception
that becomes one) releases the key so that a retry runs; anything else is stored, 4xx included.

With the database store, a request that carries a key gets its transaction deferred
(`herald.kit.request_transaction`): the response is stored on the claim in the request's own
transaction, which then commits, before anything is sent. No extra transaction, no extra
write turn; see `herald.idempotency.store` for the crash analysis.
"""

from __future__ import annotations

from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from herald.idempotency.dependencies import CLAIM_STATE_KEY, IDEMPOTENT_METHODS
from herald.idempotency.store import Claim, IdempotencyStore, StoredResponse
from herald.kit.request_transaction import DeferredTransaction, defer_transaction

log = structlog.get_logger("herald.idempotency")
_KEY_HEADER = b"idempotency-key"


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in IDEMPOTENT_METHODS or not _has_key(scope):
            await self.app(scope, receive, send)  # no key, no claim: nothing to store
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        store: IdempotencyStore | None = scope["app"].state.idempotency
        deferred = _defer_if_stored_in_transaction(scope, store)
        start: Message | None = None
        chunks: list[bytes] = []
        settled = False

        async def capturing_send(message: Message) -> None:
            nonlocal start, settled
            claim: Claim | None = state.get(CLAIM_STATE_KEY)
            if claim is None or settled:
                if deferred is not None and message["type"] == "http.response.start":
                    await deferred.commit()  # no claim: commit where the endpoint's end would have
                await send(message)
            elif message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body" and start is not None:
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                settled = True
                body = b"".join(chunks)
                response = StoredResponse(start["status"], list(start.get("headers", [])), body)
                assert store is not None
                await _settle(store, claim, response, deferred)
                await send(start)
                await send({"type": "http.response.body", "body": body})
            else:
                await send(message)

        try:
            await self.app(scope, receive, capturing_send)
        except BaseException:
            claim = state.get(CLAIM_STATE_KEY)
            if claim is not None and not settled and deferred is None and store is not None:
                await _guarded(store.release(claim), "release")
            raise
        finally:
            if deferred is not None:
                await deferred.end()  # rolls back what is still open (and the claim with it)


def _defer_if_stored_in_transaction(
    scope: Scope, store: IdempotencyStore | None
) -> DeferredTransaction | None:
    if store is None or not store.in_request_transaction:
        return None
    return defer_transaction(scope)


def _has_key(scope: Scope) -> bool:
    return any(name == _KEY_HEADER and value for name, value in scope["headers"])


async def _settle(
    store: IdempotencyStore, claim: Claim, response: StoredResponse, deferred: DeferredTransaction | None
) -> None:
    if deferred is not None and deferred.session is not None:
        # The claim is in this open transaction: store the response (or drop the claim) and commit
        # with the work. A failure here raises before anything is sent: the client gets a 500,
        # everything rolls back, and the key is free.
        if response.status_code >= 500:
            await store.release(claim, deferred.session)
        else:
            await store.complete(claim, response, deferred.session)
        await deferred.commit()
    elif deferred is not None:
        # The endpoint raised and its transaction rolled back, claim included: nothing to release.
        if response.status_code < 500:
            await _guarded(store.complete(claim, response), "complete")
    elif response.status_code >= 500:
        await _guarded(store.release(claim), "release")
    else:
        await _guarded(store.complete(claim, response), "complete")


async def _guarded(step: Any, name: str) -> None:
    """The response goes out even if the store fails: the work is done and the client must learn it."""
    try:
        await step
    except Exception as error:
        log.error("idempotency_store_failed", step=name, error=type(error).__name__, exc_info=error)
