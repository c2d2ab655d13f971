"""SQLite statements run in the event loop's own thread.

aiosqlite runs every call on a thread of its own. On a busy server that costs more than the
SQL: each call is a queue hand-off, a thread wake-up and a wake-up of the event loop, and
Python's `sqlite3` releases the GIL around every row it steps, so the driver's thread then
waits for the GIL once per row while the event loop runs requests (up to the interpreter's
5 ms switch interval each time). A group commit of triggers or an engine batch of a dozen
statements took tens of milliseconds that way. Measured in `bench/` (500 triggers/s offered):
p50 70-128 ms and p99 194-285 ms from trigger to stored in-app message through the thread,
33-36 ms and 72-74 ms in the loop, and no fewer triggers per second.

So a statement runs right where it is issued, and its rows come back as SQLAlchemy expects
them (rows, description, rowcount, lastrowid). What may wait stays on aiosqlite's thread:
a write transaction's `BEGIN IMMEDIATE` when another process's writer holds the lock (it waits
on `busy_timeout`; it is tried in the loop first, without waiting, which in one process, where
Herald's writers take turns, is nearly always), `COMMIT` (it may checkpoint the write-ahead
log: disk writes and an fsync) and a `ROLLBACK` with a transaction to undo (the pool's reset of
a committed connection has none). A trip through the thread cost ~90 microseconds of CPU here
(aiosqlite's `SELECT 1`); a write transaction made three, now one. Between BEGIN and COMMIT a
write transaction holds SQLite's write lock, and readers never wait for writers in WAL mode,
so a statement in the loop only ever costs its own work.
Everything else (the transactions, errors, the mutex that orders statements on a connection)
is SQLAlchemy's own.

`run_sqlite_in_loop(engine)` switches an engine's connections to it as they connect; the
driver-level statements (`kit.driver_insert`, `kit.driver_query`, `kit.driver_statement`)
use `sqlite3_connection` for the same.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection, AsyncAdapt_aiosqlite_cursor
from sqlalchemy.ext.asyncio import AsyncEngine

BUSY_TIMEOUT_MS = 30_000
"""How long a write transaction waits for another process's writer."""
CONNECT_ARGS = {"check_same_thread": False}
"""aiosqlite opens each connection on its own thread; statements then run in the loop's."""


def sqlite3_connection(driver: Any) -> sqlite3.Connection:
    """The `sqlite3` connection under an aiosqlite one, for a statement run in the loop."""
    connection: sqlite3.Connection = driver._conn
    return connection


class _Outcome:
    """What a finished statement left on its cursor."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(self, cursor: sqlite3.Cursor | None = None) -> None:
        self.description = cursor.description if cursor is not None else None
        self.rowcount = cursor.rowcount if cursor is not None else -1
        self.lastrowid = cursor.lastrowid if cursor is not None else None
        self.arraysize = 1

    def close(self) -> None:
        """Nothing to close: the driver's cursor is closed once the statement has run."""


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


def _may_wait(operation: str) -> bool:
    """`BEGIN IMMEDIATE` and `BEGIN EXCLUSIVE` take the write lock; a plain `BEGIN` takes none."""
    words = operation.split(None, 2)
    return len(words) > 1 and words[0].upper() == "BEGIN" and words[1].upper() in {"IMMEDIATE", "EXCLUSIVE"}


def _began_without_waiting(connection: sqlite3.Connection, operation: str) -> bool:
    """Run the BEGIN in the loop if the write lock is free now; False if another process holds it."""
    connection.execute("PRAGMA busy_timeout=0")
    try:
        connection.execute(operation)
        return True
    except sqlite3.OperationalError as error:
        if connection.in_transaction or "locked" not in str(error):
            raise
        return False
    finally:
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def begin_in_loop(dbapi_connection: Any, operation: str) -> bool:
    """Begin a transaction on the connection right here, without SQLAlchemy's execution of a
    statement (a tenth of a millisecond): a plain BEGIN always; one that takes the write lock
    if the lock is free. False when it is not (the caller then sends the statement, which waits
    on the thread)."""
    if type(dbapi_connection) is not _InLoopConnection:
        return False
    connection = sqlite3_connection(dbapi_connection._connection)
    if not _may_wait(operation):
        connection.execute(operation)
        return True
    return _began_without_waiting(connection, operation)


class InLoopCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    _awaitable_cursor_close = False

    def _make_new_cursor(self, connection: Any) -> Any:
        return _Outcome()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            driver: Any = self._connection  # aiosqlite.Connection: `_execute` runs on its thread
            connection = sqlite3_connection(driver)
            if _may_wait(operation):  # `begin_in_loop` found the lock taken: wait for it on the thread
                outcome, rows = await driver._execute(_run, connection, operation, parameters, False)
            else:
                outcome, rows = _run(connection, operation, parameters, False)
            self._cursor = outcome
            self._rows = collections.deque(rows)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        async with self._adapt_connection._execute_mutex:
            outcome: Any = _run(sqlite3_connection(self._connection), operation, seq_of_parameters, True)[0]
            self._cursor = outcome


class _InLoopConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = InLoopCursor

    def rollback(self) -> None:
        """Nothing to undo (the pool's reset of a connection whose transaction committed): no
        trip through the thread."""
        connection = self._connection._connection
        if connection is not None and not connection.in_transaction:
            return
        super().rollback()


def run_sqlite_in_loop(engine: AsyncEngine) -> None:
    if not hasattr(AsyncAdapt_aiosqlite_cursor, "_make_new_cursor"):
        return  # a SQLAlchemy whose adapter is built differently: keep its own cursor

    @event.listens_for(engine.sync_engine, "connect", insert=True)
    def _adopt(dbapi_connection: Any, _record: Any) -> None:
        if type(dbapi_connection) is AsyncAdapt_aiosqlite_connection:
            dbapi_connection.__class__ = _InLoopConnection
