"""Queries of the step runner and the fan-out: notifications, messages, execution details,
and the keyset pages of recipients that a topic or broadcast trigger walks through."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, Protocol, cast

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.driver_insert import insert_rows
from herald.kit.driver_query import DriverQuery
from herald.kit.ids import new_id, new_ids
from herald.kit.repository import EnvironmentScopedRepository
from herald.kit.scope import EnvironmentScope
from herald.models import (
    GLOBAL_PREFERENCE,
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
        """Insert notifications (each row names its `event_id` and `subscriber_id`, and is given
        its `id` here); a subscriber that already has one for that event is left alone. Returns
        (id, event_id) of new rows."""
        if not rows:
            return []
        shared = {
            "environment_id": self.scope.environment_id,
            "organization_id": self.scope.organization_id,
            "created_at": now,
            "updated_at": now,
        }
        for row, row_id in zip(rows, new_ids(len(rows)), strict=True):
            row["id"] = row_id
        inserted = await insert_rows(
            self.session, _NOTIFICATIONS, rows, shared, conflict=("event_id", "subscriber_id")
        )
        return [(row["id"], row["event_id"]) for row in rows if row["id"] in inserted]

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
        rows = await _STATES.rows(self.session, notification_ids)
        return {
            row[0]: NotificationState(row[0], row[1], row[2])
            for row in rows
            if row[3] == self.scope.environment_id
        }

    async def settle_many(self, notification_ids: Sequence[str], status: str, now: datetime) -> None:
        """`settle` for many notifications of this environment (ids that `states` returned),
        in one statement by primary key."""
        await _SETTLE.execute(self.session, status, now, notification_ids)

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
        """`insert_once` for many messages (each row with its own `id` and the columns of
        `MESSAGE_COLUMNS`), run by the driver's executemany; returns the job ids whose message
        was stored (the others existed)."""
        if not rows:
            return set()
        inserted = await insert_rows(self.session, _MESSAGES, rows, self._owned(now), conflict=("job_id",))
        return {row["job_id"] for row in rows if row["id"] in inserted}

    def _owned(self, now: datetime) -> dict[str, Any]:
        return {
            "environment_id": self.scope.environment_id,
            "organization_id": self.scope.organization_id,
            "created_at": now,
            "updated_at": now,
        }


_MESSAGES = cast(Table, Message.__table__)
_DETAILS = cast(Table, ExecutionDetail.__table__)
_OWNED = ("environment_id", "organization_id", "created_at", "updated_at")
MESSAGE_COLUMNS = tuple(column.name for column in _MESSAGES.columns if column.name not in _OWNED)
"""What each row given to `MessageRepository.insert_many_once` holds (its `id` included)."""
DETAIL_COLUMNS = ("notification_id", "job_id", "step_id", "channel", "provider_id", "status", "detail", "raw")


class ExecutionDetailRepository(EnvironmentScopedRepository[ExecutionDetail]):
    model = ExecutionDetail

    def record(self, **values: Any) -> None:
        self.add(ExecutionDetail(**values))

    async def insert_many(self, rows: Sequence[dict[str, Any]], now: datetime) -> None:
        """Log lines in one executemany (each row: the columns of `DETAIL_COLUMNS`)."""
        if not rows:
            return
        owned = {
            "environment_id": self.scope.environment_id,
            "organization_id": self.scope.organization_id,
            "created_at": now,
            "updated_at": now,
        }
        complete = [{"id": row_id, **row} for row, row_id in zip(rows, new_ids(len(rows)), strict=True)]
        await insert_rows(self.session, _DETAILS, complete, owned)


class SubscriberRow(NamedTuple):
    """The columns of the Liquid `subscriber`."""

    environment_id: str
    id: str
    subscriber_id: str
    first_name: str | None
    last_name: str | None
    email: str | None
    phone: str | None
    avatar: str | None
    locale: str | None
    timezone: str | None
    data: dict[str, Any] | None
    channels: list[Any] | None
    is_online: bool | None


_SETTLE = DriverQuery(
    "UPDATE notifications SET status = ?, updated_at = ? WHERE id {ids} AND status = 'pending'",
    types={1: _NOTIFICATIONS.c.updated_at.type},
)
# The reads of a batch of step jobs: one query each, on the driver connection, by primary key
# lists that are one parameter (the same SQL for every batch size).
_STATES = DriverQuery("SELECT id, status, subscriber_id, environment_id FROM notifications WHERE id {ids}")
_SUBSCRIBERS = DriverQuery(
    "SELECT environment_id, id, subscriber_id, first_name, last_name, email, phone, avatar, locale,"
    " timezone, data, channels, is_online FROM subscribers WHERE id {ids}",
    json_columns=(10, 11),
    bool_columns=(12,),
)
_SWITCHES = DriverQuery(
    "SELECT subscriber_pk, workflow_identifier, channels, environment_id FROM subscriber_preferences"
    " WHERE subscriber_pk {ids} AND workflow_identifier {ids}",
    json_columns=(2,),
)


class RecipientRepository(EnvironmentScopedRepository[Subscriber]):
    """What a batch of step jobs reads about its subscribers, in one query each."""

    model = Subscriber

    async def subscribers(self, subscriber_pks: Sequence[str]) -> dict[str, SubscriberRow]:
        """The rows (with the columns of the Liquid `subscriber`) by internal id; by primary
        key alone, checked against the scope here (see `NotificationRepository.states`)."""
        environment_id = self.scope.environment_id
        rows = await _SUBSCRIBERS.rows(self.session, subscriber_pks)
        return {row[1]: SubscriberRow(*row) for row in rows if row[0] == environment_id}


class PreferenceSwitchRepository(EnvironmentScopedRepository[SubscriberPreference]):
    model = SubscriberPreference

    async def switches(
        self, subscriber_pks: Sequence[str], workflow_identifiers: Sequence[str]
    ) -> dict[tuple[str, str], dict[str, bool]]:
        """Channel switches by (subscriber id, workflow identifier or "" for global); absent
        rows are left out. Found through the (subscriber, workflow) unique index, checked
        against the scope here (see `EventRepository.rows`)."""
        rows = await _SWITCHES.rows(self.session, subscriber_pks, [GLOBAL_PREFERENCE, *workflow_identifiers])
        environment_id = self.scope.environment_id
        return {(row[0], row[1]): dict(row[2] or {}) for row in rows if row[3] == environment_id}


class FanoutPages(Protocol):
    """The recipients of a fan-out in keyset order: the cursors that split them into chunks,
    and the members (subscriber row ids) of one chunk."""

    async def cursors_after(self, after: str, limit: int) -> list[str]: ...

    async def members_between(self, after: str, until: str) -> list[str]:
        """The members after the cursor `after`, up to and including `until`."""
        ...


def fanout_pages(session: AsyncSession, scope: EnvironmentScope, topic_id: str | None) -> FanoutPages:
    """A topic's members, or (`topic_id` None, a broadcast) every subscriber of the environment."""
    if topic_id:
        return TopicMemberPages(session, scope, topic_id)
    return SubscriberPages(session, scope)


class TopicMemberPages(EnvironmentScopedRepository[TopicSubscription]):
    """A topic's members, in the order of their subscription rows."""

    model = TopicSubscription

    def __init__(self, session: AsyncSession, scope: EnvironmentScope, topic_id: str) -> None:
        super().__init__(session, scope)
        self.topic_id = topic_id

    async def cursors_after(self, after: str, limit: int) -> list[str]:
        statement = (
            self.select(TopicSubscription.id)
            .where(TopicSubscription.topic_id == self.topic_id, TopicSubscription.id > after)
            .order_by(TopicSubscription.id)
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars())

    async def members_between(self, after: str, until: str) -> list[str]:
        statement = (
            self.select(TopicSubscription.subscriber_pk)
            .where(
                TopicSubscription.topic_id == self.topic_id,
                TopicSubscription.id > after,
                TopicSubscription.id <= until,
            )
            .order_by(TopicSubscription.id)
        )
        return list((await self.session.execute(statement)).scalars())


class SubscriberPages(EnvironmentScopedRepository[Subscriber]):
    """Every subscriber of the environment, in the order of their row ids."""

    model = Subscriber

    async def cursors_after(self, after: str, limit: int) -> list[str]:
        statement = (
            self.select(Subscriber.id).where(Subscriber.id > after).order_by(Subscriber.id).limit(limit)
        )
        return list((await self.session.execute(statement)).scalars())

    async def members_between(self, after: str, until: str) -> list[str]:
        statement = (
            self.select(Subscriber.id)
            .where(Subscriber.id > after, Subscriber.id <= until)
            .order_by(Subscriber.id)
        )
        return list((await self.session.execute(statement)).scalars())
