"""Point reads on SQLite: small indexed lookups straight on a pysqlite connection.

The secret-key check of every request and a trigger's workflow lookup run here. Each
statement is compiled once; a read is then one `cursor.execute` plus the columns' own result
processors (datetimes, JSON), with none of SQLAlchemy's per-execution work (parameter
construction, result metadata, the connection's transaction bookkeeping), which would cost
several times the lookup itself.

The connection is read-only (`PRAGMA query_only`) and separate from the async engine's.
pysqlite begins no transaction for a SELECT, so every read sees what is committed at that
moment; in WAL mode a reader never waits for the writer.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import Dialect

from herald.kit.driver_statement import CompiledSql

_MAX_COMPILED_STATEMENTS = 256


class _CompiledRead:
    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        self.sql = CompiledSql(statement, dialect)
        columns = self.sql.compiled._result_columns
        self._keys = tuple(column.keyname for column in columns)
        self._processors = tuple(column.type._cached_result_processor(dialect, None) for column in columns)

    def mapping(self, row: tuple[Any, ...]) -> dict[str, Any]:
        return {
            key: processor(value) if processor is not None else value
            for key, processor, value in zip(self._keys, self._processors, row, strict=True)
        }


class SqlitePointReads:
    def __init__(self, path: str) -> None:
        self._path = path
        self._dialect = SQLiteDialect_pysqlite()
        self._compiled: dict[Executable, _CompiledRead] = {}
        self._connection: sqlite3.Connection | None = None

    def rows(self, statement: Executable, parameters: Mapping[str, Any]) -> list[dict[str, Any]]:
        compiled = self._compiled.get(statement) or self._compile(statement)
        cursor = self._connect().execute(compiled.sql.sql, compiled.sql.arguments(parameters))
        try:
            return [compiled.mapping(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def dispose(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self._path, timeout=5, check_same_thread=False)
            connection.execute("PRAGMA query_only=ON")
            self._connection = connection
        return self._connection

    def _compile(self, statement: Executable) -> _CompiledRead:
        read = _CompiledRead(statement, self._dialect)
        if len(self._compiled) >= _MAX_COMPILED_STATEMENTS:
            self._compiled.clear()
        self._compiled[statement] = read
        return read
