"""The database helpers: SQLite's write turn, point reads, planner statistics."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import bindparam, func, make_url, select, text
from sqlalchemy.exc import DBAPIError

from herald.config import Settings
from herald.db import Database
from herald.kit import idle_ping
from herald.kit.driver_statement import driver_connection
from herald.models import Environment, Workflow
from tests.engine.helpers import create_workflow, in_app, wait_for
from tests.support import POSTGRES_URL, RunningServer


def _statistics_rows(settings: Settings) -> int:
    async def count() -> int:
        database = Database(settings)
        try:
            async with database.session(write=False) as session:
                exists = await session.execute(
                    text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
                )
                if not exists.scalar():
                    return 0
                return int((await session.execute(text("SELECT count(*) FROM sqlite_stat1"))).scalar() or 0)
        finally:
            await database.dispose()

    return asyncio.run(count())


@pytest.mark.skipif(bool(POSTGRES_URL), reason="PostgreSQL's autovacuum keeps its own statistics")
def test_a_started_server_gives_sqlite_planner_statistics(server: RunningServer) -> None:
    assert wait_for(lambda: _statistics_rows(server.settings), "sqlite_stat1 rows") > 0


def test_a_write_session_that_has_not_begun_never_makes_writers_wait(server: RunningServer) -> None:
    async def scenario() -> None:
        database = Database(server.settings)
        try:
            async with database.session(write=True) as idle_writer:
                assert idle_writer is not None
                async with database.session(write=True) as writer:
                    await writer.execute(select(Environment.id).limit(1))
        finally:
            await database.dispose()

    asyncio.run(asyncio.wait_for(scenario(), timeout=30))


def test_point_reads_see_what_was_just_committed(server: RunningServer) -> None:
    async def scenario() -> None:
        database = Database(server.settings)
        try:
            statement = select(Environment.name).where(Environment.name == "Renamed")
            assert await database.point_read(statement) == []
            async with database.session(write=True) as session:
                await session.execute(
                    Environment.__table__.update()  # type: ignore[attr-defined]
                    .where(Environment.name == "Development")
                    .values(name="Renamed")
                )
            assert await database.point_read(statement) == [{"name": "Renamed"}]
        finally:
            await database.dispose()

    asyncio.run(scenario())


def test_driver_connection_is_the_one_of_the_sessions_current_transaction(settings: Settings) -> None:
    """Looked up once per transaction: a session that commits and goes on gets the connection
    of its new transaction, not the one it had."""

    async def scenario() -> None:
        database = Database(settings)
        try:
            async with database.session(write=False) as session:
                first, _ = await driver_connection(session)
                assert (await driver_connection(session))[0] is first
                await session.commit()
                second, driver = await driver_connection(session)
                assert second is await session.connection()
                assert second is not first
                assert (await session.execute(text("SELECT 1"))).scalar() == 1
                assert driver is (await second.get_raw_connection()).driver_connection
        finally:
            await database.dispose()

    asyncio.run(scenario())


async def _backend_pid(database: Database) -> int:
    """The backend of a pooled connection (point reads have connections of their own)."""
    async with database.session(write=False) as session:
        return int((await session.execute(select(func.pg_backend_pid()))).scalar_one())


async def _point_read_backend_pid(database: Database) -> int:
    rows = await database.point_read(select(func.pg_backend_pid().label("pid")))
    return int(rows[0]["pid"])


async def _terminate(admin: Database, pid: int) -> None:
    """Kill a backend and wait until it has exited (pg_terminate_backend only signals it)."""
    await admin.point_read(select(func.pg_terminate_backend(pid).label("done")))
    alive = text("SELECT count(*) AS n FROM pg_stat_activity WHERE pid = :pid")
    for _ in range(500):
        if not (await admin.point_read(alive, {"pid": pid}))[0]["n"]:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"backend {pid} still alive")


@pytest.mark.skipif(not POSTGRES_URL, reason="pooled connections are PostgreSQL's")
@pytest.mark.parametrize("idle_seconds", [0.0, 3600.0])
def test_a_connection_that_died_while_idle_is_replaced_before_use(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, idle_seconds: float
) -> None:
    """Pinged once it sat idle for IDLE_SECONDS_BEFORE_PING: a dead one is replaced and the read
    succeeds; one in steady use is not pinged (its read then fails, once)."""
    monkeypatch.setattr(idle_ping, "IDLE_SECONDS_BEFORE_PING", idle_seconds)

    async def scenario() -> None:
        database = Database(settings)
        admin = Database(settings)
        try:
            before = await _backend_pid(database)
            await _terminate(admin, before)
            if idle_seconds:
                with pytest.raises(DBAPIError):
                    await _backend_pid(database)
            else:
                assert await _backend_pid(database) != before
            assert await _backend_pid(database) != before
        finally:
            await database.dispose()
            await admin.dispose()

    asyncio.run(scenario())


@pytest.mark.skipif(not POSTGRES_URL, reason="asyncpg point reads are PostgreSQL's")
def test_postgresql_point_reads_give_what_sqlalchemy_gives(server: RunningServer) -> None:
    """JSON documents as Python values, timestamps with their time zone, booleans, NULLs."""
    with server.client() as client:
        create_workflow(client, "read-back", [in_app()], tags=["a", "b"], payloadSchema={"type": "object"})
        assert client.post("/v1/events/trigger", json={"name": "read-back", "to": "s"}).status_code == 201
    statement = select(Workflow.__table__).where(Workflow.identifier == bindparam("identifier"))

    async def scenario() -> None:
        database = Database(server.settings)
        try:
            through_asyncpg = await database.point_read(statement, {"identifier": "read-back"})
            assert await _point_read_backend_pid(database) != await _backend_pid(database)
            async with database.session(write=False) as session:
                result = await session.execute(statement, {"identifier": "read-back"})
                through_sqlalchemy = [dict(row) for row in result.mappings()]
        finally:
            await database.dispose()
        assert through_asyncpg == through_sqlalchemy
        row = through_asyncpg[0]
        assert row["tags"] == ["a", "b"] and row["payload_schema"] == {"type": "object"}
        assert row["last_triggered_at"].tzinfo is not None and row["description"] is None

    asyncio.run(scenario())


@pytest.mark.skipif(not POSTGRES_URL, reason="asyncpg point reads are PostgreSQL's")
def test_a_point_read_whose_connection_died_still_answers(settings: Settings) -> None:
    """The read goes through SQLAlchemy's pool instead; the dead connection is never used again."""

    async def scenario() -> None:
        database = Database(settings)
        admin = Database(settings)
        try:
            before = await _point_read_backend_pid(database)
            await _terminate(admin, before)
            assert await _point_read_backend_pid(database) == await _backend_pid(database)
            assert await _point_read_backend_pid(database) not in (before, await _backend_pid(database))
        finally:
            await database.dispose()
            await admin.dispose()

    asyncio.run(scenario())


@pytest.mark.skipif(not POSTGRES_URL, reason="asyncpg point reads are PostgreSQL's")
def test_point_read_connections_take_the_database_urls_arguments(settings: Settings) -> None:
    """As SQLAlchemy's asyncpg dialect reads them: its own (a statement cache size) left out, the
    rest (here `ssl`) given to asyncpg."""
    assert settings.database_url is not None
    url = make_url(settings.database_url).update_query_dict(
        {"prepared_statement_cache_size": "50", "ssl": "disable"}
    )
    with_arguments = settings.model_copy(update={"database_url": url.render_as_string(hide_password=False)})

    async def scenario() -> None:
        database = Database(with_arguments)
        try:
            assert await _point_read_backend_pid(database) != await _backend_pid(database)
        finally:
            await database.dispose()

    asyncio.run(scenario())


@pytest.mark.skipif(not POSTGRES_URL, reason="asyncpg point reads are PostgreSQL's")
def test_point_reads_wait_a_while_after_a_failed_connect(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reads go through the pool meanwhile, instead of each trying to connect first."""

    async def scenario() -> None:
        database = Database(settings)
        point_reads = database._postgresql_point_reads
        assert point_reads is not None
        attempts: list[None] = []

        async def refused() -> None:
            attempts.append(None)
            raise ConnectionRefusedError

        try:
            monkeypatch.setattr(point_reads, "_connect", refused)
            pooled = await _backend_pid(database)
            assert [await _point_read_backend_pid(database) for _ in range(3)] == [pooled] * 3
            assert len(attempts) == 1
        finally:
            await database.dispose()

    asyncio.run(scenario())
