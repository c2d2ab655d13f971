"""Queries on idempotency records. The claim is ONE statement:

    INSERT ... ON CONFLICT (environment_id, idempotency_key)
        DO UPDATE ... WHERE idempotency_records.expires_at <= now   -- take over an expired key
    RETURNING id

so exactly one of any number of concurrent requests gets a row back. On PostgreSQL the row
comes from `SELECT ... WHERE pg_try_advisory_xact_lock(<key hash>)`: a duplicate that arrives
while the first request's transaction is open inserts nothing instead of waiting for it, and
answers 409 at once.

The claim and the UPDATE that stores the response on it (in the same transaction, see
`herald.idempotency.store`) run on every fresh key, so they go straight to the driver
connection (`herald.kit.driver_statement`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import BigInteger, Table, bindparam, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from herald.kit.driver_statement import DriverStatement
from herald.kit.ids import new_id
from herald.kit.repository import EnvironmentScopedRepository
from herald.models import IdempotencyRecord

_TABLE = cast(Table, IdempotencyRecord.__table__)
_RESPONSE_COLUMNS = ("status_code", "response_headers", "response_body")


class IdempotencyRepository(EnvironmentScopedRepository[IdempotencyRecord]):
    model = IdempotencyRecord

    async def claim(
        self, key: str, fingerprint: str, token: str, now: datetime, expires_at: datetime
    ) -> bool:
        """Claim the key in the session's transaction; False if a live record or claim exists."""
        params = {
            "id": new_id(),
            "environment_id": self.scope.environment_id,
            "idempotency_key": key,
            "fingerprint": fingerprint,
            "claim_token": token,
            "created_at": now,
            "expires_at": expires_at,
            "now": now,
            "lock_id": _lock_id(self.scope.environment_id, key),
        }
        claimed = await _driver_statement(self.session, "claim").fetch(self.session, params)
        return bool(claimed)

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
        params = {
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
        await self.session.execute(_record_statement(self._dialect()), params)

    async def record_claimed_response(self, key: str, token: str, response: tuple[int, str, bytes]) -> None:
        """Store the response on our claim, in the transaction that holds the claim."""
        status_code, headers, body = response
        params = {
            "claimed_environment_id": self.scope.environment_id,
            "claimed_idempotency_key": key,
            "claimed_claim_token": token,
            "new_status_code": status_code,
            "new_response_headers": headers,
            "new_response_body": body,
        }
        await _driver_statement(self.session, "claimed_response").fetch(self.session, params)

    async def release(self, key: str, token: str) -> None:
        statement = self.delete().where(
            IdempotencyRecord.idempotency_key == key, IdempotencyRecord.claim_token == token
        )
        await self.session.execute(statement)

    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name


async def delete_expired(session: AsyncSession, now: datetime) -> int:
    """Installation-wide: every environment's expired records."""
    result = await session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at <= now))
    return int(result.rowcount)  # type: ignore[attr-defined]


_CLAIM_COLUMNS = (
    "id",
    "environment_id",
    "idempotency_key",
    "fingerprint",
    "claim_token",
    "created_at",
    "expires_at",
)
_RECORD_COLUMNS = (*_CLAIM_COLUMNS, *_RESPONSE_COLUMNS)


@cache
def _claim_statement(dialect: str) -> Any:
    """Built once per dialect: executing a prebuilt statement skips SQLAlchemy's per-call work."""
    row = {name: bindparam(name, type_=_TABLE.c[name].type) for name in _CLAIM_COLUMNS}
    insert: Any
    if dialect == "postgresql":
        lock = func.pg_try_advisory_xact_lock(bindparam("lock_id", type_=BigInteger))
        insert = postgresql.insert(_TABLE).from_select(list(row), select(*row.values()).where(lock))
    else:
        insert = sqlite.insert(_TABLE).values(row)
    takeover = {
        name: insert.excluded[name] for name in ("fingerprint", "claim_token", "created_at", "expires_at")
    }
    return insert.on_conflict_do_update(
        index_elements=["environment_id", "idempotency_key"],
        set_={**takeover, **dict.fromkeys(_RESPONSE_COLUMNS)},
        where=_TABLE.c.expires_at <= bindparam("now", type_=_TABLE.c.expires_at.type),
    )


@cache
def _record_statement(dialect: str) -> Any:
    """On PostgreSQL the statement commits without waiting for the WAL flush: a stored response
    lost to a database crash leaves its claim, which answers 409 and then 422, never a rerun."""
    row = {name: bindparam(name, type_=_TABLE.c[name].type) for name in _RECORD_COLUMNS}
    insert: Any
    if dialect == "postgresql":
        no_flush_wait = func.set_config("synchronous_commit", "off", True).is_not(None)
        insert = postgresql.insert(_TABLE).from_select(list(row), select(*row.values()).where(no_flush_wait))
    else:
        insert = sqlite.insert(_TABLE).values(row)
    return insert.on_conflict_do_update(
        index_elements=["environment_id", "idempotency_key"],
        set_={name: insert.excluded[name] for name in (*_RESPONSE_COLUMNS, "expires_at")},
        where=_TABLE.c.claim_token == bindparam("claim_token", type_=_TABLE.c.claim_token.type),
    )


def _claimed_response_statement() -> Any:
    """An UPDATE of our own claim, which this transaction inserted."""
    where = (
        _TABLE.c[name] == bindparam(f"claimed_{name}", type_=_TABLE.c[name].type)
        for name in ("environment_id", "idempotency_key", "claim_token")
    )
    values = {name: bindparam(f"new_{name}", type_=_TABLE.c[name].type) for name in _RESPONSE_COLUMNS}
    return _TABLE.update().where(*where).values(values).returning(_TABLE.c.id)


# The statements of every fresh key, run on the driver connection (`herald.kit.driver_statement`).
_HOT_STATEMENTS: dict[str, Callable[[str], Any]] = {
    "claim": lambda dialect: _claim_statement(dialect).returning(_TABLE.c.id),
    "claimed_response": lambda _dialect: _claimed_response_statement(),
}
_DRIVER_STATEMENTS: dict[tuple[str, str, str], DriverStatement] = {}


def _driver_statement(session: AsyncSession, name: str) -> DriverStatement:
    """Compiled once per dialect and driver."""
    dialect = session.get_bind().dialect
    cache_key = (dialect.name, dialect.driver, name)
    statement = _DRIVER_STATEMENTS.get(cache_key)
    if statement is None:
        statement = DriverStatement(_HOT_STATEMENTS[name](dialect.name), dialect)
        _DRIVER_STATEMENTS[cache_key] = statement
    return statement


def _lock_id(environment_id: str, key: str) -> int:
    digest = hashlib.sha256(f"idempotency:{environment_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
