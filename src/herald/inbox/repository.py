"""The lookups that establish an Inbox caller's scope: by application identifier (session)
and by token claims. Like the secret-key lookup, these are not filtered by a caller's scope:
they are the queries that find it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, true
from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.repository import EnvironmentScopedRepository
from herald.kit.scope import EnvironmentScope
from herald.models import ApiKey, Environment, Subscriber, Workflow


@dataclass(frozen=True)
class InboxEnvironment:
    environment_id: str
    organization_id: str
    kind: str


class InboxScopeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_application_identifier(self, identifier: str) -> InboxEnvironment | None:
        statement = select(Environment.id, Environment.organization_id, Environment.kind).where(
            Environment.identifier == identifier
        )
        row = (await self.session.execute(statement)).one_or_none()
        return InboxEnvironment(row[0], row[1], row[2]) if row else None

    async def scope_of(self, environment_id: str) -> EnvironmentScope | None:
        statement = select(Environment.organization_id).where(Environment.id == environment_id)
        organization_id = (await self.session.execute(statement)).scalar_one_or_none()
        return EnvironmentScope(environment_id, organization_id) if organization_id else None

    async def sealed_key_for_subscriber(self, environment_id: str, subscriber_pk: str) -> str | None:
        """The environment's sealed secret key, if that subscriber still exists there."""
        statement = (
            select(ApiKey.key_sealed)
            .join(Subscriber, Subscriber.environment_id == ApiKey.environment_id)
            .where(ApiKey.environment_id == environment_id, Subscriber.id == subscriber_pk)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()


class InboxWorkflowRepository(EnvironmentScopedRepository[Workflow]):
    model = Workflow

    async def listable(self) -> Sequence[Workflow]:
        """Active workflows, as the Inbox lists them on its preferences page."""
        statement = self.select().where(Workflow.active.is_(true())).order_by(Workflow.name, Workflow.id)
        rows: Sequence[Workflow] = (await self.session.execute(statement)).scalars().all()
        return rows
