"""Transaction-scoped locks on names, for decisions that must not interleave (read, then write).

On PostgreSQL a name maps to an advisory lock held until the transaction ends. SQLite has one
writer at a time and Herald opens write transactions with BEGIN IMMEDIATE, so a write
transaction already holds the whole database: there the call does nothing.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_LOCK = text("SELECT pg_advisory_xact_lock(:key)")


def lock_key(*parts: str) -> int:
    """A signed 64-bit advisory lock key for the name made of `parts`."""
    digest = hashlib.blake2b("\x1f".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def lock_name(session: AsyncSession, *parts: str) -> None:
    """Wait for, then hold until commit or rollback, the lock named by `parts`."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(_LOCK, {"key": lock_key(*parts)})
