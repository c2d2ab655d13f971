"""SQLAlchemy's aiosqlite cursor, with one trip to the driver's thread per statement.

aiosqlite runs each call on its own thread; SQLAlchemy's adapter makes four such calls per
statement (open a cursor, execute, fetch, close), each a queue hand-off, a thread wake-up and a
wake-up of the event loop. On a busy 2-core machine those hand-offs cost more than the SQL: an
engine batch or a group commit of triggers runs a dozen statements. This cursor runs the four
steps as one function on the driver's thread and keeps what SQLAlchemy reads afterwards
(rows, description, rowcount, lastrowid). Everything else (transactions, errors, the mutex
that orders statements on a connection) is SQLAlchemy's own.

`one_hop_aiosqlite(engine)` switches an engine's connections to it as they connect.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_cursor
from sqlalchemy.ext.asyncio import AsyncEngine


class _Outcome:
    """What a finished statement left on its cursor."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, cursor: sqlite3.Cursor | None = None) -> None:
        self.description = cursor.description if cursor is not None else None
        self.rowcount = cursor.rowcount if cursor is not None else -1
        self.lastrowid = cursor.lastrowid if cursor is not None else None
        self.arraysize = 1

    def close(self) -> None:
        """Nothing to close: the driver's cursor was closed on its thread."""


def _run(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[_Outcome, list[Any]]:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return _Outcome(cursor), rows
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    _awaitable_cursor_close = False

    def _make_new_cursor(self, connection: Any) -> Any:
        return _Outcome()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            driver: Any = self._connection  # aiosqlite.Connection: `_execute` runs on its thread
            outcome, rows = await driver._execute(_run, driver._conn, operation, parameters, False)
            self._cursor = outcome
            self._rows = collections.deque(rows)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            driver: Any = self._connection
            outcome, _ = await driver._execute(_run, driver._conn, operation, seq_of_parameters, True)
            self._cursor = outcome


class _OneHopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneHopCursor


def one_hop_aiosqlite(engine: AsyncEngine) -> None:
    if not hasattr(AsyncAdapt_aiosqlite_cursor, "_make_new_cursor"):
        return  # a SQLAlchemy whose adapter is built differently: keep its own cursor

    @event.listens_for(engine.sync_engine, "connect", insert=True)
    def _adopt(dbapi_connection: Any, _record: Any) -> None:
        if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
            dbapi_connection.__class__ = _OneHopConnection
