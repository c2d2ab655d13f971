"""Deletes expired idempotency records. `herald serve` runs `run_idempotency_cleanup` as an
asyncio task from the app lifespan; a worker process can run the same coroutine."""

from __future__ import annotations

import asyncio

import structlog

from herald.db import Database
from herald.idempotency.repository import delete_expired
from herald.kit.time import utc_now

log = structlog.get_logger("herald.idempotency")


async def delete_expired_idempotency_records(database: Database) -> int:
    async with database.session(write=True) as session:
        return await delete_expired(session, utc_now())


async def run_idempotency_cleanup(database: Database, interval_seconds: float) -> None:
    """Forever: wait one interval, delete what expired. Failures are logged, never fatal."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            deleted = await delete_expired_idempotency_records(database)
        except Exception as error:
            log.warning("idempotency_cleanup_failed", error=type(error).__name__, exc_info=error)
            continue
        if deleted:
            log.info("idempotency_records_expired", deleted=deleted)
