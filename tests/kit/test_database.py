"""The database helpers: SQLite's write turn, point reads, planner statistics."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, text

from herald.config import Settings
from herald.db import Database
from herald.kit.driver_statement import driver_connection
from herald.models import Environment
from tests.engine.helpers import wait_for
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
