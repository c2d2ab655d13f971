"""Engine, session factories, transaction scopes and migrations.

SQLite serializes writers; a transaction that reads first and writes later can fail with
SQLITE_BUSY instead of waiting. Write scopes therefore open with `BEGIN IMMEDIATE`, taking
the write lock up front (and waiting on `busy_timeout`), while read scopes stay deferred.
Within one process, write scopes also queue on an asyncio lock first: SQLite's busy handler
waits by sleeping (up to 100 ms a time), so many writers of one process polling for the file
lock would spend most of their time asleep; queued in-process they hand over at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from herald.config import Settings
from herald.kit.after_commit import run_actions, take_after_commit

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_WRITE_OPTION = "herald_write"
_MIGRATION_LOCK_ID = 7_400_112_233


class Database:
    def __init__(self, settings: Settings) -> None:
        url = settings.resolved_database_url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = create_async_engine(url, hide_parameters=True, **_engine_options(url))
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._read_sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(
            self.engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )
        self._sqlite_writer = asyncio.Lock()

    @asynccontextmanager
    async def session(self, *, write: bool) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends cleanly, rolled back otherwise. Its
        after-commit actions run once the session (and SQLite's write turn) is released."""
        factory = self._write_sessions if write else self._read_sessions
        async with self._sqlite_write_turn(write), factory() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                take_after_commit(session)
                await session.rollback()
                raise
            actions = take_after_commit(session)
        await run_actions(actions)

    @asynccontextmanager
    async def _sqlite_write_turn(self, write: bool) -> AsyncIterator[None]:
        if not (write and self.is_sqlite):
            yield
            return
        async with self._sqlite_writer:
            yield

    @asynccontextmanager
    async def exclusive_session(self) -> AsyncIterator[AsyncSession]:
        """A write transaction that concurrent starters of Herald take in turn."""
        async with self._sqlite_write_turn(True), self._write_sessions() as session:
            if not self.is_sqlite:
                await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise

    async def migrate(self, session: AsyncSession) -> None:
        """Apply every pending migration inside the given (exclusive) session's transaction."""
        connection = await session.connection()
        await connection.run_sync(_upgrade_to_head)

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception:
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade_to_head(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "heads")


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {"pool_size": 10, "max_overflow": 20, "pool_pre_ping": True}


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=30000",
        ):
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
