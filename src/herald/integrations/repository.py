"""Queries on integrations."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.repository import EnvironmentScopedRepository
from herald.models import Integration

NOVU_PROVIDER_ID = "novu"
IN_APP = "in_app"


class IntegrationRepository(EnvironmentScopedRepository[Integration]):
    model = Integration

    async def list_all(self, *, active_only: bool = False) -> Sequence[Integration]:
        statement = self.select().order_by(Integration.created_at, Integration.id)
        if active_only:
            statement = statement.where(Integration.active.is_(True))
        integrations: Sequence[Integration] = (await self.session.execute(statement)).scalars().all()
        return integrations

    async def identifier_taken(self, identifier: str, *, other_than: str | None = None) -> bool:
        statement = self.select(Integration.id).where(Integration.identifier == identifier)
        if other_than:
            statement = statement.where(Integration.id != other_than)
        return (await self.session.execute(statement.limit(1))).first() is not None

    async def has_provider(self, provider_id: str, channel: str) -> bool:
        statement = self.select(Integration.id).where(
            Integration.provider_id == provider_id, Integration.channel == channel
        )
        return (await self.session.execute(statement.limit(1))).first() is not None

    async def find_for_provider(self, provider_id: str, identifier: str | None) -> Integration | None:
        """The integration that credentials for `provider_id` belong to: the one named by
        `identifier`, else the provider's primary or oldest active integration."""
        statement = self.select().where(Integration.provider_id == provider_id)
        if identifier is not None:
            statement = statement.where(Integration.identifier == identifier)
        else:
            statement = statement.where(Integration.active.is_(True)).order_by(
                Integration.is_primary.desc(), Integration.created_at, Integration.id
            )
        found: Integration | None = (await self.session.execute(statement.limit(1))).scalar_one_or_none()
        return found

    async def has_primary(self, channel: str) -> bool:
        statement = self.select(Integration.id).where(
            Integration.channel == channel, Integration.is_primary.is_(True)
        )
        return (await self.session.execute(statement.limit(1))).first() is not None

    async def clear_primary(self, channel: str) -> None:
        await self.session.execute(
            self.update()
            .where(Integration.channel == channel, Integration.is_primary.is_(True))
            .values(is_primary=False)
            .execution_options(synchronize_session="fetch")
        )

    async def remove(self, integration: Integration) -> None:
        await self.session.execute(self.delete().where(Integration.id == integration.id))


class InboxIntegrationRepository:
    """Reads the Inbox needs knowing only an environment id (from its application identifier)."""

    def __init__(self, session: AsyncSession, environment_id: str) -> None:
        self.session = session
        self.environment_id = environment_id

    async def novu_in_app(self) -> Integration | None:
        statement = (
            select(Integration)
            .where(
                Integration.environment_id == self.environment_id,
                Integration.provider_id == NOVU_PROVIDER_ID,
                Integration.channel == IN_APP,
            )
            .order_by(Integration.created_at, Integration.id)
            .limit(1)
        )
        return (await self.session.execute(statement)).scalar_one_or_none()
