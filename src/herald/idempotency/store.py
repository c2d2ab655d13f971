"""Where idempotency records live: the database (default) or Redis.

Database store, and why it is crash-safe: the claim is inserted in the request's own
transaction (the session of `herald.auth.dependencies.request_session`), and the idempotency
middleware defers that transaction's commit (`herald.kit.request_transaction`) until it holds
the final response bytes, which it stores on the claim with one UPDATE before committing. The
claim, the work and the stored response therefore commit together, in the request's one write
transaction (on SQLite, one write turn): a crash or a 5xx before the commit leaves no claim
behind and a retry runs; a committed claim always carries its response. Fresh keys cost two
statements in a transaction that is open anyway, and no transaction of their own.

An endpoint that raises (a 4xx) rolls its transaction back, claim included; its response is
then stored in a transaction of its own, recreating the claim unless another request took the
key in between. A record without a response (left by an older Herald that stored responses
after the commit) answers 409, and after `CLAIM_TIMEOUT_SECONDS` a 422 saying so rather than
running the work twice.

Redis store: one Lua script sets the key if absent, with an expiry (SET NX semantics, plus the
fingerprint and claim token in one hash), outside the database transaction. It needs
no database write per request, at a price: if the process dies after the work commits and
before the response is stored, the claim expires after `CLAIM_TIMEOUT_SECONDS` and a retry runs
the work again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

import orjson
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from herald.config import Settings
from herald.db import Database
from herald.idempotency.repository import IdempotencyRepository
from herald.kit.scope import EnvironmentScope
from herald.kit.time import utc_now

CLAIM_TIMEOUT_SECONDS = 60


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status_code: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass(frozen=True, slots=True)
class Claim:
    scope: EnvironmentScope
    key: str
    fingerprint: str
    token: str


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    kind: Literal["claimed", "in_progress", "mismatch", "replay", "lost"]
    response: StoredResponse | None = None


CLAIMED = ClaimOutcome("claimed")
IN_PROGRESS = ClaimOutcome("in_progress")
MISMATCH = ClaimOutcome("mismatch")
LOST = ClaimOutcome("lost")


class IdempotencyStore(Protocol):
    """`complete` and `release` take the claim's still open request transaction when there is
    one (`in_request_transaction`), and otherwise run on their own."""

    @property
    def in_request_transaction(self) -> bool: ...
    async def claim(self, session: AsyncSession, claim: Claim) -> ClaimOutcome: ...
    async def complete(
        self, claim: Claim, response: StoredResponse, session: AsyncSession | None = None
    ) -> None: ...
    async def release(self, claim: Claim, session: AsyncSession | None = None) -> None: ...


def _judge(
    claim: Claim, fingerprint: str, response: StoredResponse | None, claimed_at: datetime | None
) -> ClaimOutcome:
    if response is None:
        if claimed_at is not None and utc_now() - claimed_at > timedelta(seconds=CLAIM_TIMEOUT_SECONDS):
            return LOST
        return IN_PROGRESS
    if fingerprint != claim.fingerprint:
        return MISMATCH
    return ClaimOutcome("replay", response)


def _encode_headers(headers: list[tuple[bytes, bytes]]) -> str:
    return orjson.dumps(
        [[name.decode("latin-1"), value.decode("latin-1")] for name, value in headers]
    ).decode()


def _decode_headers(text: str | bytes) -> list[tuple[bytes, bytes]]:
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in orjson.loads(text)]


class DatabaseIdempotencyStore:
    in_request_transaction = True

    def __init__(self, database: Database, ttl_seconds: float) -> None:
        self._database = database
        self._ttl = timedelta(seconds=ttl_seconds)
        # Storing and releasing are one statement each: on PostgreSQL they run in autocommit
        # (one round trip, no BEGIN/COMMIT). SQLite keeps Herald's BEGIN IMMEDIATE write scope.
        self._autocommit = async_sessionmaker(
            database.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )

    async def claim(self, session: AsyncSession, claim: Claim) -> ClaimOutcome:
        repository = IdempotencyRepository(session, claim.scope)
        now = utc_now()
        if await repository.claim(claim.key, claim.fingerprint, claim.token, now, now + self._ttl):
            return CLAIMED
        record = await repository.find(claim.key)
        if record is None or _aware(record.expires_at) <= now:
            return IN_PROGRESS
        response = None
        if record.status_code is not None:
            response = StoredResponse(
                record.status_code,
                _decode_headers(record.response_headers or "[]"),
                record.response_body or b"",
            )
        return _judge(claim, record.fingerprint, response, _aware(record.created_at))

    async def complete(
        self, claim: Claim, response: StoredResponse, session: AsyncSession | None = None
    ) -> None:
        stored = (response.status_code, _encode_headers(response.headers), response.body)
        if session is not None:
            await IdempotencyRepository(session, claim.scope).record_claimed_response(
                claim.key, claim.token, stored
            )
            return
        now = utc_now()
        async with self._single_statement() as own_session:
            await IdempotencyRepository(own_session, claim.scope).record_response(
                claim.key, claim.fingerprint, claim.token, stored, now, now + self._ttl
            )

    async def release(self, claim: Claim, session: AsyncSession | None = None) -> None:
        if session is not None:
            await IdempotencyRepository(session, claim.scope).release(claim.key, claim.token)
            return
        async with self._single_statement() as own_session:
            await IdempotencyRepository(own_session, claim.scope).release(claim.key, claim.token)

    @asynccontextmanager
    async def _single_statement(self) -> AsyncIterator[AsyncSession]:
        if self._database.is_sqlite:
            async with self._database.session(write=True) as session:
                yield session
            return
        async with self._autocommit() as session:
            yield session


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


_CLAIM_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], 'f', ARGV[1], 't', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return false
end
return redis.call('HMGET', KEYS[1], 'f', 's', 'h', 'b')
"""
_COMPLETE_SCRIPT = """
local token = redis.call('HGET', KEYS[1], 't')
if token and token ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'f', ARGV[1], 't', ARGV[2], 's', ARGV[3], 'h', ARGV[4], 'b', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1
"""
_RELEASE_SCRIPT = """
if redis.call('HGET', KEYS[1], 't') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisIdempotencyStore:
    """One round trip per step; the in-progress claim expires after `CLAIM_TIMEOUT_SECONDS`."""

    in_request_transaction = False

    def __init__(self, redis: Redis, ttl_seconds: float) -> None:
        self._claim = redis.register_script(_CLAIM_SCRIPT)
        self._complete = redis.register_script(_COMPLETE_SCRIPT)
        self._release = redis.register_script(_RELEASE_SCRIPT)
        self._ttl_ms = int(ttl_seconds * 1000)

    async def claim(self, session: AsyncSession, claim: Claim) -> ClaimOutcome:
        existing = await self._claim(
            keys=[_redis_key(claim)], args=[claim.fingerprint, claim.token, CLAIM_TIMEOUT_SECONDS * 1000]
        )
        if existing is None:
            return CLAIMED
        fingerprint, status, headers, body = existing
        response = StoredResponse(int(status), _decode_headers(headers), body or b"") if status else None
        return _judge(claim, (fingerprint or b"").decode(), response, None)

    async def complete(
        self, claim: Claim, response: StoredResponse, session: AsyncSession | None = None
    ) -> None:
        await self._complete(
            keys=[_redis_key(claim)],
            args=[
                claim.fingerprint,
                claim.token,
                response.status_code,
                _encode_headers(response.headers),
                response.body,
                self._ttl_ms,
            ],
        )

    async def release(self, claim: Claim, session: AsyncSession | None = None) -> None:
        await self._release(keys=[_redis_key(claim)], args=[claim.token])


def _redis_key(claim: Claim) -> str:
    return f"herald:idem:{claim.scope.environment_id}:{claim.key}"


def build_idempotency_store(
    settings: Settings, database: Database, redis: Redis | None
) -> IdempotencyStore | None:
    if not settings.idempotency_enabled:
        return None
    if settings.idempotency_store == "redis":
        if redis is None:
            raise ValueError("HERALD_IDEMPOTENCY_STORE=redis needs HERALD_REDIS_URL")
        return RedisIdempotencyStore(redis, settings.idempotency_ttl_seconds)
    return DatabaseIdempotencyStore(database, settings.idempotency_ttl_seconds)
