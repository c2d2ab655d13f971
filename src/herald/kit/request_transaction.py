"""A request transaction whose clean end is left to an ASGI middleware.

Normally the request's transaction (`herald.auth.dependencies.request_session`) commits when
the endpoint has returned, before the response is sent. A middleware that must write the
final response bytes in that same transaction (the idempotency middleware: claim, work and
stored response commit together, in one write turn) puts a `DeferredTransaction` in the
request state first. Then:

- the session opens lazily, when the endpoint's dependencies ask for it, exactly as before;
- if the endpoint raises, it rolls back at once, exactly as before;
- if the endpoint returns, it stays open; the middleware adds its last statements and calls
  `commit` before it sends the response, or `rollback`. `end` (in the middleware's `finally`)
  rolls back whatever is still open, so no path leaves a connection or SQLite's write turn held.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.types import Scope

from herald.db import Database

_STATE_KEY = "deferred_transaction"


class DeferredTransaction:
    def __init__(self) -> None:
        self._stack: AsyncExitStack | None = None
        self.session: AsyncSession | None = None
        self._used = False

    @property
    def is_open(self) -> bool:
        return self.session is not None

    @asynccontextmanager
    async def open(self, database: Database, *, write: bool) -> AsyncIterator[AsyncSession]:
        """The request's session; on an exception it rolls back before the exception goes on."""
        self._used = True
        self._stack = AsyncExitStack()
        self.session = await self._stack.enter_async_context(database.session(write=write))
        try:
            yield self.session
        except BaseException as error:
            await self._close(error)
            raise

    async def commit(self) -> None:
        """Commit (and run the after-commit actions); a failed commit raises, rolled back."""
        await self._close(None)

    async def rollback(self) -> None:
        await self._close(RollbackRequested())

    async def end(self) -> None:
        if self.is_open:
            await self.rollback()

    def available(self) -> bool:
        """Only the first session of a request is deferred; any other is an ordinary one."""
        return not self._used

    async def _close(self, error: BaseException | None) -> None:
        stack, self._stack, self.session = self._stack, None, None
        if stack is None:
            return
        if error is None:
            await stack.aclose()
        else:
            await stack.__aexit__(type(error), error, error.__traceback__)


class RollbackRequested(Exception):
    """Thrown into the session scope to end it with a rollback; it never leaves `_close`."""


def defer_transaction(scope: Scope) -> DeferredTransaction:
    deferred = DeferredTransaction()
    scope.setdefault("state", {})[_STATE_KEY] = deferred
    return deferred


def deferred_transaction(scope: Scope) -> DeferredTransaction | None:
    deferred: DeferredTransaction | None = scope.get("state", {}).get(_STATE_KEY)
    if deferred is None or not deferred.available():
        return None
    return deferred
