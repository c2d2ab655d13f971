"""The embedded database's write-ahead log is checkpointed on a thread of its own, not by the
commits (`herald.kit.sqlite_checkpoints`)."""

from __future__ import annotations

import asyncio
import os

import pytest
from sqlalchemy import make_url, text

from herald.config import Settings
from herald.db import Database
from tests.support import POSTGRES_URL

pytestmark = pytest.mark.skipif(POSTGRES_URL is not None, reason="SQLite's write-ahead log")

COMMITS = 24
BYTES_PER_COMMIT = 128 * 1024


def test_commits_leave_checkpoints_to_the_background_and_the_log_stays_small(settings: Settings) -> None:
    """3 MB committed over ~2.4 s: without checkpoints (Herald's connections make none) the log
    would hold all of it; checkpointed every half second, the log starts over each time."""
    wal = f"{make_url(settings.resolved_database_url).database}-wal"

    async def scenario() -> list[int]:
        database = Database(settings)
        try:
            async with database.session(write=True) as session:
                await session.execute(text("CREATE TABLE scratch (b BLOB)"))
                settings_of_connection = await session.execute(text("PRAGMA wal_autocheckpoint"))
                automatic = settings_of_connection.scalar()
            for _ in range(COMMITS):
                async with database.session(write=True) as session:
                    await session.execute(
                        text("INSERT INTO scratch VALUES (:b)"), {"b": os.urandom(BYTES_PER_COMMIT)}
                    )
                await asyncio.sleep(0.1)
            return [automatic, os.path.getsize(wal)]
        finally:
            await database.dispose()

    automatic, log_size = asyncio.run(scenario())
    assert automatic == 0
    assert log_size < COMMITS * BYTES_PER_COMMIT / 2


def test_a_database_that_is_disposed_waits_for_its_checkpoint(settings: Settings) -> None:
    async def scenario() -> None:
        database = Database(settings)
        async with database.session(write=True) as session:
            await session.execute(text("CREATE TABLE scratch (b BLOB)"))
        await database.dispose()  # the checkpoint that commit started ends before this returns

    asyncio.run(scenario())
