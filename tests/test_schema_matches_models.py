"""The tables the migrations build are exactly the tables the models describe."""

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from herald.config import Settings
from herald.db import Database
from herald.models import Base


def test_migrations_match_models(settings: Settings) -> None:
    def diff(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async def run() -> list[object]:
        database = Database(settings)
        try:
            async with database.engine.connect() as connection:
                return await connection.run_sync(diff)
        finally:
            await database.dispose()

    assert asyncio.run(run()) == []
