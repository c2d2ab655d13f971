"""Rows inserted straight through the driver are stored exactly as SQLAlchemy stores them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select, text

from herald.db import Database
from herald.kit.driver_insert import insert_rows
from herald.models import Environment, Event, Job
from tests.support import RunningServer

_JOBS = cast(Table, Job.__table__)
_EVENTS = cast(Table, Event.__table__)
_AT = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)


def _job(job_id: str, args: Any, **values: Any) -> dict[str, Any]:
    return {
        "id": job_id,
        "kind": "test.kind",
        "status": "pending",
        "args": args,
        "run_at": _AT,
        "attempts": 0,
        "max_attempts": 5,
        "lease_owner": None,
        "leased_until": None,
        "transaction_id": "tx",
        "notification_id": None,
        "last_error": None,
        "finished_at": None,
        "created_at": _AT,
        "updated_at": _AT,
        **values,
    }


def _event(event_id: str, transaction_id: str) -> dict[str, Any]:
    return {
        "id": event_id,
        "transaction_id": transaction_id,
        "workflow_id": None,
        "workflow_identifier": "w",
        "workflow_snapshot_id": "s" * 64,
        "status": "processing",
        "payload": {},
        "overrides": {},
        "actor": None,
        "tenant": None,
        "context": None,
    }


async def _owner(database: Database) -> dict[str, str]:
    """The scope columns of an environment of the installation."""
    async with database.session(write=False) as session:
        environment = (await session.execute(select(Environment).limit(1))).scalar_one()
    return {"environment_id": environment.id, "organization_id": environment.organization_id}


def test_driver_rows_are_stored_as_sqlalchemy_stores_them(server: RunningServer) -> None:
    async def scenario() -> None:
        database = Database(server.settings)
        try:
            owner = await _owner(database)
            args = {"n": 1, "nested": {"list": [1, "two", None]}, "text": "é"}
            async with database.session(write=True) as session:
                await session.execute(insert(_JOBS), [{**_job("a" * 24, args), **owner}])
                inserted = await insert_rows(
                    session,
                    _JOBS,
                    [_job("b" * 24, args), _job("c" * 24, None, leased_until=_AT)],
                    owner,
                )
                await session.execute(insert(_JOBS), [{**_job("d" * 24, None, leased_until=_AT), **owner}])
            assert inserted == {"b" * 24, "c" * 24}
            async with database.session(write=False) as session:
                # Raw values: on SQLite, the stored text itself (DATETIME format, JSON text).
                rows = (
                    await session.execute(
                        text("SELECT * FROM jobs WHERE id IN (:a, :b, :c, :d) ORDER BY id"),
                        {"a": "a" * 24, "b": "b" * 24, "c": "c" * 24, "d": "d" * 24},
                    )
                ).all()
            by_id = {row.id: {k: v for k, v in row._mapping.items() if k != "id"} for row in rows}
            assert by_id["b" * 24] == by_id["a" * 24]
            assert by_id["c" * 24] == by_id["d" * 24]
        finally:
            await database.dispose()

    asyncio.run(scenario())


def test_rows_that_conflict_are_skipped_and_left_out_of_the_inserted_ids(server: RunningServer) -> None:
    async def scenario() -> None:
        database = Database(server.settings)
        try:
            shared = {**await _owner(database), "created_at": _AT, "updated_at": _AT}
            conflict = ("environment_id", "transaction_id")
            async with database.session(write=True) as session:
                first = await insert_rows(session, _EVENTS, [_event("e" * 24, "used")], shared, conflict)
            async with database.session(write=True) as session:
                rows = [_event("f" * 24, "used"), _event("0" * 24, "new"), _event("1" * 24, "new")]
                second = await insert_rows(session, _EVENTS, rows, shared, conflict)
            assert first == {"e" * 24}
            assert second == {"0" * 24}
        finally:
            await database.dispose()

    asyncio.run(scenario())
