"""Hand-written queries run on the driver connection, inside a session's transaction.

For the reads and updates of the delivery engine's batches and the job queue (one statement
for hundreds of jobs). Through `AsyncSession.execute`, SQLAlchemy builds each execution's
parameters and result rows generically; here the SQL is written once for both dialects, the
parameters of datetime columns go through SQLAlchemy's own bind processors (SQLite's DATETIME
strings), and a list of ids is one parameter. Inserts go through `herald.kit.driver_insert`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.types import TypeEngine

from herald.kit.driver_statement import driver_connection
from herald.kit.sqlite_in_loop import sqlite3_connection

Processor = Callable[[Any], Any]


class DriverQuery:
    """A hand-written query run on the driver connection, inside the session's transaction;
    rows come back as the driver gives them (JSON as text, SQLite booleans as 0/1): the caller
    converts what it reads.

    Written with `?` for a value and `{ids}` for "is one of a list of strings", which takes one
    parameter, the list (SQLite: `IN (SELECT value FROM json_each(?))` with the list as JSON;
    PostgreSQL: `= ANY($n::varchar[])`): the SQL is the same whatever the list's length.

    On PostgreSQL a query with a list is prepared afresh each time, so that it is planned for
    its own list and the table's current size. A statement asyncpg keeps prepared may get a
    generic plan after five runs, kept until the table is analyzed again: one made while the
    table was tiny (a new installation; autovacuum off) is a sequential scan that searches the
    list row by row. Measured in bench/: a fan-out chunk's lookup of 1,000 subscribers took
    2.3 s at 60,000 subscribers on such a plan, 15-20 ms planned afresh; a 100,000-member topic
    went from 193 to ~1,270 messages/s. Each costs one round trip more (Parse), where
    `plan_cache_mode=force_custom_plan` for every statement cost bulk triggers 30%."""

    def __init__(
        self,
        sql: str,
        *,
        json_columns: Sequence[int] = (),
        bool_columns: Sequence[int] = (),
        types: Mapping[int, TypeEngine[Any]] | None = None,
    ) -> None:
        """`json_columns` and `bool_columns` (positions in the row) are converted on SQLite as
        SQLAlchemy would (asyncpg's codecs, set by SQLAlchemy, already give Python values);
        the parameters at the positions of `types` go through those types' bind processors
        (SQLite's DATETIME strings). `{skip_locked}` is `FOR UPDATE SKIP LOCKED` on PostgreSQL."""
        self._json_columns = tuple(json_columns)
        self._bool_columns = tuple(bool_columns)
        self._types = dict(types or {})
        self._processors: dict[str, list[tuple[int, Processor]]] = {}
        tokens = _PLACEHOLDER.split(sql.replace("{skip_locked}", "\0"))
        sqlite_sql: list[str] = []
        postgresql_sql: list[str] = []
        lists: set[int] = set()
        position = 0
        for token in tokens:
            if token == "?":
                sqlite_sql.append("?")
            elif token == "{ids}":
                sqlite_sql.append("IN (SELECT value FROM json_each(?))")
                lists.add(position)
            else:
                sqlite_sql.append(token)
                postgresql_sql.append(token)
                continue
            position += 1
            postgresql_sql.append(f"${position}" if token == "?" else f"= ANY(${position}::varchar[])")
        self._sqlite = "".join(sqlite_sql).replace("\0", "")
        self._postgresql = "".join(postgresql_sql).replace("\0", "FOR UPDATE SKIP LOCKED")
        self._lists = frozenset(lists)

    def _values(self, dialect: Dialect, parameters: Sequence[Any]) -> list[Any]:
        processors = self._processors.get(dialect.name)
        if processors is None:
            processors = self._processors[dialect.name] = [
                (index, process)
                for index, type_ in self._types.items()
                if (process := type_.dialect_impl(dialect).bind_processor(dialect)) is not None
            ]
        values = list(parameters)
        for index, convert in processors:
            values[index] = convert(values[index])
        if dialect.name != "postgresql":
            for index in self._lists:
                values[index] = orjson.dumps(list(values[index])).decode()
        return values

    async def _begin_for_a_list(self, connection: AsyncConnection, driver: Any) -> None:
        """SQLAlchemy sends a transaction's BEGIN with its first statement, through its own cache
        of prepared statements; a query with a list is not to be that statement."""
        if self._lists and not driver.is_in_transaction():
            await connection.exec_driver_sql("SELECT 1")

    async def execute(self, session: AsyncSession, *parameters: Any) -> int:
        """Run a statement that returns no rows; the number of rows it changed."""
        connection, driver = await driver_connection(session)
        values = self._values(connection.dialect, parameters)
        if connection.dialect.name == "postgresql":
            await self._begin_for_a_list(connection, driver)
            if not driver.is_in_transaction():
                result = await connection.exec_driver_sql(self._postgresql, tuple(values))
                return int(result.rowcount)
            if self._lists:
                statement = await driver.prepare(self._postgresql)  # planned afresh: see the class
                await statement.fetch(*values)
                status: str = statement.get_statusmsg()
            else:
                status = await driver.execute(self._postgresql, *values)
            return int(status.rpartition(" ")[2] or 0)
        return int(sqlite3_connection(driver).execute(self._sqlite, values).rowcount)

    async def rows(self, session: AsyncSession, *parameters: Any) -> list[Any]:
        connection, driver = await driver_connection(session)
        values = self._values(connection.dialect, parameters)
        if connection.dialect.name == "postgresql":
            await self._begin_for_a_list(connection, driver)
            if not driver.is_in_transaction():
                result = await connection.exec_driver_sql(self._postgresql, tuple(values))
                return list(result.all())
            if self._lists:
                return list(await (await driver.prepare(self._postgresql)).fetch(*values))
            return list(await driver.fetch(self._postgresql, *values))
        rows = sqlite3_connection(driver).execute(self._sqlite, values).fetchall()
        if not self._json_columns and not self._bool_columns:
            return list(rows)
        converted: list[Any] = []
        loads = json.loads
        for row in rows:
            line = list(row)
            for index in self._json_columns:
                text = line[index]
                if text is None or text == "null":
                    line[index] = None
                elif text == "{}":
                    line[index] = {}
                else:
                    line[index] = loads(text)
            for index in self._bool_columns:
                if (flag := line[index]) is not None:
                    line[index] = bool(flag)
            converted.append(line)
        return converted


_PLACEHOLDER = re.compile(r"(\?|\{ids\})")
