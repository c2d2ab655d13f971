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

from herald.kit.driver_statement import CompiledReads


class SqlitePointReads:
    def __init__(self, path: str) -> None:
        self._path = path
        self._compiled = CompiledReads(SQLiteDialect_pysqlite())
        self._connection: sqlite3.Connection | None = None

    def rows(self, statement: Executable, parameters: Mapping[str, Any]) -> list[dict[str, Any]]:
        compiled = self._compiled[statement]
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
