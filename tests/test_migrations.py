"""The migrations build exactly the schema that the models describe, and undo it cleanly."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect

from herald.config import Settings
from herald.db import Database, _applied_revisions, _head_revisions, alembic_config
from herald.models import Base


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def _run(settings: Settings, work: Any) -> Any:
    async def main() -> Any:
        database = Database(settings)
        try:
            async with database.engine.begin() as connection:
                return await connection.run_sync(work)
        finally:
            await database.dispose()

    return asyncio.run(main())


def test_migrated_schema_matches_the_models(settings: Settings) -> None:
    assert _run(settings, _differences) == []


def test_downgrade_to_base_and_upgrade_again(settings: Settings) -> None:
    def cycle(connection: Connection) -> list[Any]:
        config = alembic_config(connection)
        command.downgrade(config, "base")
        remaining = set(inspect(connection).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        command.upgrade(config, "heads")
        return _differences(connection)

    assert _run(settings, cycle) == []


def test_head_revisions_read_from_the_scripts_are_alembics() -> None:
    assert _head_revisions() == set(ScriptDirectory.from_config(alembic_config()).get_heads())


def test_migrate_applies_the_pending_revisions(settings: Settings) -> None:
    def step_back(connection: Connection) -> None:
        command.downgrade(alembic_config(connection), "-1")
        assert _applied_revisions(connection) != _head_revisions()

    _run(settings, step_back)

    async def migrate_and_read() -> frozenset[str]:
        database = Database(settings)
        try:
            async with database.exclusive_session() as session:
                await database.migrate(session)
            async with database.engine.connect() as connection:
                return await connection.run_sync(_applied_revisions)
        finally:
            await database.dispose()

    assert asyncio.run(migrate_and_read()) == _head_revisions()
    assert _run(settings, _differences) == []
