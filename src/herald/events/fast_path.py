"""`POST /v1/events/trigger` and `/v1/events/trigger/bulk` without FastAPI's per-request machinery.

Triggers are the hot path of a notification server, and FastAPI's routing and dependency
resolution cost several times the work of a trigger itself (the profile is in
`bench/results/triggers.txt`). This ASGI middleware, the innermost one, answers these two
routes itself: it calls the same guards (`authenticate`, `enforce_rate_limit`,
`claim_idempotency_key`), the same checks and the same intake as the endpoints in
`endpoints.py`, in the same order, and answers with the same bytes. What it does not handle
goes on to those endpoints with the body replayed, so every error keeps its one
implementation: a body that is not JSON or does not validate, a failed key check, a
content type other than JSON, a client that went away while sending.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from herald.auth.dependencies import request_session
from herald.auth.service import authenticate
from herald.errors import HeraldError, database_error_response, herald_error_response
from herald.events import service
from herald.events.intake import Check, TriggerIntake
from herald.events.schemas import BulkTriggerEventDto, TriggerEventRequestDto
from herald.idempotency.dependencies import IdempotentReplay, claim_idempotency_key, replay_response
from herald.kit.asgi_body import body_of, read_body, replaying
from herald.kit.scope import EnvironmentScope
from herald.ratelimit.dependencies import enforce_rate_limit


@dataclass(frozen=True)
class _Route:
    body: type[BaseModel]
    checks: Callable[[Any], Check]
    single: bool


_ROUTES = {
    "/v1/events/trigger": _Route(
        TriggerEventRequestDto,
        lambda body: lambda checks: service.check_trigger(checks, body),
        single=True,
    ),
    "/v1/events/trigger/bulk": _Route(
        BulkTriggerEventDto,
        lambda body: lambda checks: service.check_bulk(checks, body.events),
        single=False,
    ),
}


class _NotHandledHere(Exception):
    """The request goes on to its FastAPI endpoint, which answers it (an error, mostly)."""


class TriggerFastPath:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = _ROUTES.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if route is None or not _sends_json(scope):
            await self.app(scope, receive, send)
            return
        received, complete = await read_body(receive)
        replay = replaying(received, receive)
        try:
            if not complete:
                raise _NotHandledHere
            response = await _answer(Request(scope, replay), route, body_of(received))
        except _NotHandledHere:
            await self.app(scope, replay, send)
            return
        await response(scope, replay, send)


async def _answer(request: Request, route: _Route, raw_body: bytes) -> Response:
    try:
        body = route.body.model_validate(json.loads(raw_body))  # as FastAPI reads it
    except (ValueError, ValidationError):
        raise _NotHandledHere from None
    state = request.app.state
    try:
        environment = await authenticate(state.database, request.headers.get("authorization"))
    except HeraldError:
        raise _NotHandledHere from None
    request.state.environment_id = environment.environment_id
    try:
        await enforce_rate_limit(request, environment)
        async with _idempotency_session(request, environment) as session:
            answers = await _intake(request).accept(session, environment, route.checks(body))
    except HeraldError as error:
        return herald_error_response(request.scope, error)
    except DBAPIError as error:
        return database_error_response(request.scope, error)
    except IdempotentReplay as replay:
        return await replay_response(request, replay)
    data = answers[0].as_json() if route.single else [answer.as_json() for answer in answers]
    return Response(orjson.dumps({"data": data}), 201, media_type="application/json")


@asynccontextmanager
async def _idempotency_session(
    request: Request, environment: EnvironmentScope
) -> AsyncIterator[AsyncSession | None]:
    """The request's own session, in which an `Idempotency-Key` is claimed and the triggers are
    then stored (as the endpoint's `Session`); without a key there is none to open."""
    if not request.headers.get("idempotency-key"):
        yield None
        return
    async with asynccontextmanager(request_session)(request) as session:
        await claim_idempotency_key(request, session, environment)
        yield session


def _intake(request: Request) -> TriggerIntake:
    intake: TriggerIntake = request.app.state.trigger_intake
    return intake


def _sends_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media_type: bytes = value.split(b";", 1)[0].strip().lower()
            return media_type == b"application/json"
    return False
