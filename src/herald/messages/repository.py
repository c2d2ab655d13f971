"""Message queries for the secret-key API (listing and deletion)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from herald.kit.repository import EnvironmentScopedRepository
from herald.models import Message, Subscriber


@dataclass(frozen=True)
class MessageFilter:
    channel: str | None = None
    subscriber_row_id: str | None = None
    transaction_ids: Collection[str] = ()


@dataclass(frozen=True)
class RemovedMessage:
    subscriber_row_id: str
    channel: str


class MessageRepository(EnvironmentScopedRepository[Message]):
    model = Message

    def _filtered(self, where: MessageFilter, *entities: Any) -> Select[Any]:
        return self.select(*entities).where(*_conditions(where))

    async def page(
        self, where: MessageFilter, offset: int, limit: int
    ) -> Sequence[tuple[Message, Subscriber]]:
        """Newest first (ids are time-ordered); `limit` rows from `offset`."""
        statement = (
            self._filtered(where, Message, Subscriber)
            .join(Subscriber, Subscriber.id == Message.subscriber_id)
            .order_by(Message.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]

    async def count(self, where: MessageFilter) -> int:
        counted = self._filtered(where, Message.id).subquery()
        return int((await self.session.execute(select(func.count()).select_from(counted))).scalar_one())

    async def remove(self, where: MessageFilter, message_id: str | None = None) -> list[RemovedMessage]:
        """Delete the matching messages (one when `message_id` is given); what was deleted."""
        statement = self.delete().where(*_conditions(where))
        if message_id is not None:
            statement = statement.where(Message.id == message_id)
        result = await self.session.execute(statement.returning(Message.subscriber_id, Message.channel))
        return [RemovedMessage(subscriber_row_id=row[0], channel=row[1]) for row in result.all()]


def _conditions(where: MessageFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.channel is not None:
        conditions.append(Message.channel == where.channel)
    if where.subscriber_row_id is not None:
        conditions.append(Message.subscriber_id == where.subscriber_row_id)
    if where.transaction_ids:
        conditions.append(Message.transaction_id.in_(where.transaction_ids))
    return conditions
