"""Queries on trigger events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from herald.kit.ids import new_id
from herald.kit.repository import EnvironmentScopedRepository
from herald.models import Event


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
        table = cast(Table, Event.__table__)
        dialect = postgresql if self.session.get_bind().dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(table)
            .on_conflict_do_nothing(index_elements=["environment_id", "transaction_id"])
            .returning(table.c.id)
        )
        ids = [new_id() for _ in rows]
        complete = [
            {
                **row,
                "id": event_id,
                "environment_id": self.scope.environment_id,
                "organization_id": self.scope.organization_id,
                "status": EventStatus.PROCESSING,
                "created_at": now,
                "updated_at": now,
            }
            for row, event_id in zip(rows, ids, strict=True)
        ]
        inserted = {row[0] for row in await self.session.execute(statement, complete)}
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
