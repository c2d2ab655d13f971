"""A prebuilt INSERT of many rows, sent straight to the driver.

For the hot write path of triggers (an event, a notification and a job per recipient; a bulk
request of 100 events, or a group commit of thousands). Through `AsyncSession.execute`, each
row costs SQLAlchemy's per-row parameter work (`construct_params`, a bind processor per value,
the "insertmanyvalues" batching): most of the CPU of a bulk trigger. Here the statement is
compiled once per table and dialect by SQLAlchemy, values that every row shares (the scope,
`now`) go through their bind processor once per call, and a value object that several rows
carry one after another (one workflow snapshot for many events) once too; the rows then go to the
driver as they are: `executemany` on SQLite, multi-row VALUES with RETURNING on PostgreSQL.
The bind processors are SQLAlchemy's own for the dialect (SQLite's DATETIME strings, the JSON
serializer of the engine), so the stored values are exactly those SQLAlchemy would store.

Every column of the table must be given (no Python-side column default is applied here).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import JSON, Column, Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.driver_statement import driver_connection
from herald.kit.sqlite_in_loop import sqlite3_connection

_POSTGRESQL_MAX_PARAMETERS = 32_767
_LOOKUP_CHUNK = 500
_UNSET = object()
_NUMBERED = re.compile(r"\$(\d+)")
_Key = tuple[str, tuple[str, ...], tuple[str, ...]]
_BUILT: WeakKeyDictionary[Dialect, dict[_Key, DriverInsert]] = WeakKeyDictionary()


async def insert_rows(
    session: AsyncSession,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    shared: Mapping[str, Any],
    conflict: Sequence[str] = (),
) -> set[str]:
    """Insert `rows` into `table` in the session's transaction, skipping those that conflict
    on the unique `conflict` columns (if given). Each row gives every column that `shared`
    (the values common to all rows) does not. Returns the `id`s of the rows inserted."""
    if not rows:
        return set()
    dialect = session.get_bind().dialect
    built = _BUILT.setdefault(dialect, {})
    key = (table.name, tuple(conflict), tuple(shared))
    if key not in built:
        built[key] = DriverInsert(table, dialect, conflict, tuple(shared))
    return await built[key].insert(session, rows, shared)


class DriverInsert:
    """INSERT ... ON CONFLICT (`conflict`) DO NOTHING (or a plain INSERT) of whole rows: the
    columns each row gives first, then the `shared` ones."""

    def __init__(
        self, table: Table, dialect: Dialect, conflict: Sequence[str], shared: Sequence[str]
    ) -> None:
        self.table = table
        own = [column.name for column in table.columns if column.name not in shared]
        given = (*own, *shared)
        self.columns = tuple(column.name for column in table.columns)
        if sorted(given) != sorted(self.columns):
            raise ValueError(f"every column of {table.name} must be given once: {given}")
        # A row is gathered as (its own values..., the shared ones...), then put in table order.
        self._in_table_order = itemgetter(*(given.index(name) for name in self.columns))
        processors = {column.name: _bind_processor(column, dialect) for column in table.columns}
        self._own = itemgetter(*own) if len(own) > 1 else lambda row: (row[own[0]],)
        self._own_processed = tuple(
            (index, process) for index, name in enumerate(own) if (process := processors[name]) is not None
        )
        self._shared = tuple((name, processors[name]) for name in shared)
        self._id_index = self.columns.index("id")
        self._postgresql = dialect.name == "postgresql"
        module = postgresql if self._postgresql else sqlite
        statement = module.insert(table).values({name: bindparam(name) for name in self.columns})
        if conflict:
            statement = statement.on_conflict_do_nothing(index_elements=list(conflict))
        if self._postgresql:
            statement = statement.returning(table.c.id)
        compiled = statement.compile(dialect=dialect)
        if list(compiled.positiontup or ()) != list(self.columns):
            raise ValueError(f"unexpected parameter order in {compiled.string}")
        self._sql = compiled.string
        # PostgreSQL: the statement around its VALUES group, to repeat the group for many rows.
        start = self._sql.index(" VALUES (") + len(" VALUES ")
        end = _group_end(self._sql, start)
        self._head, self._group, self._tail = self._sql[:start], self._sql[start:end], self._sql[end:]
        self._page = max(1, _POSTGRESQL_MAX_PARAMETERS // len(self.columns))
        self._paged_sql: dict[int, str] = {}

    async def insert(
        self, session: AsyncSession, rows: Sequence[Mapping[str, Any]], shared: Mapping[str, Any]
    ) -> set[str]:
        common = tuple(
            shared[name] if process is None else process(shared[name]) for name, process in self._shared
        )
        own = [self._own(row) for row in rows]
        if self._own_processed:
            columns: list[Sequence[Any]] = list(zip(*own, strict=True))
            for index, process in self._own_processed:
                columns[index] = _processed(columns[index], process)
            own = list(zip(*columns, strict=True))
        order = self._in_table_order
        values = [order(values_of_row + common) for values_of_row in own]
        if self._postgresql:
            return await self._insert_postgresql(session, values)
        return await self._insert_sqlite(session, values)

    async def _insert_sqlite(self, session: AsyncSession, values: list[tuple[Any, ...]]) -> set[str]:
        _, driver = await driver_connection(session)
        connection = sqlite3_connection(driver)
        cursor = connection.executemany(self._sql, values)
        inserted = cursor.rowcount
        cursor.close()
        ids = [row[self._id_index] for row in values]
        if inserted == len(values):
            return set(ids)
        # Some rows were skipped: the ids are new, so those present now are the inserted ones.
        present: set[str] = set()
        name = self.table.name
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            chunk = ids[start : start + _LOOKUP_CHUNK]
            marks = ", ".join("?" * len(chunk))
            found = connection.execute(f'SELECT id FROM "{name}" WHERE id IN ({marks})', chunk).fetchall()
            present.update(row[0] for row in found)
        return present

    async def _insert_postgresql(self, session: AsyncSession, values: list[tuple[Any, ...]]) -> set[str]:
        connection = await session.connection()
        inserted: set[str] = set()
        for start in range(0, len(values), self._page):
            page = values[start : start + self._page]
            flat = tuple(value for row in page for value in row)
            result = await connection.exec_driver_sql(self._multi_row_sql(len(page)), flat)
            inserted.update(row[0] for row in result)
        return inserted

    def _multi_row_sql(self, count: int) -> str:
        if count not in self._paged_sql:
            width = len(self.columns)
            groups = [_renumbered(self._group, n * width) for n in range(count)]
            self._paged_sql[count] = self._head + ", ".join(groups) + self._tail
        return self._paged_sql[count]


def _bind_processor(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """SQLAlchemy's bind processor of the column. For a JSON column on SQLite, the engine's JSON
    serializer itself: for the values rows carry (not `JSON.NULL`) that is all the processor
    calls, and each JSON value of a bulk of triggers then costs one Python call fewer."""
    column_type = column.type
    if dialect.name == "sqlite" and isinstance(column_type, JSON) and not column_type.none_as_null:
        serializer: Callable[[Any], Any] | None = getattr(dialect, "_json_serializer", None)
        if serializer is not None:
            return serializer
    return column_type.dialect_impl(dialect).bind_processor(dialect)


def _processed(column: Sequence[Any], process: Callable[[Any], Any]) -> list[Any]:
    """The column's values through their bind processor. A value object that the previous row
    carried too (the events of a bulk share their workflow snapshot; absent actors are all
    None) is processed once."""
    results: list[Any] = []
    before: Any = _UNSET
    result: Any = None
    for value in column:
        if value is not before:
            before, result = value, process(value)
        results.append(result)
    return results


def _group_end(sql: str, start: int) -> int:
    """The index just past the parenthesized group opening at `start`."""
    depth = 0
    for index in range(start, len(sql)):
        if sql[index] == "(":
            depth += 1
        elif sql[index] == ")":
            depth -= 1
            if depth == 0:
                return index + 1
    raise ValueError(f"unbalanced VALUES group in {sql}")


def _renumbered(group: str, offset: int) -> str:
    """A VALUES group whose $n parameters are moved up by `offset`."""

    def moved(match: re.Match[str]) -> str:
        return f"${int(match[1]) + offset}"

    return _NUMBERED.sub(moved, group)
