"""Hand-written driver queries: a list lookup on PostgreSQL is planned for its own list, never
by a generic plan that PostgreSQL made for the prepared statement earlier (when the table may
have been tiny: a sequential scan, kept until the table is analyzed again)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from herald.config import Settings
from herald.db import Database
from herald.kit.driver_query import DriverQuery
from tests.support import POSTGRES_URL

_LOOKUP = DriverQuery("SELECT id FROM environments WHERE id {ids}")
_UPDATE = DriverQuery("UPDATE environments SET name = name WHERE id {ids}")


@pytest.mark.skipif(not POSTGRES_URL, reason="prepared statements' plans are PostgreSQL's")
def test_list_lookups_never_run_on_a_generic_plan(settings: Settings) -> None:
    async def scenario() -> None:
        database = Database(settings)
        try:
            async with database.session(write=True) as session:
                for _ in range(8):  # PostgreSQL may switch to a generic plan after five
                    assert await _LOOKUP.rows(session, ["none-such"]) == []
                    assert await _UPDATE.execute(session, ["none-such"]) == 0
                plans = await session.execute(
                    text(
                        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"
                        " WHERE statement LIKE 'SELECT id FROM environments WHERE id = ANY%'"
                        " OR statement LIKE 'UPDATE environments SET name = name WHERE id = ANY%'"
                    )
                )
                rows = plans.all()
            # A statement prepared afresh is closed once used, so none is left to get a generic
            # plan; one kept prepared (as asyncpg's cache keeps them) shows generic_plans > 0.
            assert all(generic == 0 for _, generic, _ in rows), rows
        finally:
            await database.dispose()

    asyncio.run(scenario())
