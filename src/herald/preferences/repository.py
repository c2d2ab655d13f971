"""Queries on subscriber preferences."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.exc import IntegrityError

from herald.kit.repository import EnvironmentScopedRepository
from herald.models import GLOBAL_PREFERENCE, SubscriberPreference


class PreferenceRepository(EnvironmentScopedRepository[SubscriberPreference]):
    model = SubscriberPreference

    async def of_subscriber(self, subscriber_pk: str) -> Sequence[SubscriberPreference]:
        statement = (
            self.select()
            .where(SubscriberPreference.subscriber_pk == subscriber_pk)
            .order_by(SubscriberPreference.workflow_identifier)
        )
        rows: Sequence[SubscriberPreference] = (await self.session.execute(statement)).scalars().all()
        return rows

    async def find(self, subscriber_pk: str, workflow_identifier: str) -> SubscriberPreference | None:
        statement = self.select().where(
            SubscriberPreference.subscriber_pk == subscriber_pk,
            SubscriberPreference.workflow_identifier == workflow_identifier,
        )
        row: SubscriberPreference | None = (await self.session.execute(statement)).scalar_one_or_none()
        return row

    async def find_for_workflow(
        self, subscriber_pk: str, workflow_identifier: str
    ) -> tuple[SubscriberPreference | None, SubscriberPreference | None]:
        """(global, workflow) rows of the subscriber, either possibly absent, in one query."""
        statement = self.select().where(
            SubscriberPreference.subscriber_pk == subscriber_pk,
            SubscriberPreference.workflow_identifier.in_([GLOBAL_PREFERENCE, workflow_identifier]),
        )
        rows = {row.workflow_identifier: row for row in (await self.session.execute(statement)).scalars()}
        return rows.get(GLOBAL_PREFERENCE), rows.get(workflow_identifier)

    async def find_or_add(self, subscriber_pk: str, workflow_identifier: str) -> SubscriberPreference:
        row = await self.find(subscriber_pk, workflow_identifier)
        if row is not None:
            return row
        row = SubscriberPreference(
            subscriber_pk=subscriber_pk, workflow_identifier=workflow_identifier, enabled=True, channels={}
        )
        try:
            async with self.session.begin_nested():
                self.add(row)
                await self.session.flush()
        except IntegrityError:
            existing = await self.find(subscriber_pk, workflow_identifier)
            assert existing is not None, "a concurrent insert lost the race but left no row"
            return existing
        return row
