"""Activity feed queries: notifications with their subscriber, and the jobs, execution details
and workflow steps of a page of notifications (one query each, never one per notification)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Text, cast, or_

from herald.kit.like import LIKE_ESCAPE, contains_pattern
from herald.kit.repository import EnvironmentScopedRepository
from herald.models import ExecutionDetail, Job, Notification, Subscriber, WorkflowStep


@dataclass(frozen=True)
class NotificationFilter:
    channels: Collection[str] = ()
    templates: Collection[str] = ()
    subscriber_row_ids: Collection[str] | None = None
    """Internal subscriber ids; None is no filter (an empty collection matches nothing)."""
    severities: Collection[str] = ()
    transaction_id: str | None = None
    after: datetime | None = None
    before: datetime | None = None
    search: str | None = None


class NotificationRepository(EnvironmentScopedRepository[Notification]):
    model = Notification

    def _with_subscriber(self) -> Select[Any]:
        return self.select(Notification, Subscriber).join(
            Subscriber, Subscriber.id == Notification.subscriber_id
        )

    async def page(
        self, where: NotificationFilter, offset: int, limit: int
    ) -> Sequence[tuple[Notification, Subscriber]]:
        """Newest first (ids are time-ordered); `limit` rows from `offset`."""
        statement = (
            self._with_subscriber()
            .where(*_conditions(where))
            .order_by(Notification.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]

    async def with_subscriber(self, notification_id: str) -> tuple[Notification, Subscriber] | None:
        row = (
            await self.session.execute(self._with_subscriber().where(Notification.id == notification_id))
        ).first()
        return None if row is None else (row[0], row[1])


def _conditions(where: NotificationFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.channels:
        # `channels` is a JSON list of names from a closed set, so a quoted match is exact.
        stored = cast(Notification.channels, Text)
        conditions.append(or_(*(stored.like(f'%"{channel}"%') for channel in where.channels)))
    if where.templates:
        conditions.append(
            or_(
                Notification.workflow_id.in_(where.templates),
                Notification.workflow_identifier.in_(where.templates),
            )
        )
    if where.subscriber_row_ids is not None:
        conditions.append(Notification.subscriber_id.in_(where.subscriber_row_ids))
    if where.severities:
        conditions.append(Notification.severity.in_(where.severities))
    if where.transaction_id is not None:
        conditions.append(Notification.transaction_id == where.transaction_id)
    if where.after is not None:
        conditions.append(Notification.created_at >= where.after)
    if where.before is not None:
        conditions.append(Notification.created_at <= where.before)
    if where.search:
        pattern = contains_pattern(where.search)
        conditions.append(
            or_(
                Notification.transaction_id.ilike(pattern, escape=LIKE_ESCAPE),
                Notification.workflow_identifier.ilike(pattern, escape=LIKE_ESCAPE),
                Notification.workflow_name.ilike(pattern, escape=LIKE_ESCAPE),
                Subscriber.subscriber_id.ilike(pattern, escape=LIKE_ESCAPE),
                Subscriber.email.ilike(pattern, escape=LIKE_ESCAPE),
            )
        )
    return conditions


class ActivitySubscriberRepository(EnvironmentScopedRepository[Subscriber]):
    model = Subscriber

    async def row_ids(self, subscriber_ids: Collection[str], emails: Collection[str]) -> list[str]:
        """Internal ids of the subscribers with one of these subscriberIds and one of these
        emails (a filter left empty is not applied)."""
        statement = self.select(Subscriber.id)
        if subscriber_ids:
            statement = statement.where(Subscriber.subscriber_id.in_(subscriber_ids))
        if emails:
            statement = statement.where(Subscriber.email.in_(emails))
        return list((await self.session.execute(statement)).scalars().all())


class ActivityJobRepository(EnvironmentScopedRepository[Job]):
    model = Job

    async def for_notifications(self, notification_ids: Collection[str]) -> Sequence[Job]:
        statement = self.select().where(Job.notification_id.in_(notification_ids))
        return sorted((await self.session.execute(statement)).scalars().all(), key=lambda job: job.id)


class ExecutionDetailRepository(EnvironmentScopedRepository[ExecutionDetail]):
    model = ExecutionDetail

    async def for_notifications(self, notification_ids: Collection[str]) -> Sequence[ExecutionDetail]:
        statement = self.select().where(ExecutionDetail.notification_id.in_(notification_ids))
        return sorted((await self.session.execute(statement)).scalars().all(), key=lambda detail: detail.id)


class ActivityStepRepository(EnvironmentScopedRepository[WorkflowStep]):
    model = WorkflowStep

    async def for_workflows(self, workflow_ids: Collection[str]) -> Sequence[WorkflowStep]:
        statement = self.select().where(WorkflowStep.workflow_id.in_(workflow_ids))
        rows: Sequence[WorkflowStep] = (await self.session.execute(statement)).scalars().all()
        return rows
