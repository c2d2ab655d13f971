"""Queries of the step runner and the fan-out: notifications, messages, execution details,
and the keyset pages of recipients that a topic or broadcast trigger walks through."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.ids import new_id
from herald.kit.repository import EnvironmentScopedRepository
from herald.models import ExecutionDetail, Message, Notification, Subscriber, TopicSubscription


class NotificationStatus:
    PENDING = "pending"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True, slots=True)
class NotificationState:
    id: str
    status: str
    subscriber_pk: str


def _insert_ignoring(session: AsyncSession, model: type[Any], *conflict_columns: str) -> Insert:
    table = cast(Table, model.__table__)
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=list(conflict_columns))


class NotificationRepository(EnvironmentScopedRepository[Notification]):
    model = Notification

    async def insert_many(self, rows: Sequence[dict[str, Any]], now: datetime) -> list[tuple[str, str]]:
        """Insert notifications (each row names its `event_id` and `subscriber_id`); a subscriber
        that already has one for that event is left alone. Returns (id, event_id) of new rows."""
        if not rows:
            return []
        complete = [
            {
                **row,
                "id": new_id(),
                "environment_id": self.scope.environment_id,
                "organization_id": self.scope.organization_id,
                "created_at": now,
                "updated_at": now,
            }
            for row in rows
        ]
        table = cast(Table, Notification.__table__)
        statement = _insert_ignoring(self.session, Notification, "event_id", "subscriber_id").returning(
            table.c.id, table.c.event_id
        )
        result = await self.session.execute(statement, complete)
        return [(row[0], row[1]) for row in result]

    async def state(self, notification_id: str) -> NotificationState | None:
        statement = self.select(Notification.id, Notification.status, Notification.subscriber_id).where(
            Notification.id == notification_id
        )
        row = (await self.session.execute(statement)).first()
        return NotificationState(row[0], row[1], row[2]) if row else None

    async def settle(self, notification_id: str, status: str, now: datetime) -> None:
        """Move a pending notification to its final status (a settled one keeps its own)."""
        await self.session.execute(
            self.update()
            .where(Notification.id == notification_id, Notification.status == NotificationStatus.PENDING)
            .values(status=status, updated_at=now)
        )

    async def cancel_pending(self, transaction_id: str, now: datetime) -> int:
        result = await self.session.execute(
            self.update()
            .where(
                Notification.transaction_id == transaction_id,
                Notification.status == NotificationStatus.PENDING,
            )
            .values(status=NotificationStatus.CANCELED, updated_at=now)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


class MessageRepository(EnvironmentScopedRepository[Message]):
    model = Message

    async def insert_once(self, values: dict[str, Any], now: datetime) -> str | None:
        """Store a delivered message unless its job already stored one (`job_id` is unique);
        returns the new message's id, or None when it existed."""
        row = {
            **values,
            "id": new_id(),
            "environment_id": self.scope.environment_id,
            "organization_id": self.scope.organization_id,
            "created_at": now,
            "updated_at": now,
        }
        statement = _insert_ignoring(self.session, Message, "job_id").returning(Message.__table__.c.id)
        inserted = (await self.session.execute(statement, row)).first()
        return inserted[0] if inserted else None


class ExecutionDetailRepository(EnvironmentScopedRepository[ExecutionDetail]):
    model = ExecutionDetail

    def record(self, **values: Any) -> None:
        self.add(ExecutionDetail(**values))


class RecipientPageRepository(EnvironmentScopedRepository[TopicSubscription]):
    """Keyset pages of fan-out recipients (subscriber row ids), resumable from a cursor."""

    model = TopicSubscription

    async def topic_members_after(
        self, topic_id: str, after: str, limit: int
    ) -> tuple[list[str], str | None]:
        statement = (
            self.select(TopicSubscription.id, TopicSubscription.subscriber_pk)
            .where(TopicSubscription.topic_id == topic_id, TopicSubscription.id > after)
            .order_by(TopicSubscription.id)
            .limit(limit)
        )
        rows = (await self.session.execute(statement)).all()
        return [row[1] for row in rows], (rows[-1][0] if len(rows) == limit else None)


class SubscriberPageRepository(EnvironmentScopedRepository[Subscriber]):
    model = Subscriber

    async def subscribers_after(self, after: str, limit: int) -> tuple[list[str], str | None]:
        statement = (
            self.select(Subscriber.id).where(Subscriber.id > after).order_by(Subscriber.id).limit(limit)
        )
        ids = list((await self.session.execute(statement)).scalars())
        return ids, (ids[-1] if len(ids) == limit else None)
