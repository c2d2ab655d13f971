"""Write-ahead log checkpoints of the embedded database, off the commit path.

SQLite in WAL mode appends every commit to the `-wal` file and copies it into the database
file in a checkpoint. By default the commit that takes the log past 1,000 pages runs that
checkpoint itself, fsyncs included, before it returns: with trigger groups committing back to
back, one in some fifteen commits held its requests (and the next group, waiting for the write
lock) for milliseconds of disk work. Herald's connections therefore do not checkpoint
(`PRAGMA wal_autocheckpoint=0`); instead, after a write commits, a passive checkpoint runs on
a thread of its own, with a connection of its own, at most once per interval. A passive
checkpoint never waits for, nor blocks, writers or readers, and SQLite releases the GIL while
it runs, so it takes the second core instead of the commit's time. Once it has copied the
whole log, the next writer starts the log over, as after an automatic checkpoint.

Nothing is less durable: a commit is in the log before it returns, checkpointed or not, and
the last connection to close (or any later process) checkpoints what is left.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time

import structlog

CHECKPOINT_INTERVAL_SECONDS = 0.5
NO_AUTOMATIC_CHECKPOINTS = "PRAGMA wal_autocheckpoint=0"

log = structlog.get_logger("herald.db")


class WalCheckpoints:
    """Passive checkpoints of one database file, started by `after_write_commit`."""

    def __init__(self, database_file: str, interval_seconds: float = CHECKPOINT_INTERVAL_SECONDS) -> None:
        self._database_file = database_file
        self._interval_seconds = interval_seconds
        self._connection: sqlite3.Connection | None = None
        self._running: asyncio.Future[None] | None = None
        self._next_at = 0.0

    def after_write_commit(self) -> None:
        """Start a checkpoint unless one is running or the last began within the interval."""
        now = time.monotonic()
        if self._running is not None or now < self._next_at:
            return
        self._next_at = now + self._interval_seconds
        self._running = asyncio.get_running_loop().run_in_executor(None, self._checkpoint)
        self._running.add_done_callback(self._finished)

    async def close(self) -> None:
        """Wait for a checkpoint in progress, then close the connection."""
        if self._running is not None:
            await asyncio.wait([self._running])
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _checkpoint(self) -> None:
        if self._connection is None:
            self._connection = sqlite3.connect(
                self._database_file, timeout=0, check_same_thread=False, isolation_level=None
            )
        self._connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _finished(self, running: asyncio.Future[None]) -> None:
        self._running = None
        if not running.cancelled() and (error := running.exception()) is not None:
            log.warning("wal_checkpoint_failed", error=type(error).__name__, exc_info=error)
