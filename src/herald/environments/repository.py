"""Queries on organizations and environments."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.repository import OrganizationScopedRepository
from herald.models import Environment, Organization


class EnvironmentRepository(OrganizationScopedRepository[Environment]):
    model = Environment

    async def list_all(self) -> Sequence[Environment]:
        statement = self.select().order_by(Environment.created_at, Environment.id)
        environments: Sequence[Environment] = (await self.session.execute(statement)).scalars().all()
        return environments

    async def name_taken(self, name: str, *, other_than: str | None = None) -> bool:
        statement = self.select(Environment.id).where(Environment.name == name)
        if other_than:
            statement = statement.where(Environment.id != other_than)
        return (await self.session.execute(statement.limit(1))).first() is not None

    async def identifier_taken(self, identifier: str, *, other_than: str) -> bool:
        # Identifiers are unique across every organization: the Inbox finds environments by them.
        statement = select(Environment.id).where(
            Environment.identifier == identifier, Environment.id != other_than
        )
        return (await self.session.execute(statement.limit(1))).first() is not None

    async def remove(self, environment: Environment) -> None:
        await self.session.execute(self.delete().where(Environment.id == environment.id))


class InstallationRepository:
    """Installation-wide reads and writes for bootstrap and the CLI; no caller scope applies."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_organization(self) -> Organization | None:
        statement = select(Organization).order_by(Organization.created_at, Organization.id).limit(1)
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def environments_of(self, organization_id: str) -> Sequence[Environment]:
        statement = (
            select(Environment)
            .where(Environment.organization_id == organization_id)
            .order_by(Environment.created_at, Environment.id)
        )
        return (await self.session.execute(statement)).scalars().all()

    async def add_all(self, *rows: Organization | Environment) -> None:
        self.session.add_all(rows)
        await self.session.flush()
