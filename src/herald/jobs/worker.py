"""The worker: lease due jobs, run each through its handler, settle it.

A handler runs inside the same transaction that marks its job completed, and that mark only
succeeds while the worker still holds the lease; a handler whose lease was lost (it ran too
long and another worker took the job) is rolled back, so its database effects never happen
twice. Failures are retried with exponential backoff and jitter until `max_attempts`, then
the job ends failed with the reason recorded.
"""

from __future__ import annotations

import asyncio
import random
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from herald.db import Database
from herald.jobs.repository import JobLeaseRepository
from herald.jobs.schemas import LeasedJob
from herald.jobs.wakeup import JobWakeUp
from herald.kit.time import utc_now

log = structlog.get_logger("herald.jobs")

JobHandler = Callable[[AsyncSession, LeasedJob], Awaitable[None]]
FailureHook = Callable[[AsyncSession, LeasedJob, str], Awaitable[None]]
"""Called in the transaction that marks a job failed for good (the handler's own was rolled back)."""
Clock = Callable[[], datetime]


class PermanentJobError(Exception):
    """A failure that retrying cannot fix: the job ends failed at once."""


class LeaseLostError(Exception):
    """The job's lease expired and was taken over; this run's effects are discarded."""


@dataclass(frozen=True)
class WorkerSettings:
    concurrency: int = 8
    lease: timedelta = timedelta(seconds=60)
    idle_poll_seconds: float = 1.0
    backoff_base_seconds: float = 1.0
    backoff_max_seconds: float = 600.0


def retry_delay(attempt: int, settings: WorkerSettings, jitter: Callable[[], float] = random.random) -> float:
    """Exponential backoff (base x 2^(attempt-1), capped) with full jitter on its upper half."""
    ceiling = min(settings.backoff_max_seconds, settings.backoff_base_seconds * 2 ** (attempt - 1))
    return float(ceiling / 2 + jitter() * ceiling / 2)


class JobWorker:
    def __init__(
        self,
        database: Database,
        handlers: Mapping[str, JobHandler],
        wakeup: JobWakeUp,
        settings: WorkerSettings | None = None,
        clock: Clock = utc_now,
        on_failure: FailureHook | None = None,
    ) -> None:
        self.database = database
        self.handlers = handlers
        self.on_failure = on_failure
        self.wakeup = wakeup
        self.settings = settings or WorkerSettings()
        self.clock = clock
        self.name = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self._running: set[asyncio.Task[None]] = set()

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker_started", worker=self.name, concurrency=self.settings.concurrency)
        while not stop.is_set():
            try:
                started = await self.start_due_jobs()
            except Exception:
                log.exception("job_lease_failed", worker=self.name)
                started = 0
            if started == 0:
                await self.wakeup.wait(await self._idle_seconds())
        await self.drain()

    async def start_due_jobs(self) -> int:
        """Lease as many due jobs as there are free slots and start them; returns how many."""
        free = self.settings.concurrency - len(self._running)
        if free <= 0:
            await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
            return 1
        async with self.database.session(write=True) as session:
            jobs = await JobLeaseRepository(session).lease_due(
                self.name, free, self.clock(), self.settings.lease
            )
        for job in jobs:
            task = asyncio.create_task(self.execute(job))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return len(jobs)

    async def drain(self) -> None:
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def run_until_idle(self) -> None:
        """Run every due job, including those the handlers enqueue, then return (for tests and tools)."""
        while await self.start_due_jobs() or self._running:
            await self.drain()

    async def execute(self, job: LeasedJob) -> None:
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise PermanentJobError(f"No handler for job kind {job.kind!r}")
            async with self.database.session(write=True) as session:
                await handler(session, job)
                if not await JobLeaseRepository(session).complete(job, self.clock()):
                    raise LeaseLostError(job.id)
        except LeaseLostError:
            log.warning("job_lease_lost", job_id=job.id, kind=job.kind)
        except Exception as error:
            await self._record_failure(job, error)

    async def _record_failure(self, job: LeasedJob, error: Exception) -> None:
        reason = f"{type(error).__name__}: {error}"[:2000]
        permanent = isinstance(error, PermanentJobError) or job.attempts >= job.max_attempts
        now = self.clock()
        async with self.database.session(write=True) as session:
            queue = JobLeaseRepository(session)
            if permanent:
                if await queue.fail(job, now, reason) and self.on_failure is not None:
                    try:
                        async with session.begin_nested():
                            await self.on_failure(session, job, reason)
                    except Exception:
                        log.exception("job_failure_hook_failed", job_id=job.id, kind=job.kind)
            else:
                delay = retry_delay(job.attempts, self.settings)
                await queue.retry_later(job, now + timedelta(seconds=delay), reason)
        log.warning(
            "job_failed" if permanent else "job_retry_scheduled",
            job_id=job.id,
            kind=job.kind,
            attempt=job.attempts,
            error_type=type(error).__name__,
        )

    async def _idle_seconds(self) -> float:
        async with self.database.session(write=False) as session:
            next_run_at = await JobLeaseRepository(session).next_run_at()
        if next_run_at is None:
            return self.settings.idle_poll_seconds
        if next_run_at.tzinfo is None:
            next_run_at = next_run_at.replace(tzinfo=self.clock().tzinfo)
        until_due = (next_run_at - self.clock()).total_seconds()
        return max(0.0, min(self.settings.idle_poll_seconds, until_due))
