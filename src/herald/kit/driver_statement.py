"""A prebuilt Core statement executed straight on the driver connection of a session.

For the few statements on a hot path (the idempotency claim of every POST). Through
`AsyncSession.execute`, one statement costs SQLAlchemy's ORM execution; here it is the
statement alone: run in the event loop on SQLite (`kit.sqlite_in_loop`), one
`asyncpg.Connection.fetch` round trip on PostgreSQL. The SQL is compiled once per dialect by
SQLAlchemy, with its bind casts and bind processors (SQLite's DATETIME strings), so it is the
very statement SQLAlchemy would have sent, inside the session's open transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Executable

from herald.kit.sqlite_in_loop import sqlite3_connection


async def driver_connection(session: AsyncSession) -> tuple[AsyncConnection, Any]:
    """The session's connection (its transaction begun: BEGIN IMMEDIATE in a SQLite write
    session) and the driver's own connection under it (aiosqlite's or asyncpg's). asyncpg's
    transaction is opened by SQLAlchemy with the first statement: until
    `driver.is_in_transaction()`, statements go through the returned SQLAlchemy connection."""
    connection = await session.connection()
    return connection, (await connection.get_raw_connection()).driver_connection


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
