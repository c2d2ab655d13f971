"""FastAPI dependencies: the request's database session and the secret-key guard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader
from sqlalchemy.ext.asyncio import AsyncSession

from herald.auth.service import authenticate
from herald.db import Database
from herald.kit.crypto import SecretBox
from herald.kit.request_transaction import deferred_transaction
from herald.kit.scope import EnvironmentScope

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

secret_key_header = APIKeyHeader(
    name="Authorization",
    scheme_name="secretKey",
    description='API key authentication. Allowed headers-- "Authorization: ApiKey <secret_key>".',
    auto_error=False,
)


async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request, committed before the response is sent: when the endpoint
    returns, or by the middleware that deferred it (`herald.kit.request_transaction`)."""
    database: Database = request.app.state.database
    write = request.method not in _READ_METHODS
    deferred = deferred_transaction(request.scope)
    if deferred is not None:
        async with deferred.open(database, write=write) as session:
            yield session
        return
    async with database.session(write=write) as session:
        yield session


Session = Annotated[AsyncSession, Depends(request_session, scope="function")]


async def require_secret_key(
    request: Request, authorization: Annotated[str | None, Security(secret_key_header)]
) -> EnvironmentScope:
    """The caller's environment, looked up outside the request's transaction, so that the
    request's write transaction (and, on SQLite, its turn as the writer) starts only when the
    request writes."""
    database: Database = request.app.state.database
    scope = await authenticate(database, authorization)
    request.state.environment_id = scope.environment_id
    return scope


CurrentEnvironment = Annotated[EnvironmentScope, Depends(require_secret_key)]


def secret_box(request: Request) -> SecretBox:
    box: SecretBox = request.app.state.secret_box
    return box


Box = Annotated[SecretBox, Depends(secret_box)]
