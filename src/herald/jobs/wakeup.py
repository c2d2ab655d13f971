"""How a worker learns that jobs were enqueued: an in-process event, and on PostgreSQL a
LISTEN on the channel that every enqueueing transaction NOTIFYs at commit."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from herald.jobs.repository import NOTIFY_CHANNEL
from herald.kit.after_commit import after_commit

log = structlog.get_logger("herald.jobs")


class JobWakeUp:
    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._listener: Any = None

    def notify(self) -> None:
        self._event.set()

    def notify_after_commit(self, session: AsyncSession) -> None:
        """Wake the worker once the session's transaction has committed (not if it rolls back)."""

        async def wake() -> None:
            self.notify()

        after_commit(session, wake)

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()

    async def listen_to_postgres(self, database_url: str) -> None:
        """Wake on NOTIFY from any process; polling still covers a dropped connection."""
        import asyncpg  # here: only PostgreSQL listens, so SQLite never loads the driver

        url = make_url(database_url).set(drivername="postgresql")
        try:
            self._listener = await asyncpg.connect(url.render_as_string(hide_password=False))
            await self._listener.add_listener(NOTIFY_CHANNEL, lambda *_: self.notify())
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("job_listen_failed", error_type=type(error).__name__)

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
