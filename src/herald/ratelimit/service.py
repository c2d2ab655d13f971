"""Rate-limit decisions for secret-key requests, and the per-environment service levels.

An environment's service level is its row in `rate_limit_overrides` if it has one, else
`HERALD_RATE_LIMIT_LEVEL`. Each process caches the level for a few seconds, so a change made
with `herald rate-limit set` takes effect within `LEVEL_CACHE_SECONDS` everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.config import Settings
from herald.environments.repository import InstallationRepository
from herald.errors import BadRequestError, NotFoundError
from herald.kit.scope import EnvironmentScope
from herald.models import Environment
from herald.ratelimit.bucket import Decision, MemoryRateLimiter
from herald.ratelimit.policy import SERVICE_LEVELS, Category, Policy, classify, policies_for
from herald.ratelimit.redis_limiter import RedisRateLimiter
from herald.ratelimit.repository import InstallationOverrideRepository, RateLimitOverrideRepository

log = structlog.get_logger("herald.ratelimit")

LEVEL_CACHE_SECONDS = 5.0
_FAILURE_LOG_INTERVAL_SECONDS = 10.0


class RateLimiter(Protocol):
    async def take(self, bucket: str, policy: Policy, cost: int) -> Decision: ...


class RateLimiterUnavailable(Exception):
    """The shared bucket store failed and the installation is configured to fail closed."""


@dataclass(frozen=True, slots=True)
class Verdict:
    policy: Policy
    cost: int
    decision: Decision


class RateLimitService:
    def __init__(
        self,
        limiter: RateLimiter,
        *,
        default_level: str,
        custom_rps: dict[str, int],
        fail_open: bool,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limiter = limiter
        self._default_level = default_level
        self._fail_open = fail_open
        self._monotonic = monotonic
        self._policies: dict[str, dict[Category, Policy]] = {
            level: policies_for(level, custom_rps) for level in SERVICE_LEVELS
        }
        self._levels: dict[str, tuple[str, float]] = {}
        self._last_failure_log = -_FAILURE_LOG_INTERVAL_SECONDS
        self._failures_since_log = 0

    async def check(
        self, session: AsyncSession, scope: EnvironmentScope, method: str, path: str
    ) -> Verdict | None:
        """Take the request's cost from its bucket; None when the store failed and we fail open."""
        category, cost = classify(method, path)
        policy = self._policies[await self._level(session, scope)][category]
        try:
            decision = await self._limiter.take(_bucket(scope, category), policy, cost)
        except (TimeoutError, RedisError, OSError) as error:
            self._log_failure(error)
            if self._fail_open:
                return None
            raise RateLimiterUnavailable from error
        return Verdict(policy, cost, decision)

    async def _level(self, session: AsyncSession, scope: EnvironmentScope) -> str:
        now = self._monotonic()
        cached = self._levels.get(scope.environment_id)
        if cached is not None and cached[1] > now:
            return cached[0]
        level = await RateLimitOverrideRepository(session, scope).service_level()
        if level not in self._policies:
            level = self._default_level
        self._levels[scope.environment_id] = (level, now + LEVEL_CACHE_SECONDS)
        return level

    def _log_failure(self, error: BaseException) -> None:
        self._failures_since_log += 1
        now = self._monotonic()
        if now - self._last_failure_log >= _FAILURE_LOG_INTERVAL_SECONDS:
            log.warning(
                "rate_limit_store_failed",
                failures=self._failures_since_log,
                fail_open=self._fail_open,
                error=type(error).__name__,
            )
            self._last_failure_log = now
            self._failures_since_log = 0


def _bucket(scope: EnvironmentScope, category: Category) -> str:
    return f"{scope.environment_id}:{category}"


@dataclass(frozen=True)
class EnvironmentLevel:
    name: str
    id: str
    service_level: str
    overridden: bool


async def environment_levels(session: AsyncSession, default_level: str) -> list[EnvironmentLevel]:
    overrides = await InstallationOverrideRepository(session).levels_by_environment()
    return [
        EnvironmentLevel(env.name, env.id, overrides.get(env.id, default_level), env.id in overrides)
        for env in await _environments(session)
    ]


async def set_environment_level(session: AsyncSession, environment_name: str, level: str | None) -> None:
    """Give an environment its own service level, or back the default (`level=None`)."""
    environment = await _environment_named(session, environment_name)
    repository = InstallationOverrideRepository(session)
    if level is None:
        await repository.clear(environment.id)
        return
    if level not in SERVICE_LEVELS:
        raise BadRequestError(f'Unknown service level "{level}"; use one of {", ".join(SERVICE_LEVELS)}')
    await repository.set_level(environment.id, level)


async def _environments(session: AsyncSession) -> list[Environment]:
    installation = InstallationRepository(session)
    organization = await installation.first_organization()
    return list(await installation.environments_of(organization.id)) if organization else []


async def _environment_named(session: AsyncSession, name: str) -> Environment:
    environments = await _environments(session)
    for environment in environments:
        if environment.name.lower() == name.lower():
            return environment
    known = ", ".join(env.name for env in environments) or "none"
    raise NotFoundError(f'No environment named "{name}" (environments: {known})')


def build_rate_limit_service(settings: Settings, redis: Redis | None) -> RateLimitService | None:
    """Shared buckets in Redis when it is configured, else buckets in this process."""
    if not settings.rate_limit_enabled:
        return None
    limiter: RateLimiter = RedisRateLimiter(redis) if redis is not None else MemoryRateLimiter()
    return RateLimitService(
        limiter,
        default_level=settings.rate_limit_level,
        custom_rps=settings.rate_limit_custom_rps,
        fail_open=settings.rate_limit_fail_open,
    )
