"""What every Herald process does before it serves: migrate, then bootstrap on first start."""

from __future__ import annotations

import asyncio

import structlog

from herald.db import Database
from herald.environments.service import bootstrap_installation
from herald.kit.crypto import SecretBox

log = structlog.get_logger("herald.startup")


async def prepare_installation(database: Database, box: SecretBox) -> None:
    async with database.exclusive_session() as session:
        await database.migrate(session)
        if await bootstrap_installation(session, box):
            log.info("installation_bootstrapped", hint="run `herald keys` to see the secret keys")


async def keep_planner_statistics_fresh(database: Database, interval_seconds: float) -> None:
    """Forever: refresh SQLite's planner statistics, then wait one interval (PostgreSQL keeps its
    own). Failures are logged, never fatal."""
    while True:
        try:
            await database.refresh_planner_statistics()
        except Exception as error:
            log.warning("planner_statistics_refresh_failed", error=type(error).__name__, exc_info=error)
        await asyncio.sleep(interval_seconds)
