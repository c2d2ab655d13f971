"""Point reads on PostgreSQL: small indexed lookups on asyncpg connections of their own.

The secret-key check of every request and a trigger's workflow lookup run here. Through an
`AsyncConnection`, each lookup also paid SQLAlchemy's per-execution work: the pool's checkout
and return, the AUTOCOMMIT isolation set and reset, parameter construction, result metadata,
greenlet switches (some 130 us of CPU per read in bench/, two reads per trigger). Here a read is
one asyncpg `fetch` (its statement cache prepares each query once per connection) outside any
transaction, so it sees what is committed at that moment.

A read that fails for any reason answers None: the caller reads through SQLAlchemy instead,
which gives the failure its usual form (or succeeds on a fresh pooled connection). A connection
that was closed under a read (a restarted server) is dropped, never reused; after a failed
connect, reads go through SQLAlchemy for a few seconds before a connection is tried again.
Connections are opened with the arguments SQLAlchemy's asyncpg dialect makes of the database
URL (`?ssl=require` and the like), less the dialect's own.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from typing import Any

import asyncpg
from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncEngine

from herald.kit.driver_statement import CompiledReads

_DIALECT_ONLY_ARGUMENTS = (
    "async_creator_fn",
    "prepared_statement_cache_size",
    "prepared_statement_name_func",
)
_SECONDS_BEFORE_CONNECTING_AGAIN = 5.0


class PostgresPointReads:
    def __init__(self, engine: AsyncEngine, connections: int) -> None:
        """At most `connections` reads at once, each on a connection of its own."""
        _, arguments = engine.dialect.create_connect_args(engine.url)
        self._connect_arguments = {
            name: value for name, value in arguments.items() if name not in _DIALECT_ONLY_ARGUMENTS
        }
        self._compiled = CompiledReads(engine.dialect)
        self._slots = asyncio.Semaphore(connections)
        self._idle: list[asyncpg.Connection] = []
        self._disposed = False
        self._connect_again_at = 0.0

    async def rows(self, statement: Executable, parameters: Mapping[str, Any]) -> list[dict[str, Any]] | None:
        compiled = self._compiled[statement]
        arguments = compiled.sql.arguments(parameters)
        async with self._slots:
            if not self._idle and time.monotonic() < self._connect_again_at:
                return None
            try:
                connection = self._idle.pop() if self._idle else await self._connect()
            except Exception:  # refused, timed out, too many connections...: SQLAlchemy's turn
                self._connect_again_at = time.monotonic() + _SECONDS_BEFORE_CONNECTING_AGAIN
                return None
            try:
                records = await connection.fetch(compiled.sql.sql, *arguments)
            except Exception:
                self._put_back(connection)
                return None
            except BaseException:  # cancelled mid-read: its connection's state is unknown
                connection.terminate()
                raise
            self._put_back(connection)
        if not compiled.typed:
            return [dict(record.items()) for record in records]
        return [compiled.mapping(record) for record in records]

    async def dispose(self) -> None:
        """Close the idle connections; one still reading is closed when its read ends."""
        self._disposed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()

    def _put_back(self, connection: asyncpg.Connection) -> None:
        if self._disposed:
            connection.terminate()
        elif not connection.is_closed():
            self._idle.append(connection)

    async def _connect(self) -> asyncpg.Connection:
        connection = await asyncpg.connect(**self._connect_arguments)
        # As SQLAlchemy's asyncpg dialect decodes them: JSON columns come back as Python values.
        for json_type in ("json", "jsonb"):
            await connection.set_type_codec(json_type, encoder=str, decoder=json.loads, schema="pg_catalog")
        return connection
