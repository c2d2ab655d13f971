"""A prebuilt Core statement executed straight on the driver connection of a session.

For the few statements on a hot path (the idempotency claim of every POST). Through
`AsyncSession.execute`, one statement costs SQLAlchemy's ORM execution; here it is the
statement alone: run in the event loop on SQLite (`kit.sqlite_in_loop`), one
`asyncpg.Connection.fetch` round trip on PostgreSQL. The SQL is compiled once per dialect by
SQLAlchemy, with its bind casts and bind processors (SQLite's DATETIME strings), so it is the
very statement SQLAlchemy would have sent, inside the session's open transaction.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Executable

from herald.kit.sqlite_in_loop import sqlite3_connection


async def driver_connection(session: AsyncSession) -> tuple[AsyncConnection, Any]:
    """The session's connection (its transaction begun: BEGIN IMMEDIATE in a SQLite write
    session) and the driver's own connection under it (aiosqlite's or asyncpg's). asyncpg's
    transaction is opened by SQLAlchemy with the first statement: until
    `driver.is_in_transaction()`, statements go through the returned SQLAlchemy connection.

    Both are looked up once per transaction: through SQLAlchemy, each lookup is a greenlet
    round trip (~0.1 ms of CPU here), and a trigger's transaction makes a dozen of them."""
    transaction = session.sync_session.get_transaction()
    known: _KnownConnection | None = session.info.get(_CONNECTION_KEY)
    if known is not None and transaction is not None and known.transaction() is transaction:
        return known.connection, known.driver
    connection = await session.connection()
    driver = (await connection.get_raw_connection()).driver_connection
    began = session.sync_session.get_transaction()
    if began is not None:
        session.info[_CONNECTION_KEY] = _KnownConnection(weakref.ref(began), connection, driver)
    return connection, driver


@dataclass(frozen=True)
class _KnownConnection:
    """The connections of one transaction of a session (held weakly: a later transaction of the
    same session may run on another connection)."""

    transaction: weakref.ref[SessionTransaction]
    connection: AsyncConnection
    driver: Any


_CONNECTION_KEY = "herald.driver_connection"


class CompiledSql:
    """A Core statement compiled once for a dialect: its SQL text, and the positional arguments
    for given values (literals filled in, bind processors applied)."""

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        assert isinstance(compiled, SQLCompiler)
        self.compiled = compiled
        self.sql = compiled.string
        binds = [(name, compiled.binds[name]) for name in compiled.positiontup or ()]
        # (name, value of a literal such as `status_code = NULL` for a name not given, processor)
        self._parameters: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...] = tuple(
            (name, bind.effective_value, bind.type.dialect_impl(dialect).bind_processor(dialect))
            for name, bind in binds
        )

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        arguments = []
        for name, literal, process in self._parameters:
            value = values.get(name, literal)
            arguments.append(value if process is None else process(value))
        return arguments


class CompiledRead:
    """A read compiled once for a dialect, and its rows turned into column-to-value mappings
    by the columns' own result processors (SQLite's datetimes and JSON). A textual statement
    has no typed columns: `typed` is False and its rows are taken as the driver names them."""

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        self.sql = CompiledSql(statement, dialect)
        columns = self.sql.compiled._result_columns
        self.typed = bool(columns)
        self._keys = tuple(column.keyname for column in columns)
        self._processors = tuple(column.type._cached_result_processor(dialect, None) for column in columns)

    def mapping(self, row: Sequence[Any]) -> dict[str, Any]:
        return {
            key: processor(value) if processor is not None else value
            for key, processor, value in zip(self._keys, self._processors, row, strict=True)
        }


class CompiledReads:
    """The reads compiled so far for one dialect (a bounded number: the hot paths use a few)."""

    _LIMIT = 256

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._compiled: dict[Executable, CompiledRead] = {}

    def __getitem__(self, statement: Executable) -> CompiledRead:
        read = self._compiled.get(statement)
        if read is None:
            if len(self._compiled) >= self._LIMIT:
                self._compiled.clear()
            read = self._compiled[statement] = CompiledRead(statement, self.dialect)
        return read


class DriverStatement:
    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        self.statement = statement
        self._compiled = CompiledSql(statement, dialect)
        self._postgresql = dialect.name == "postgresql"

    async def fetch(self, session: AsyncSession, values: Mapping[str, Any]) -> Sequence[Any]:
        """The rows of the statement, run in the session's transaction."""
        _, driver = await driver_connection(session)
        if self._postgresql and not driver.is_in_transaction():
            return list((await session.execute(self.statement, dict(values))).all())
        parameters = self._compiled.arguments(values)
        if self._postgresql:
            return list(await driver.fetch(self._compiled.sql, *parameters))
        return sqlite3_connection(driver).execute(self._compiled.sql, parameters).fetchall()
