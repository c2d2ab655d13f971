"""Queries on subscribers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, func

from herald.kit.driver_query import DriverQuery
from herald.kit.like import LIKE_ESCAPE, contains_pattern, prefix_pattern
from herald.kit.pagination import ColumnLike, CursorPage, CursorParams, count_capped, paginate, sort_column
from herald.kit.repository import EnvironmentScopedRepository
from herald.models import Subscriber

# A safe number of bound parameters per statement on both SQLite and PostgreSQL.
LOOKUP_CHUNK = 500

SORTABLE: dict[str, ColumnLike] = {
    "_id": Subscriber.id,
    "createdAt": Subscriber.created_at,
    "updatedAt": Subscriber.updated_at,
    "subscriberId": Subscriber.subscriber_id,
}


class SubscriberRepository(EnvironmentScopedRepository[Subscriber]):
    model = Subscriber

    async def by_subscriber_id(self, subscriber_id: str) -> Subscriber | None:
        statement = self.select().where(Subscriber.subscriber_id == subscriber_id)
        row: Subscriber | None = (await self.session.execute(statement)).scalar_one_or_none()
        return row

    async def by_subscriber_ids(self, subscriber_ids: Iterable[str]) -> dict[str, Subscriber]:
        """The existing subscribers among `subscriber_ids`, by subscriberId, looked up in chunks."""
        wanted = list(dict.fromkeys(subscriber_ids))
        found: dict[str, Subscriber] = {}
        for start in range(0, len(wanted), LOOKUP_CHUNK):
            chunk = wanted[start : start + LOOKUP_CHUNK]
            statement = self.select().where(Subscriber.subscriber_id.in_(chunk))
            for row in (await self.session.execute(statement)).scalars():
                found[row.subscriber_id] = row
        return found

    async def internal_ids(self, subscriber_ids: Iterable[str]) -> dict[str, str]:
        """subscriberId -> internal id for those that exist; one statement whatever their number
        (every trigger asks, in the transaction that stores it)."""
        wanted = list(dict.fromkeys(subscriber_ids))
        if not wanted:
            return {}
        rows = await _INTERNAL_IDS.rows(self.session, self.scope.environment_id, wanted)
        return {row[0]: row[1] for row in rows}

    def add_all(self, rows: Sequence[Subscriber]) -> None:
        for row in rows:
            self.add(row)

    async def search(
        self,
        params: CursorParams,
        *,
        email: str | None = None,
        name: str | None = None,
        phone: str | None = None,
        subscriber_id: str | None = None,
    ) -> CursorPage[Any]:
        statement = self._filtered(email=email, name=name, phone=phone, subscriber_id=subscriber_id)
        return await paginate(
            self.session,
            statement,
            id_column=Subscriber.id,
            sort=sort_column(params, SORTABLE),
            params=params,
        )

    async def page(self, page: int, page_size: int) -> tuple[Sequence[Subscriber], int]:
        """Offset pagination for the legacy list; newest first as Novu lists them."""
        statement = (
            self.select()
            .order_by(Subscriber.created_at.desc(), Subscriber.id.desc())
            .offset(page * page_size)
            .limit(page_size)
        )
        rows = (await self.session.execute(statement)).scalars().all()
        total, _ = await count_capped(self.session, self.select(Subscriber.id))
        return rows, total

    async def remove(self, subscriber: Subscriber) -> None:
        await self.session.execute(self.delete().where(Subscriber.id == subscriber.id))

    def _filtered(
        self, *, email: str | None, name: str | None, phone: str | None, subscriber_id: str | None
    ) -> Select[Any]:
        statement = self.select()
        if email:
            statement = statement.where(Subscriber.email.ilike(prefix_pattern(email), escape=LIKE_ESCAPE))
        if phone:
            statement = statement.where(Subscriber.phone.like(prefix_pattern(phone), escape=LIKE_ESCAPE))
        if subscriber_id:
            statement = statement.where(
                Subscriber.subscriber_id.like(prefix_pattern(subscriber_id), escape=LIKE_ESCAPE)
            )
        if name:
            full_name = (
                func.coalesce(Subscriber.first_name, "") + " " + func.coalesce(Subscriber.last_name, "")
            )
            statement = statement.where(full_name.ilike(contains_pattern(name), escape=LIKE_ESCAPE))
        return statement


_INTERNAL_IDS = DriverQuery(
    "SELECT subscriber_id, id FROM subscribers WHERE environment_id = ? AND subscriber_id {ids}"
)
