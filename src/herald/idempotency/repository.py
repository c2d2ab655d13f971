"""Queries on idempotency records. The claim is ONE statement:

    INSERT ... ON CONFLICT (environment_id, idempotency_key)
        DO UPDATE ... WHERE idempotency_records.expires_at <= now   -- take over an expired key
    RETURNING id

so exactly one of any number of concurrent requests gets a row back. On PostgreSQL the row
comes from `SELECT ... WHERE pg_try_advisory_xact_lock(<key hash>)`: a duplicate that arrives
while the first request's transaction is open inserts nothing instead of waiting for it, and
answers 409 at once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.ids import new_id
from herald.kit.repository import EnvironmentScopedRepository
from herald.models import IdempotencyRecord

_TABLE = IdempotencyRecord.__table__
_RESPONSE_COLUMNS = ("status_code", "response_headers", "response_body")


class IdempotencyRepository(EnvironmentScopedRepository[IdempotencyRecord]):
    model = IdempotencyRecord

    async def claim(
        self, key: str, fingerprint: str, token: str, now: datetime, expires_at: datetime
    ) -> bool:
        """Claim the key in the session's transaction; False if a live record or claim exists."""
        values: dict[str, Any] = {
            "id": new_id(),
            "environment_id": self.scope.environment_id,
            "idempotency_key": key,
            "fingerprint": fingerprint,
            "claim_token": token,
            "created_at": now,
            "expires_at": expires_at,
        }
        if self.session.get_bind().dialect.name == "postgresql":
            row = select(*(literal(value, _TABLE.c[name].type) for name, value in values.items()))
            pg_statement = postgresql.insert(IdempotencyRecord).from_select(
                list(values),
                row.where(func.pg_try_advisory_xact_lock(_lock_id(self.scope.environment_id, key))),
            )
            statement: Any = pg_statement.on_conflict_do_update(
                index_elements=["environment_id", "idempotency_key"],
                set_=_takeover(pg_statement.excluded),
                where=IdempotencyRecord.expires_at <= now,
            )
        else:
            sqlite_statement = sqlite.insert(IdempotencyRecord).values(**values)
            statement = sqlite_statement.on_conflict_do_update(
                index_elements=["environment_id", "idempotency_key"],
                set_=_takeover(sqlite_statement.excluded),
                where=IdempotencyRecord.expires_at <= now,
            )
        result = await self.session.execute(statement.returning(IdempotencyRecord.id))
        return result.first() is not None

    async def find(self, key: str) -> IdempotencyRecord | None:
        statement = self.select().where(IdempotencyRecord.idempotency_key == key)
        record: IdempotencyRecord | None = (await self.session.execute(statement)).scalar_one_or_none()
        return record

    async def record_response(
        self,
        key: str,
        fingerprint: str,
        token: str,
        response: tuple[int, str, bytes],
        now: datetime,
        expires_at: datetime,
    ) -> None:
        """Store the response on our claim; recreate it if the claim was rolled back with the work
        (a 4xx raised by the endpoint). Never overwrites somebody else's claim."""
        status_code, headers, body = response
        values = {
            "id": new_id(),
            "environment_id": self.scope.environment_id,
            "idempotency_key": key,
            "fingerprint": fingerprint,
            "claim_token": token,
            "status_code": status_code,
            "response_headers": headers,
            "response_body": body,
            "created_at": now,
            "expires_at": expires_at,
        }
        insert = (
            postgresql.insert if self.session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )(IdempotencyRecord).values(**values)
        statement = insert.on_conflict_do_update(
            index_elements=["environment_id", "idempotency_key"],
            set_={name: insert.excluded[name] for name in (*_RESPONSE_COLUMNS, "expires_at")},
            where=IdempotencyRecord.claim_token == token,
        )
        await self.session.execute(statement)

    async def release(self, key: str, token: str) -> None:
        statement = self.delete().where(
            IdempotencyRecord.idempotency_key == key, IdempotencyRecord.claim_token == token
        )
        await self.session.execute(statement)


async def delete_expired(session: AsyncSession, now: datetime) -> int:
    """Installation-wide: every environment's expired records."""
    result = await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]


def _takeover(excluded: Any) -> dict[str, Any]:
    fresh = {name: excluded[name] for name in ("fingerprint", "claim_token", "created_at", "expires_at")}
    return {**fresh, **dict.fromkeys(_RESPONSE_COLUMNS)}


def _lock_id(environment_id: str, key: str) -> int:
    digest = hashlib.sha256(f"idempotency:{environment_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
