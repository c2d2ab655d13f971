"""The idempotency guard of every secret-key route, and the replay of stored responses.

How the pieces fit (the choice, and why):
- `claim_idempotency_key` is a router dependency placed after the secret-key guard and the
  rate limit, so it knows the environment and runs before the endpoint. With the database
  store it claims the key with one INSERT in the request's own session: the claim commits or
  rolls back with the work (see `store.py` for the crash analysis).
- `IdempotencyMiddleware` (ASGI) buffers the response of a claimed request, stores its exact
  status, headers and body bytes (with the database store: in that same, deferred, transaction,
  committed before anything is sent), then sends it. A middleware is the one place that sees the
  final bytes of every outcome: a returned model, a 4xx raised by the endpoint and rendered by
  the error handlers, or a 422 from body validation. A custom APIRoute class would see the
  response before the commit, but routers are built by other modules with the default class,
  and FastAPI includes them lazily, so it could not apply to every router by construction.
- A duplicate never reaches the endpoint: the dependency raises `IdempotentReplay` (stored
  response + `Idempotency-Replay: true`), 409 (`Retry-After: 1`) or 422.

Requests that are not POST or PATCH, or carry no key, return at the first line: the official
SDKs send a key on every call, GETs included.
"""

from __future__ import annotations

import hashlib
import uuid

from fastapi import Request
from fastapi.responses import Response

from herald.auth.dependencies import CurrentEnvironment, Session
from herald.errors import BadRequestError, HeraldError, request_path
from herald.idempotency.store import Claim, IdempotencyStore, StoredResponse
from herald.kit.response_headers import add_response_headers

IDEMPOTENT_METHODS = frozenset({"POST", "PATCH"})
MAX_KEY_LENGTH = 255
CLAIM_STATE_KEY = "idempotency_claim"


class IdempotentReplay(Exception):
    def __init__(self, response: StoredResponse) -> None:
        super().__init__("replay")
        self.response = response


async def claim_idempotency_key(request: Request, session: Session, scope: CurrentEnvironment) -> None:
    """Claim `Idempotency-Key` for this request, or answer a duplicate without running it."""
    if request.method not in IDEMPOTENT_METHODS:
        return
    key = request.headers.get("idempotency-key")
    store: IdempotencyStore | None = request.app.state.idempotency
    if not key or store is None:
        return
    if len(key) > MAX_KEY_LENGTH:
        raise BadRequestError(
            f'idempotencyKey "{key}" has exceeded the maximum allowed length of {MAX_KEY_LENGTH} characters'
        )
    add_response_headers(request, [(b"idempotency-key", key.encode("latin-1"))])
    claim = Claim(scope, key, _fingerprint(request, await request.body()), uuid.uuid4().hex)
    outcome = await store.claim(session, claim)
    if outcome.kind == "claimed":
        request.scope.setdefault("state", {})[CLAIM_STATE_KEY] = claim
    elif outcome.kind == "replay":
        assert outcome.response is not None
        raise IdempotentReplay(outcome.response)
    elif outcome.kind == "in_progress":
        raise HeraldError(
            409,
            f'Request with key "{key}" is currently being processed. Please retry after 1 second',
            headers={"Retry-After": "1"},
        )
    else:
        reason = (
            "is being reused for a different body"
            if outcome.kind == "mismatch"
            else "was processed, but its response was not recorded; send a new key to repeat it"
        )
        message = f'Request with key "{key}" {reason}'
        raise HeraldError(422, message, errors={"Idempotency-Key": {"messages": [message], "value": key}})


async def replay_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    stored = exc.response
    response = Response(stored.body, stored.status_code)
    response.raw_headers = [*stored.headers, (b"idempotency-replay", b"true")]
    return response


def _fingerprint(request: Request, body: bytes) -> str:
    digest = hashlib.sha256(f"{request.method} {request_path(request.scope)}\n".encode())
    digest.update(body)
    return digest.hexdigest()
