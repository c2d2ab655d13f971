"""Queries on topics and their memberships."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Insert, Select, Table
from sqlalchemy.dialects import postgresql, sqlite

from herald.kit.ids import new_id
from herald.kit.like import LIKE_ESCAPE, contains_pattern
from herald.kit.pagination import ColumnLike, CursorPage, CursorParams, count_capped, paginate, sort_column
from herald.kit.repository import EnvironmentScopedRepository
from herald.kit.time import utc_now
from herald.models import Subscriber, Topic, TopicSubscription

# Rows per executemany batch, and ids per IN (...) (within both databases' parameter limits).
INSERT_CHUNK = 2_000
LOOKUP_CHUNK = 500
MEMBER_CHUNK = 1_000

TOPIC_SORTABLE: dict[str, ColumnLike] = {
    "_id": Topic.id,
    "createdAt": Topic.created_at,
    "updatedAt": Topic.updated_at,
    "key": Topic.key,
}
SUBSCRIPTION_SORTABLE: dict[str, ColumnLike] = {
    "_id": TopicSubscription.id,
    "createdAt": TopicSubscription.created_at,
}


@dataclass(frozen=True, slots=True)
class TopicMember:
    subscription_id: str
    subscriber_pk: str
    subscriber_id: str


class TopicRepository(EnvironmentScopedRepository[Topic]):
    model = Topic

    async def by_key(self, key: str) -> Topic | None:
        row: Topic | None = (
            await self.session.execute(self.select().where(Topic.key == key))
        ).scalar_one_or_none()
        return row

    async def search(self, params: CursorParams, *, key: str | None, name: str | None) -> CursorPage[Any]:
        return await paginate(
            self.session,
            self._filtered(key, name),
            id_column=Topic.id,
            sort=sort_column(params, TOPIC_SORTABLE),
            params=params,
        )

    async def page(
        self, page: int, page_size: int, *, key: str | None, name: str | None
    ) -> tuple[Sequence[Topic], int]:
        statement = self._filtered(key, name)
        rows = (
            (
                await self.session.execute(
                    statement.order_by(Topic.id.desc()).offset(page * page_size).limit(page_size)
                )
            )
            .scalars()
            .all()
        )
        total, _ = await count_capped(self.session, statement.with_only_columns(Topic.id))
        return rows, total

    async def remove(self, topic: Topic) -> None:
        await self.session.execute(self.delete().where(Topic.id == topic.id))

    def _filtered(self, key: str | None, name: str | None) -> Select[Any]:
        statement = self.select()
        if key:
            statement = statement.where(Topic.key == key)
        if name:
            statement = statement.where(Topic.name.ilike(contains_pattern(name), escape=LIKE_ESCAPE))
        return statement


class TopicSubscriptionRepository(EnvironmentScopedRepository[TopicSubscription]):
    model = TopicSubscription

    async def add_members(self, topic_id: str, subscriber_pks: Sequence[str]) -> None:
        """Subscribe these subscribers (internal ids); existing memberships are left alone.

        INSERT ... ON CONFLICT DO NOTHING executed for batches of rows (executemany), so adding
        a hundred thousand members takes no per-row round trip.
        """
        now = utc_now()
        for start in range(0, len(subscriber_pks), INSERT_CHUNK):
            rows = [
                {
                    "id": new_id(),
                    "environment_id": self.scope.environment_id,
                    "organization_id": self.scope.organization_id,
                    "topic_id": topic_id,
                    "subscriber_pk": subscriber_pk,
                    "created_at": now,
                    "updated_at": now,
                }
                for subscriber_pk in subscriber_pks[start : start + INSERT_CHUNK]
            ]
            await self.session.execute(self._insert_ignoring_duplicates(), rows)

    async def remove_members(self, topic_id: str, subscriber_pks: Sequence[str]) -> None:
        for start in range(0, len(subscriber_pks), LOOKUP_CHUNK):
            chunk = subscriber_pks[start : start + LOOKUP_CHUNK]
            await self.session.execute(
                self.delete().where(
                    TopicSubscription.topic_id == topic_id, TopicSubscription.subscriber_pk.in_(chunk)
                )
            )

    async def memberships(self, topic_id: str, subscriber_pks: Sequence[str]) -> dict[str, TopicSubscription]:
        """The memberships of these subscribers in the topic, by subscriber internal id."""
        found: dict[str, TopicSubscription] = {}
        for start in range(0, len(subscriber_pks), LOOKUP_CHUNK):
            chunk = subscriber_pks[start : start + LOOKUP_CHUNK]
            statement = self.select().where(
                TopicSubscription.topic_id == topic_id, TopicSubscription.subscriber_pk.in_(chunk)
            )
            for row in (await self.session.execute(statement)).scalars():
                found[row.subscriber_pk] = row
        return found

    async def has_members(self, topic_id: str) -> bool:
        statement = self.select(TopicSubscription.id).where(TopicSubscription.topic_id == topic_id).limit(1)
        return (await self.session.execute(statement)).first() is not None

    async def first_member_ids(self, topic_id: str, limit: int) -> list[str]:
        statement = (
            self.select(Subscriber.subscriber_id)
            .select_from(TopicSubscription)
            .join(Subscriber, Subscriber.id == TopicSubscription.subscriber_pk)
            .where(TopicSubscription.topic_id == topic_id)
            .order_by(TopicSubscription.id)
            .limit(limit)
        )
        return list((await self.session.execute(statement)).scalars())

    async def iterate_members(
        self, topic_id: str, chunk_size: int = MEMBER_CHUNK
    ) -> AsyncIterator[list[TopicMember]]:
        """Every member of the topic, a chunk at a time in subscription order, by keyset on the
        `(topic_id, id)` index: memory stays at one chunk however large the topic is."""
        after = ""
        while True:
            statement = (
                self.select(TopicSubscription.id, TopicSubscription.subscriber_pk, Subscriber.subscriber_id)
                .join(Subscriber, Subscriber.id == TopicSubscription.subscriber_pk)
                .where(TopicSubscription.topic_id == topic_id, TopicSubscription.id > after)
                .order_by(TopicSubscription.id)
                .limit(chunk_size)
            )
            rows = (await self.session.execute(statement)).all()
            if not rows:
                return
            yield [TopicMember(row[0], row[1], row[2]) for row in rows]
            if len(rows) < chunk_size:
                return
            after = rows[-1][0]

    async def count_members(self, topic_id: str) -> tuple[int, bool]:
        statement = self.select(TopicSubscription.id).where(TopicSubscription.topic_id == topic_id)
        return await count_capped(self.session, statement)

    async def list_for_topic(
        self, topic_id: str, params: CursorParams, *, subscriber_id: str | None
    ) -> CursorPage[Any]:
        """Rows of (TopicSubscription, Subscriber)."""
        statement = (
            self.select(TopicSubscription, Subscriber)
            .join(Subscriber, Subscriber.id == TopicSubscription.subscriber_pk)
            .where(TopicSubscription.topic_id == topic_id)
        )
        if subscriber_id:
            statement = statement.where(Subscriber.subscriber_id == subscriber_id)
        return await paginate(
            self.session,
            statement,
            id_column=TopicSubscription.id,
            sort=sort_column(params, SUBSCRIPTION_SORTABLE),
            params=params,
        )

    async def list_for_subscriber(
        self, subscriber_pk: str, params: CursorParams, *, key: str | None
    ) -> CursorPage[Any]:
        """Rows of (TopicSubscription, Topic)."""
        statement = (
            self.select(TopicSubscription, Topic)
            .join(Topic, Topic.id == TopicSubscription.topic_id)
            .where(TopicSubscription.subscriber_pk == subscriber_pk)
        )
        if key:
            statement = statement.where(Topic.key == key)
        return await paginate(
            self.session,
            statement,
            id_column=TopicSubscription.id,
            sort=sort_column(params, SUBSCRIPTION_SORTABLE),
            params=params,
        )

    async def member(self, topic_id: str, subscriber_pk: str) -> TopicSubscription | None:
        statement = self.select().where(
            TopicSubscription.topic_id == topic_id, TopicSubscription.subscriber_pk == subscriber_pk
        )
        row: TopicSubscription | None = (await self.session.execute(statement)).scalar_one_or_none()
        return row

    def _insert_ignoring_duplicates(self) -> Insert:
        table = cast(Table, TopicSubscription.__table__)
        if self.session.get_bind().dialect.name == "postgresql":
            return postgresql.insert(table).on_conflict_do_nothing(
                index_elements=["topic_id", "subscriber_pk"]
            )
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=["topic_id", "subscriber_pk"])
