"""The integrations table built by migration 0003 matches the model."""

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from herald.config import Settings
from herald.db import Database
from herald.models import Base


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


def _touches_integrations(difference: Any) -> bool:
    return "integrations" in repr(difference)


def test_migration_matches_the_model(settings: Settings) -> None:
    async def compare() -> list[Any]:
        database = Database(settings)
        try:
            async with database.engine.connect() as connection:
                return await connection.run_sync(_differences)
        finally:
            await database.dispose()

    differences = [d for d in asyncio.run(compare()) if _touches_integrations(d)]
    assert differences == []
