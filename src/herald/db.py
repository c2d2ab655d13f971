"""Engine, session factories, transaction scopes and migrations.

SQLite serializes writers; a transaction that reads first and writes later can fail with
SQLITE_BUSY instead of waiting. Write scopes therefore open with `BEGIN IMMEDIATE`, taking
the write lock up front (and waiting on `busy_timeout`), while read scopes stay deferred.
Within one process, write transactions also queue on an asyncio lock first: SQLite's busy
handler waits by sleeping (up to 100 ms a time), so many writers of one process polling for
the file lock would spend most of their time asleep; queued in-process they hand over at once.
That turn is taken when the transaction begins (its first statement), not when the session
opens, so a write scope that ends up only reading, or not touching the database at all, never
makes other writers wait.
"""

from __future__ import annotations

import ast
import asyncio
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Connection, Executable, event, inspect, make_url, text
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from herald.config import Settings
from herald.kit.after_commit import run_actions, take_after_commit
from herald.kit.configuration_cache import ConfigurationCache, SharedGeneration, track_configuration_changes
from herald.kit.idle_ping import ping_connections_after_idle
from herald.kit.lean_imports import hidden
from herald.kit.sqlite_checkpoints import NO_AUTOMATIC_CHECKPOINTS, WalCheckpoints
from herald.kit.sqlite_in_loop import BUSY_TIMEOUT_MS, CONNECT_ARGS, begin_in_loop, run_sqlite_in_loop
from herald.kit.sqlite_point_reads import SqlitePointReads

if TYPE_CHECKING:
    from alembic.config import Config

    from herald.kit.postgresql_point_reads import PostgresPointReads

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_WRITE_OPTION = "herald_write"
_MIGRATION_LOCK_ID = 7_400_112_233
_TURN_KEY = "herald_sqlite_write_turn"
_ANALYSIS_ROWS_PER_INDEX = 400
_POOL_SIZE = 10
# PostgreSQL point reads at once (each on a connection of its own), and as many at most through
# the pool when those fail: fewer than the pool holds, so that a burst of requests (each reads its
# key and its workflow) queues for a moment instead of opening overflow connections, which are
# closed again on return (a connection costs several round trips to set up).
_CONCURRENT_POINT_READS = 4
# The tables that the configuration caches (`Database.configuration_cache`) read from: a commit
# that changes one of them makes every process read those caches' values again.
CONFIGURATION_TABLES = frozenset({"organizations", "environments", "api_keys", "workflows", "workflow_steps"})


class _SqliteWriteTurn:
    """The in-process queue of SQLite writers. Taken (in SQLAlchemy's greenlet) as a write
    transaction begins, before its BEGIN IMMEDIATE; given back by the session that began it,
    once that session has committed or rolled back."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    def take(self) -> None:
        await_only(self._lock.acquire())

    def give_back(self) -> None:
        self._lock.release()


class _ReadSession(Session):
    """The sync session behind read scopes."""


class _WriteSession(Session):
    """The sync session behind write scopes; on SQLite it carries the write turn it took."""


@event.listens_for(_WriteSession, "after_begin")
def _keep_write_turn(session: Session, _transaction: Any, connection: Connection) -> None:
    if connection.info.pop(_TURN_KEY, False):
        session.info[_TURN_KEY] = True


class Database:
    def __init__(self, settings: Settings) -> None:
        url = settings.resolved_database_url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = create_async_engine(url, hide_parameters=True, **_engine_options(url))
        self._sqlite_writer = _SqliteWriteTurn()
        self._sqlite_point_reads: SqlitePointReads | None = None
        self._postgresql_point_reads: PostgresPointReads | None = None
        self._point_read_slots = asyncio.Semaphore(_CONCURRENT_POINT_READS)
        # No BEGIN and ROLLBACK around a single read: two round trips fewer on PostgreSQL.
        self._point_read_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._configuration_generation: SharedGeneration | None = None
        self._configuration_caches: dict[str, ConfigurationCache[Any]] = {}
        self._wal_checkpoints: WalCheckpoints | None = None
        session_info: dict[str, Any] = {}
        if self.is_sqlite:
            database_file = make_url(url).database or ""
            if database_file and database_file != ":memory:":
                self._configuration_generation = SharedGeneration.beside(database_file)
                self._wal_checkpoints = WalCheckpoints(database_file)
            run_sqlite_in_loop(self.engine)
            checkpoints_apart = self._wal_checkpoints is not None
            _configure_sqlite(self.engine, self._sqlite_writer, checkpoints_apart=checkpoints_apart)
            self._sqlite_point_reads = SqlitePointReads(database_file)
        else:
            ping_connections_after_idle(self.engine)
            from herald.kit.postgresql_point_reads import PostgresPointReads  # asyncpg: only here

            self._postgresql_point_reads = PostgresPointReads(self.engine, _CONCURRENT_POINT_READS)
        if self._configuration_generation is not None:
            for session_class in (_ReadSession, _WriteSession):
                track_configuration_changes(
                    session_class, session_info, self._configuration_generation, CONFIGURATION_TABLES
                )
        self._read_sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=_ReadSession, info=session_info
        )
        self._write_sessions = async_sessionmaker(
            self.engine.execution_options(**{_WRITE_OPTION: True}),
            expire_on_commit=False,
            sync_session_class=_WriteSession,
            info=session_info,
        )

    @asynccontextmanager
    async def session(self, *, write: bool) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends cleanly, rolled back otherwise. Its
        after-commit actions run once the session (and SQLite's write turn) is released."""
        factory = self._write_sessions if write else self._read_sessions
        async with factory() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                take_after_commit(session)
                await session.rollback()
                raise
            finally:
                self._release_sqlite_write_turn(session)
            actions = take_after_commit(session)
        if write and self._wal_checkpoints is not None:
            self._wal_checkpoints.after_write_commit()
        await run_actions(actions)

    def _release_sqlite_write_turn(self, session: AsyncSession) -> None:
        if session.info.pop(_TURN_KEY, False):
            self._sqlite_writer.give_back()

    @asynccontextmanager
    async def exclusive_session(self) -> AsyncIterator[AsyncSession]:
        """A write transaction that concurrent starters of Herald take in turn."""
        async with self._write_sessions() as session:
            try:
                if not self.is_sqlite:
                    await session.execute(
                        text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
                    )
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            finally:
                self._release_sqlite_write_turn(session)

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

    async def point_read(
        self, statement: Executable, parameters: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """The rows (column-to-value mappings) of a small read-only Core query (an indexed
        lookup of a row or two), outside any request transaction, seeing everything committed.
        The hot paths (the secret-key check of every request, a trigger's workflow) use it: on
        SQLite it runs synchronously on a read-only connection of its own, in the event loop's
        thread, where such a lookup takes some 10 microseconds instead of the ~400 of a round
        trip through aiosqlite's thread and the async session (`herald.kit.sqlite_point_reads`).
        On PostgreSQL it is one asyncpg round trip on a connection kept for these reads
        (`herald.kit.postgresql_point_reads`), through SQLAlchemy only if that fails.
        Never give it a query that scans."""
        if self._sqlite_point_reads is not None:
            return self._sqlite_point_reads.rows(statement, parameters or {})
        if self._postgresql_point_reads is not None:
            rows = await self._postgresql_point_reads.rows(statement, parameters or {})
            if rows is not None:
                return rows
        async with self._point_read_slots, self._point_read_engine.connect() as connection:
            result = await connection.execute(statement, parameters or {})
            return [dict(row) for row in result.mappings()]

    def configuration_cache(self, name: str) -> ConfigurationCache[Any]:
        """The process's cache `name` of values read from `CONFIGURATION_TABLES`, exact across
        processes (`herald.kit.configuration_cache`); on PostgreSQL one that keeps nothing."""
        if name not in self._configuration_caches:
            self._configuration_caches[name] = ConfigurationCache(self._configuration_generation)
        return self._configuration_caches[name]

    async def refresh_planner_statistics(self) -> None:
        """SQLite plans without statistics until ANALYZE runs (a large activity feed then takes
        tens of times longer); PostgreSQL's autovacuum keeps its own. `analysis_limit` makes
        ANALYZE sample a few hundred rows per index, so it holds the write turn for milliseconds."""
        if not self.is_sqlite:
            return
        async with self.session(write=True) as session:
            await session.execute(text(f"PRAGMA analysis_limit={_ANALYSIS_ROWS_PER_INDEX}"))
            await session.execute(text("ANALYZE"))

    async def dispose(self) -> None:
        if self._wal_checkpoints is not None:
            await self._wal_checkpoints.close()
        await self.engine.dispose()
        if self._sqlite_point_reads is not None:
            self._sqlite_point_reads.dispose()
        if self._postgresql_point_reads is not None:
            await self._postgresql_point_reads.dispose()
        if self._configuration_generation is not None:
            self._configuration_generation.close()
            self._configuration_generation = None


def alembic_config(connection: Connection | None = None) -> Config:
    # Loaded here, only to migrate: alembic takes some 10 MB. Its template engine (mako) would
    # also load pygments, only to highlight the HTML pages of template errors; it does without.
    with hidden(("pygments",)):
        from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade_to_head(connection: Connection) -> None:
    """Alembic's `upgrade heads`; a database already at the heads is left alone without loading
    alembic, so a restarted server does not carry it."""
    heads = _head_revisions()
    if heads is not None and heads == _applied_revisions(connection):
        return
    config = alembic_config(connection)
    from alembic import command

    command.upgrade(config, "heads")


def _applied_revisions(connection: Connection) -> frozenset[str]:
    if not inspect(connection).has_table("alembic_version"):
        return frozenset()
    return frozenset(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


@cache
def _head_revisions() -> frozenset[str] | None:
    """The revisions no migration script names as its `down_revision`, read from the scripts'
    literal assignments; None (let alembic decide) if a script does not assign them literally."""
    revisions: set[str] = set()
    superseded: set[str] = set()
    for script in (MIGRATIONS_DIR / "versions").glob("*.py"):
        values: dict[str, Any] = {}
        for statement in ast.parse(script.read_text()).body:
            if isinstance(statement, ast.Assign | ast.AnnAssign):
                targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
                for target in targets:
                    if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                        try:
                            values[target.id] = ast.literal_eval(statement.value) if statement.value else None
                        except ValueError:
                            return None
        revision, down = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str):
            return None
        revisions.add(revision)
        if isinstance(down, str):
            superseded.add(down)
        elif isinstance(down, tuple | list):
            superseded.update(str(item) for item in down)
        elif down is not None:
            return None
    return frozenset(revisions - superseded) or None


def json_text(value: Any) -> str:
    """JSON columns are written with orjson (several times faster than the standard library, which
    shows in bulk triggers); non-string keys are turned into strings, as `json.dumps` does. What
    orjson refuses (an integer beyond 64 bits, which JSON itself allows) goes through `json`."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value)


def _engine_options(url: str) -> dict[str, Any]:
    # Read back with `json`: orjson would turn an integer beyond 64 bits into a float.
    json_options = {"json_serializer": json_text}
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": 30, **CONNECT_ARGS}, **json_options}
    # Not `pool_pre_ping`: `kit.idle_ping` checks only connections that sat idle.
    return {"pool_size": _POOL_SIZE, "max_overflow": 20, **json_options}


def _configure_sqlite(engine: AsyncEngine, writer: _SqliteWriteTurn, *, checkpoints_apart: bool) -> None:
    pragmas = [
        "PRAGMA journal_mode=WAL",
        "PRAGMA synchronous=NORMAL",
        "PRAGMA foreign_keys=ON",
        f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    ]
    if checkpoints_apart:  # `WalCheckpoints` does them
        pragmas.append(NO_AUTOMATIC_CHECKPOINTS)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
            cursor.execute(pragma)
        cursor.close()

    def _begin(connection: Connection, statement: str) -> None:
        """In the event loop if it need not wait (`begin_in_loop`), else through SQLAlchemy."""
        if not begin_in_loop(connection.connection.dbapi_connection, statement):
            connection.exec_driver_sql(statement)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if not connection.get_execution_options().get(_WRITE_OPTION, False):
            _begin(connection, "BEGIN")
            return
        writer.take()
        try:
            _begin(connection, "BEGIN IMMEDIATE")
        except BaseException:
            writer.give_back()
            raise
        connection.info[_TURN_KEY] = True
