"""Queries on per-environment rate-limit service levels."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.repository import EnvironmentScopedRepository
from herald.models import RateLimitOverride


class RateLimitOverrideRepository(EnvironmentScopedRepository[RateLimitOverride]):
    model = RateLimitOverride

    async def service_level(self) -> str | None:
        statement = self.select(RateLimitOverride.service_level)
        level: str | None = (await self.session.execute(statement)).scalar_one_or_none()
        return level


class InstallationOverrideRepository:
    """Installation-wide reads and writes for the CLI; no caller scope applies."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def levels_by_environment(self) -> dict[str, str]:
        statement = select(RateLimitOverride.environment_id, RateLimitOverride.service_level)
        return {row[0]: row[1] for row in await self.session.execute(statement)}

    async def set_level(self, environment_id: str, level: str) -> None:
        statement = select(RateLimitOverride).where(RateLimitOverride.environment_id == environment_id)
        override = (await self.session.execute(statement)).scalar_one_or_none()
        if override is None:
            self.session.add(RateLimitOverride(environment_id=environment_id, service_level=level))
        else:
            override.service_level = level
        await self.session.flush()

    async def clear(self, environment_id: str) -> bool:
        statement = delete(RateLimitOverride).where(RateLimitOverride.environment_id == environment_id)
        result = await self.session.execute(statement)
        return bool(result.rowcount)  # type: ignore[attr-defined]
