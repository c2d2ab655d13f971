"""Secret-key rows. The hash lookup is the one query not filtered by a caller's scope:
it is the query that establishes the scope."""

from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.db import Database
from herald.kit.scope import EnvironmentScope
from herald.models import ApiKey, Environment

_SCOPES_BY_KEY_HASH = "scopes-by-secret-key-hash"
_SCOPE_BY_KEY_HASH = (
    select(Environment.id, Environment.organization_id)
    .join(ApiKey, ApiKey.environment_id == Environment.id)
    .where(ApiKey.key_hash == bindparam("key_hash"))
)


async def find_scope_by_hash(database: Database, key_hash: str) -> EnvironmentScope | None:
    """The environment whose secret key has this hash, as committed now: a regenerated key
    stops matching in every process once its regeneration has committed (the cache keeps a
    match only until a configuration change commits: `herald.kit.configuration_cache`).
    Unknown hashes are never cached."""
    cache = database.configuration_cache(_SCOPES_BY_KEY_HASH)
    scope: EnvironmentScope | None = cache.get(key_hash)
    if scope is not None:
        return scope
    token = cache.token()
    rows = await database.point_read(_SCOPE_BY_KEY_HASH, {"key_hash": key_hash})
    if not rows:
        return None
    row = rows[0]
    scope = EnvironmentScope(environment_id=row["id"], organization_id=row["organization_id"])
    cache.put(key_hash, scope, token)
    return scope


class ApiKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sealed_key_for(self, environment_id: str) -> str | None:
        statement = select(ApiKey.key_sealed).where(ApiKey.environment_id == environment_id)
        return (await self.session.execute(statement)).scalar_one_or_none()

    def add(self, environment_id: str, key_hash: str, key_sealed: str) -> None:
        self.session.add(ApiKey(environment_id=environment_id, key_hash=key_hash, key_sealed=key_sealed))

    async def replace(self, environment_id: str, key_hash: str, key_sealed: str) -> bool:
        """Swap the environment's key in one statement; the old hash stops matching at commit."""
        result = await self.session.execute(
            update(ApiKey)
            .where(ApiKey.environment_id == environment_id)
            .values(key_hash=key_hash, key_sealed=key_sealed)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
