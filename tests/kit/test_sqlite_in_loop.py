"""SQLite statements in the event loop: which go through aiosqlite's thread, and a write
transaction that must wait for another process's writer."""

from __future__ import annotations

import asyncio
import collections
import sqlite3
from collections.abc import Iterator
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import make_url, select, text, update

from herald.db import Database
from herald.kit.sqlite_in_loop import BUSY_TIMEOUT_MS
from herald.models import Environment
from tests.support import POSTGRES_URL, RunningServer

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite's own driver")


@pytest.fixture
def thread_trips(monkeypatch: pytest.MonkeyPatch) -> Iterator[collections.Counter[str]]:
    """What went through aiosqlite's thread, by the function it ran."""
    trips: collections.Counter[str] = collections.Counter()
    through_thread = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips[getattr(fn, "__name__", repr(fn))] += 1
        return await through_thread(self, fn, *args, **kwargs)

    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    yield trips


def test_a_write_transaction_goes_through_the_thread_only_to_commit(
    server: RunningServer, thread_trips: collections.Counter[str]
) -> None:
    async def scenario() -> dict[str, int]:
        database = Database(server.settings)
        try:
            async with database.session(write=True) as warm:  # the pool's first connection
                await warm.execute(select(Environment.id).limit(1))
            thread_trips.clear()
            async with database.session(write=True) as session:
                await session.execute(update(Environment).values(name=Environment.name))
            return dict(thread_trips)
        finally:
            await database.dispose()

    # Not BEGIN IMMEDIATE (the lock is free) nor the pool's ROLLBACK of a committed connection.
    assert asyncio.run(scenario()) == {"commit": 1}


def test_a_read_transaction_goes_through_the_thread_only_to_commit(
    server: RunningServer, thread_trips: collections.Counter[str]
) -> None:
    async def scenario() -> dict[str, int]:
        database = Database(server.settings)
        try:
            async with database.session(write=False) as warm:
                await warm.execute(select(Environment.id).limit(1))
            thread_trips.clear()
            async with database.session(write=False) as session:
                names = (await session.execute(select(Environment.name))).scalars().all()
                assert "Development" in names
            return dict(thread_trips)
        finally:
            await database.dispose()

    assert asyncio.run(scenario()) == {"commit": 1}  # its plain BEGIN takes no lock: in the loop


def test_a_write_transaction_waits_for_another_process_writer(server: RunningServer) -> None:
    path = make_url(server.settings.resolved_database_url).database or ""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's writer holds the lock

    async def scenario() -> tuple[str, int]:
        database = Database(server.settings)
        try:
            writing = asyncio.create_task(_rename(database))
            await asyncio.sleep(0.5)
            assert not writing.done()  # waiting for the lock, on the thread
            other.execute("COMMIT")
            name = await asyncio.wait_for(writing, timeout=30)
            async with database.session(write=True) as session:
                timeout = (await session.execute(text("PRAGMA busy_timeout"))).scalar_one()
            return name, int(timeout)
        finally:
            await database.dispose()

    try:
        assert asyncio.run(scenario()) == ("Waited", BUSY_TIMEOUT_MS)
    finally:
        other.close()


async def _rename(database: Database) -> str:
    async with database.session(write=True) as session:
        await session.execute(
            update(Environment).where(Environment.name == "Development").values(name="Waited")
        )
    async with database.session(write=False) as session:
        names = (await session.execute(select(Environment.name))).scalars().all()
    return "Waited" if "Waited" in names else ",".join(names)
