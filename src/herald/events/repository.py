"""Queries on trigger events."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import Table

from herald.kit.driver_insert import insert_rows
from herald.kit.driver_query import DriverQuery
from herald.kit.ids import new_ids
from herald.kit.repository import EnvironmentScopedRepository
from herald.models import Event, WorkflowSnapshot

_EVENTS = cast(Table, Event.__table__)


class EventStatus:
    PENDING = "pending"
    """Stored with a job that expands it, not yet expanded."""
    PROCESSING = "processing"
    CANCELED = "canceled"


class EventRow(NamedTuple):
    """What the engine reads of an event: to expand it, and to run its steps."""

    id: str
    transaction_id: str
    workflow: str
    """The stored JSON text of its `WorkflowSnapshot`, unparsed."""
    payload: dict[str, Any]
    overrides: dict[str, Any] | None
    actor: dict[str, Any] | None
    tenant: dict[str, Any] | None
    context: dict[str, Any] | None
    status: str


_ROWS = DriverQuery(
    "SELECT events.id, transaction_id, CAST(workflow AS TEXT), payload, overrides, actor, tenant,"
    " context, status, events.environment_id FROM events"
    " JOIN workflow_snapshots ON workflow_snapshots.id = events.workflow_snapshot_id"
    " WHERE events.id {ids}",
    json_columns=(3, 4, 5, 6, 7),
)

_MARK_EXPANDED = DriverQuery(
    "UPDATE events SET status = 'processing', updated_at = ? WHERE id {ids} AND status = 'pending'",
    types={0: _EVENTS.c.updated_at.type},
)


class EventRepository(EnvironmentScopedRepository[Event]):
    model = Event

    async def insert_unless_used(
        self, rows: Sequence[dict[str, Any]], now: datetime, status: str = EventStatus.PROCESSING
    ) -> dict[int, str]:
        """Insert events; one whose transactionId was already used in the environment (before,
        or earlier in `rows`) is not (INSERT ... ON CONFLICT DO NOTHING on the unique
        (environment, transactionId)). Returns the new ids by position in `rows`."""
        if not rows:
            return {}
        ids = new_ids(len(rows))
        shared = {
            "environment_id": self.scope.environment_id,
            "organization_id": self.scope.organization_id,
            "status": status,
            "created_at": now,
            "updated_at": now,
        }
        complete = [{**row, "id": event_id} for row, event_id in zip(rows, ids, strict=True)]
        inserted = await insert_rows(
            self.session, _EVENTS, complete, shared, conflict=("environment_id", "transaction_id")
        )
        return {position: event_id for position, event_id in enumerate(ids) if event_id in inserted}

    async def rows(self, event_ids: Sequence[str]) -> list[EventRow]:
        """Many events at once, by primary key alone, checked against the scope here: with the
        environment in the WHERE clause, SQLite planned with statistics of a smaller table (they
        are refreshed every few minutes) walks the environment's index, every event it has, for
        each batch (see `NotificationRepository.states` for PostgreSQL's same turn)."""
        rows = await _ROWS.rows(self.session, event_ids)
        environment_id = self.scope.environment_id
        return [EventRow(*row[:9]) for row in rows if row[9] == environment_id]

    async def mark_expanded(self, event_ids: Sequence[str], now: datetime) -> None:
        """Pending events, now expanded, are processing (a canceled one stays canceled). By
        primary key alone: the ids are those `rows` found in the scope."""
        await _MARK_EXPANDED.execute(self.session, now, event_ids)

    async def set_actors(self, actors: Mapping[str, dict[str, Any]], now: datetime) -> None:
        """Each event's actor, as its templates see it (resolved when the event is expanded)."""
        for event_id, actor in actors.items():
            await self.session.execute(
                self.update().where(Event.id == event_id).values(actor=actor, updated_at=now)
            )

    async def snapshot_row(self, event_id: str) -> Any:
        statement = (
            self.select(
                Event.id,
                Event.transaction_id,
                WorkflowSnapshot.workflow,
                Event.payload,
                Event.overrides,
                Event.actor,
                Event.tenant,
                Event.context,
                Event.status,
            )
            .join(WorkflowSnapshot, WorkflowSnapshot.id == Event.workflow_snapshot_id)
            .where(Event.id == event_id)
        )
        return (await self.session.execute(statement)).first()

    async def status(self, event_id: str) -> str | None:
        statement = self.select(Event.status).where(Event.id == event_id)
        status: str | None = (await self.session.execute(statement)).scalar_one_or_none()
        return status

    async def cancel(self, transaction_id: str, now: datetime) -> int:
        """Cancel the transaction's event; how many of them were still pending (not expanded)."""
        pending = await self.session.execute(
            self.select(Event.id).where(
                Event.transaction_id == transaction_id, Event.status == EventStatus.PENDING
            )
        )
        was_pending = len(pending.all())
        await self.session.execute(
            self.update()
            .where(Event.transaction_id == transaction_id, Event.status != EventStatus.CANCELED)
            .values(status=EventStatus.CANCELED, updated_at=now)
        )
        return was_pending
