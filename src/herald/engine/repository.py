"""Queries of the step runner and the fan-out: notifications, messages, execution details,
and the keyset pages of recipients that a topic or broadcast trigger walks through."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Insert, Table, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.driver_insert import insert_rows
from herald.kit.ids import new_id, new_ids
from herald.kit.repository import EnvironmentScopedRepository
from herald.models import (
    GLOBAL_PREFERENCE,
    Event,
    ExecutionDetail,
    Message,
    Notification,
    Subscriber,
    SubscriberPreference,
    TopicSubscription,
)


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


_NOTIFICATIONS = cast(Table, Notification.__table__)


class NotificationRepository(EnvironmentScopedRepository[Notification]):
    model = Notification

    async def insert_many(self, rows: Sequence[dict[str, Any]], now: datetime) -> list[tuple[str, str]]:
        """Insert notifications (each row names its `event_id` and `subscriber_id`); a subscriber
        that already has one for that event is left alone. Returns (id, event_id) of new rows."""
        if not rows:
            return []
        shared = {
            "environment_id": self.scope.environment_id,
            "organization_id": self.scope.organization_id,
            "created_at": now,
            "updated_at": now,
        }
        complete = [{**row, "id": row_id} for row, row_id in zip(rows, new_ids(len(rows)), strict=True)]
        inserted = await insert_rows(
            self.session, _NOTIFICATIONS, complete, shared, conflict=("event_id", "subscriber_id")
        )
        return [(row["id"], row["event_id"]) for row in complete if row["id"] in inserted]

    async def state(self, notification_id: str) -> NotificationState | None:
        statement = self.select(Notification.id, Notification.status, Notification.subscriber_id).where(
            Notification.id == notification_id
        )
        row = (await self.session.execute(statement)).first()
        return NotificationState(row[0], row[1], row[2]) if row else None

    async def states(self, notification_ids: Sequence[str]) -> dict[str, NotificationState]:
        """The states of this environment's notifications among `notification_ids`.

        Found by primary key alone and checked against the scope here: with the environment
        in the WHERE clause, PostgreSQL on a table whose statistics lag behind (a burst of new
        notifications) walks the environment's index instead of the primary key's."""
        table = _NOTIFICATIONS.c
        statement = select(table.id, table.status, table.subscriber_id, table.environment_id).where(
            table.id.in_(notification_ids)
        )
        rows = await self.session.execute(statement)
        return {
            row[0]: NotificationState(row[0], row[1], row[2])
            for row in rows
            if row[3] == self.scope.environment_id
        }

    async def settle_many(self, notification_ids: Sequence[str], status: str, now: datetime) -> None:
        """`settle` for many notifications of this environment (ids that `states` returned),
        in one statement by primary key."""
        table = _NOTIFICATIONS.c
        await self.session.execute(
            update(_NOTIFICATIONS)
            .where(table.id.in_(notification_ids), table.status == NotificationStatus.PENDING)
            .values(status=status, updated_at=now)
        )

    async def settle(self, notification_id: str, status: str, now: datetime) -> None:
        """Move a pending notification to its final status (a settled one keeps its own)."""
        await self.session.execute(
            self.update()
            .where(Notification.id == notification_id, Notification.status == NotificationStatus.PENDING)
            .values(status=status, updated_at=now)
        )

    async def reopen(self, notification_id: str, now: datetime) -> str | None:
        """Make a notification pending again (its run goes on); returns its event's id."""
        result = await self.session.execute(
            self.update()
            .where(Notification.id == notification_id)
            .values(status=NotificationStatus.PENDING, updated_at=now)
            .returning(Notification.event_id)
        )
        event_id: str | None = result.scalar_one_or_none()
        return event_id

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

    async def insert_many_once(self, rows: Sequence[dict[str, Any]], now: datetime) -> set[str]:
        """`insert_once` for many messages (each row with its own `id`) in one statement;
        returns the job ids whose message was stored (the others existed)."""
        if not rows:
            return set()
        complete = [{**row, **self._owned(now)} for row in rows]
        statement = _insert_ignoring(self.session, Message, "job_id").returning(Message.__table__.c.job_id)
        return {row[0] for row in await self.session.execute(statement, complete)}

    def _owned(self, now: datetime) -> dict[str, Any]:
        return {
            "environment_id": self.scope.environment_id,
            "organization_id": self.scope.organization_id,
            "created_at": now,
            "updated_at": now,
        }


class ExecutionDetailRepository(EnvironmentScopedRepository[ExecutionDetail]):
    model = ExecutionDetail

    def record(self, **values: Any) -> None:
        self.add(ExecutionDetail(**values))

    async def insert_many(self, rows: Sequence[dict[str, Any]], now: datetime) -> None:
        """Log lines in one statement (each row: notification_id, job_id, step_id, channel,
        provider_id, status, detail, raw)."""
        if not rows:
            return
        owned = {
            "environment_id": self.scope.environment_id,
            "organization_id": self.scope.organization_id,
            "created_at": now,
            "updated_at": now,
        }
        complete = [{"id": new_id(), **row, **owned} for row in rows]
        await self.session.execute(insert(cast(Table, ExecutionDetail.__table__)), complete)


class EventSnapshotRepository(EnvironmentScopedRepository[Event]):
    """The stored workflow snapshots of events, many at once."""

    model = Event

    async def rows(self, event_ids: Sequence[str]) -> Sequence[Any]:
        statement = self.select(
            Event.id,
            Event.transaction_id,
            Event.workflow,
            Event.payload,
            Event.actor,
            Event.tenant,
            Event.context,
        ).where(Event.id.in_(event_ids))
        rows: Sequence[Any] = (await self.session.execute(statement)).all()
        return rows


class RecipientRepository(EnvironmentScopedRepository[Subscriber]):
    """What a batch of step jobs reads about its subscribers, in one query each."""

    model = Subscriber

    async def subscribers(self, subscriber_pks: Sequence[str]) -> dict[str, Any]:
        """The rows (with the columns of the Liquid `subscriber`) by internal id; by primary
        key alone, checked against the scope here (see `NotificationRepository.states`)."""
        statement = select(
            Subscriber.environment_id,
            Subscriber.id,
            Subscriber.subscriber_id,
            Subscriber.first_name,
            Subscriber.last_name,
            Subscriber.email,
            Subscriber.phone,
            Subscriber.avatar,
            Subscriber.locale,
            Subscriber.timezone,
            Subscriber.data,
            Subscriber.channels,
            Subscriber.is_online,
        ).where(Subscriber.id.in_(subscriber_pks))
        rows = await self.session.execute(statement)
        return {row.id: row for row in rows if row.environment_id == self.scope.environment_id}


class PreferenceSwitchRepository(EnvironmentScopedRepository[SubscriberPreference]):
    model = SubscriberPreference

    async def switches(
        self, subscriber_pks: Sequence[str], workflow_identifiers: Sequence[str]
    ) -> dict[tuple[str, str], dict[str, bool]]:
        """Channel switches by (subscriber id, workflow identifier or "" for global); absent
        rows are left out."""
        statement = self.select(
            SubscriberPreference.subscriber_pk,
            SubscriberPreference.workflow_identifier,
            SubscriberPreference.channels,
        ).where(
            SubscriberPreference.subscriber_pk.in_(subscriber_pks),
            SubscriberPreference.workflow_identifier.in_([GLOBAL_PREFERENCE, *workflow_identifiers]),
        )
        return {(row[0], row[1]): dict(row[2] or {}) for row in await self.session.execute(statement)}


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
