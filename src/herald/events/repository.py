"""Queries on trigger events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table

from herald.kit.driver_insert import insert_rows
from herald.kit.ids import new_ids
from herald.kit.repository import EnvironmentScopedRepository
from herald.models import Event

_EVENTS = cast(Table, Event.__table__)


class EventStatus:
    PROCESSING = "processing"
    CANCELED = "canceled"


class EventRepository(EnvironmentScopedRepository[Event]):
    model = Event

    async def insert_unless_used(self, rows: Sequence[dict[str, Any]], now: datetime) -> dict[int, str]:
        """Insert events; one whose transactionId was already used in the environment (before,
        or earlier in `rows`) is not (INSERT ... ON CONFLICT DO NOTHING on the unique
        (environment, transactionId)). Returns the new ids by position in `rows`."""
        if not rows:
            return {}
        ids = new_ids(len(rows))
        shared = {
            "environment_id": self.scope.environment_id,
            "organization_id": self.scope.organization_id,
            "status": EventStatus.PROCESSING,
            "created_at": now,
            "updated_at": now,
        }
        complete = [{**row, "id": event_id} for row, event_id in zip(rows, ids, strict=True)]
        inserted = await insert_rows(
            self.session, _EVENTS, complete, shared, conflict=("environment_id", "transaction_id")
        )
        return {position: event_id for position, event_id in enumerate(ids) if event_id in inserted}

    async def snapshot_row(self, event_id: str) -> Any:
        statement = self.select(
            Event.id,
            Event.transaction_id,
            Event.workflow,
            Event.payload,
            Event.overrides,
            Event.actor,
            Event.tenant,
            Event.context,
            Event.status,
        ).where(Event.id == event_id)
        return (await self.session.execute(statement)).first()

    async def status(self, event_id: str) -> str | None:
        statement = self.select(Event.status).where(Event.id == event_id)
        status: str | None = (await self.session.execute(statement)).scalar_one_or_none()
        return status

    async def cancel(self, transaction_id: str, now: datetime) -> int:
        result = await self.session.execute(
            self.update()
            .where(Event.transaction_id == transaction_id, Event.status != EventStatus.CANCELED)
            .values(status=EventStatus.CANCELED, updated_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
