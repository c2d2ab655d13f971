from __future__ import annotations

import pytest

from herald.config import Settings
from herald.db import Database
from herald.kit.after_commit import after_commit


async def test_actions_run_after_commit_only(settings: Settings) -> None:
    database = Database(settings)
    ran: list[str] = []

    async def record(name: str) -> None:
        ran.append(name)

    try:
        async with database.session(write=True) as session:
            after_commit(session, lambda: record("committed"))
            assert ran == []
        assert ran == ["committed"]

        with pytest.raises(RuntimeError):
            async with database.session(write=True) as session:
                after_commit(session, lambda: record("rolled back"))
                raise RuntimeError("boom")
        assert ran == ["committed"]

        async def broken() -> None:
            raise ValueError("publish failed")

        async with database.session(write=True) as session:
            after_commit(session, broken)
            after_commit(session, lambda: record("still runs"))
        assert ran == ["committed", "still runs"]
    finally:
        await database.dispose()
