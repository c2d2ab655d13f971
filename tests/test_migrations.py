"""The migrations build exactly the schema that the models describe, and undo it cleanly."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from herald.config import Settings
from herald.db import Database, _applied_revisions, _head_revisions, alembic_config
from herald.models import Base

_AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


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


def test_events_keep_their_workflow_snapshot_across_0012(settings: Settings) -> None:
    """0012 moves each event's own copy of its workflow snapshot into `workflow_snapshots`, one
    row per environment and content, and back on downgrade."""
    first = {"identifier": "w", "steps": [{"type": "in_app", "controls": {"body": "é"}}]}
    second = {"identifier": "w", "steps": []}

    def events(connection: Connection) -> list[Any]:
        query = (
            "SELECT events.id, CAST(workflow_snapshots.workflow AS TEXT), workflow_snapshot_id"
            " FROM events JOIN workflow_snapshots ON workflow_snapshots.id = events.workflow_snapshot_id"
            " ORDER BY events.id"
        )
        return list(connection.execute(text(query)).all())

    def cycle(connection: Connection) -> tuple[list[Any], list[Any], int]:
        config = alembic_config(connection)
        command.downgrade(config, "0011_hot_table_indexes")
        connection.execute(
            text("INSERT INTO organizations VALUES ('o', 'Org', 'org', :at, :at)"), {"at": _AT}
        )
        connection.execute(
            text(
                "INSERT INTO environments (id, created_at, updated_at, organization_id, name, identifier,"
                " slug, kind) VALUES ('e', :at, :at, 'o', 'Dev', 'dev', 'dev', 'dev')"
            ),
            {"at": _AT},
        )
        for number, snapshot in enumerate([first, first, second]):
            connection.execute(
                text(
                    "INSERT INTO events (id, environment_id, organization_id, created_at, updated_at,"
                    " transaction_id, workflow_identifier, workflow, status, payload, overrides)"
                    " VALUES (:id, 'e', 'o', :at, :at, :id, 'w', :workflow, 'processing', '{}', '{}')"
                ),
                {"id": f"event-{number}", "at": _AT, "workflow": json.dumps(snapshot)},
            )
        command.upgrade(config, "heads")
        upgraded = events(connection)
        snapshots = connection.execute(text("SELECT COUNT(*) FROM workflow_snapshots")).scalar_one()
        command.downgrade(config, "0011_hot_table_indexes")
        kept = connection.execute(text("SELECT id, CAST(workflow AS TEXT) FROM events ORDER BY id")).all()
        command.upgrade(config, "heads")
        return upgraded, list(kept), snapshots

    upgraded, kept, snapshots = _run(settings, cycle)
    assert snapshots == 2
    assert [json.loads(row[1]) for row in upgraded] == [first, first, second]
    assert upgraded[0][2] == upgraded[1][2] != upgraded[2][2]
    assert [json.loads(row[1]) for row in kept] == [first, first, second]
