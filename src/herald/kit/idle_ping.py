"""PostgreSQL connections are checked before use only when they sat idle in the pool.

SQLAlchemy's `pool_pre_ping` checks every connection at every checkout; with asyncpg that is a
BEGIN, an empty statement and a ROLLBACK: three round trips before each transaction and each
point read, ~14% of a trigger's CPU on PostgreSQL (`bench/`). What it guards against is a
connection that died while nobody used it (a database restart, a proxy's idle timeout): so a
connection idle for `IDLE_SECONDS_BEFORE_PING` or more is pinged as it is checked out, and one
that does not answer is replaced by a new one before anyone uses it. A connection in steady use
is not pinged; if the server goes away under it, its statement fails once and SQLAlchemy
discards every connection of the pool opened before the failure.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine

IDLE_SECONDS_BEFORE_PING = 5.0
_IDLE_SINCE = "herald_idle_since"


def ping_connections_after_idle(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkin")
    def _idle_from_now(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(sync_engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_IDLE_SINCE)
        if idle_since is None or time.monotonic() - idle_since < IDLE_SECONDS_BEFORE_PING:
            return
        try:
            sync_engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool throws this connection away and checks out another (a new one if need be).
            raise DisconnectionError("a pooled connection did not answer after sitting idle") from error
