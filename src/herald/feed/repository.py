"""Queries on a subscriber's in-app messages: every one filtered to one environment (by the
base repository), one subscriber and the in-app channel."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    cast,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

from herald.feed.filters import FeedFilter, Scalar
from herald.kit.repository import EnvironmentScopedRepository
from herald.models import Message, Notification

IN_APP = "in_app"


class FeedRepository(EnvironmentScopedRepository[Message]):
    model = Message

    def _owned(self, subscriber_pk: str) -> Select[Any]:
        return self.select().where(Message.subscriber_id == subscriber_pk, Message.channel == IN_APP)

    async def one(self, subscriber_pk: str, message_id: str) -> Message | None:
        statement = self._owned(subscriber_pk).where(Message.id == message_id)
        row: Message | None = (await self.session.execute(statement)).scalar_one_or_none()
        return row

    async def many(self, subscriber_pk: str, message_ids: Sequence[str]) -> Sequence[Message]:
        statement = self._owned(subscriber_pk).where(Message.id.in_(list(message_ids))).order_by(Message.id)
        rows: Sequence[Message] = (await self.session.execute(statement)).scalars().all()
        return rows

    async def page(
        self,
        subscriber_pk: str,
        feed_filter: FeedFilter,
        now: datetime,
        *,
        limit: int,
        after: str | None = None,
        offset: int = 0,
    ) -> tuple[list[Message], bool]:
        """Newest first; `after` is the id of the last message of the previous page."""
        statement = self._owned(subscriber_pk).where(*self.conditions(feed_filter, now))
        if after:
            statement = statement.where(Message.id < after)
        statement = statement.order_by(Message.id.desc()).offset(offset).limit(limit + 1)
        rows = list((await self.session.execute(statement)).scalars().all())
        return rows[:limit], len(rows) > limit

    async def count(self, subscriber_pk: str, feed_filter: FeedFilter, now: datetime) -> int:
        statement = self._owned(subscriber_pk).where(*self.conditions(feed_filter, now))
        counted = select(func.count()).select_from(statement.with_only_columns(Message.id).subquery())
        return int((await self.session.execute(counted)).scalar_one())

    async def count_by_severity(
        self, subscriber_pk: str, feed_filter: FeedFilter, now: datetime
    ) -> dict[str, int]:
        statement = (
            self._owned(subscriber_pk)
            .where(*self.conditions(feed_filter, now))
            .with_only_columns(Message.severity, func.count())
            .group_by(Message.severity)
        )
        return {
            str(severity): int(total) for severity, total in (await self.session.execute(statement)).all()
        }

    async def update_where(
        self, subscriber_pk: str, feed_filter: FeedFilter, now: datetime, values: dict[str, Any]
    ) -> int:
        statement = (
            self.update()
            .where(Message.subscriber_id == subscriber_pk, Message.channel == IN_APP)
            .where(*self.conditions(feed_filter, now))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def delete_where(self, subscriber_pk: str, feed_filter: FeedFilter, now: datetime) -> int:
        statement = (
            self.delete()
            .where(Message.subscriber_id == subscriber_pk, Message.channel == IN_APP)
            .where(*self.conditions(feed_filter, now))
            .execution_options(synchronize_session=False)
        )
        result = await self.session.execute(statement)
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def workflow_names(self, notification_ids: set[str]) -> dict[str, str]:
        if not notification_ids:
            return {}
        statement = select(Notification.id, Notification.workflow_name).where(
            Notification.environment_id == self.scope.environment_id,
            Notification.id.in_(notification_ids),
        )
        return {str(row[0]): str(row[1]) for row in (await self.session.execute(statement)).all()}

    async def payloads(self, notification_ids: set[str]) -> dict[str, dict[str, Any]]:
        if not notification_ids:
            return {}
        statement = select(Notification.id, Notification.payload).where(
            Notification.environment_id == self.scope.environment_id,
            Notification.id.in_(notification_ids),
        )
        return {row[0]: row[1] or {} for row in (await self.session.execute(statement)).all()}

    def conditions(self, feed_filter: FeedFilter, now: datetime) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if feed_filter.message_ids is not None:
            where.append(Message.id.in_(feed_filter.message_ids))
        if feed_filter.read is not None:
            where.append(Message.read.is_(true()) if feed_filter.read else Message.read.is_(false()))
        if feed_filter.seen is not None:
            where.append(Message.seen.is_(true()) if feed_filter.seen else Message.seen.is_(false()))
        if feed_filter.archived is not None:
            where.append(
                Message.archived.is_(true()) if feed_filter.archived else Message.archived.is_(false())
            )
        if feed_filter.snoozed is not None:
            snoozed = and_(Message.snoozed_until.is_not(None), Message.snoozed_until > now)
            where.append(snoozed if feed_filter.snoozed else not_(snoozed))
        for group in feed_filter.tag_groups:
            where.append(or_(*(self._has_tag(tag) for tag in group)))
        for path, expected in feed_filter.data.items():
            where.append(self._json_matches(Message.data, path, expected))
        if feed_filter.payload:
            where.append(
                exists(
                    select(literal(1)).where(
                        Notification.id == Message.notification_id,
                        *(
                            self._json_matches(Notification.payload, path, value)
                            for path, value in feed_filter.payload.items()
                        ),
                    )
                )
            )
        if feed_filter.severity:
            where.append(Message.severity.in_(feed_filter.severity))
        if feed_filter.created_gte is not None:
            where.append(Message.created_at >= feed_filter.created_gte)
        if feed_filter.created_lte is not None:
            where.append(Message.created_at <= feed_filter.created_lte)
        return where

    def _has_tag(self, tag: str) -> ColumnElement[bool]:
        # json_each (SQLite) and json_array_elements_text (PostgreSQL) both yield a `value` column.
        elements = (
            func.json_each(Message.tags)
            if self.session.get_bind().dialect.name == "sqlite"
            else func.json_array_elements_text(Message.tags)
        ).table_valued("value")
        return exists(select(literal(1)).select_from(elements).where(elements.c.value == tag))

    def _json_matches(
        self, column: Any, path: tuple[str, ...], expected: Scalar | tuple[Scalar, ...]
    ) -> ColumnElement[bool]:
        """The JSON value at `path` equals one of `expected`, type for type (1 is not "1")."""
        values = expected if isinstance(expected, tuple) else (expected,)
        if self.session.get_bind().dialect.name == "sqlite":
            element = func.json_extract(column, "$" + "".join(f'."{key}"' for key in path))
            return or_(*(element == (int(value) if isinstance(value, bool) else value) for value in values))
        document = cast(column[path], JSONB)
        return or_(*(document == cast(literal(json.dumps(value)), JSONB) for value in values))
