"""The worker: lease due jobs, run them through their handlers, settle them.

A handler runs inside the same transaction that marks its job completed, and that mark only
succeeds while the worker still holds the lease; a handler whose lease was lost (it ran too
long and another worker took the job) is rolled back, so its database effects never happen
twice. Failures are retried with exponential backoff and jitter until `max_attempts`, then
the job ends failed with the reason recorded.

In a process that also answers requests (`herald serve` on SQLite), the worker yields to them: while its
`Foreground` says it is busy, the worker runs one small batch at a time and pauses after each,
so that it takes at most `busy_share` of the time; what it leaves waits in the queue (the
database) until the requests slow down. It yields so for `busy_yield_seconds` at most: a
foreground that stays busy longer would leave the queue to grow without bound, so the worker
then takes its full turns again (and the requests slow down instead).

A batch is kept to as many jobs as fit in `batch_seconds` (`shared_turn_seconds` while requests
come at all: the foreground is `active`), at what batched jobs of each kind were seen to take:
on SQLite a batch's transaction holds the one write turn, and after a burst of bulk triggers a
batch of 200 expansion jobs (20,000 events) held it for 5 s while the triggers that came
meanwhile waited (p50 26 s from trigger to message at 500/s). While the foreground is active
the worker also runs one batch at a time, so that a commit waiting for the turn waits for one
short batch at most, not for the batch after it as well.

Kinds with a batch handler run many leased jobs in one transaction: the handler does the work
of the whole batch and answers which jobs failed (their effects left out) and which it handed
back to run alone; the others are marked completed together, under the same lease check. If
the batch transaction itself fails (a database error, a lost lease), it is rolled back and
every job of the batch runs again through its single-job handler, one transaction each, so one
bad job never takes the others down with it.
"""

from __future__ import annotations

import asyncio
import random
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from herald.db import Database
from herald.jobs.repository import JobLeaseRepository
from herald.jobs.schemas import BatchResult, LeasedJob
from herald.jobs.wakeup import JobWakeUp
from herald.kit.time import utc_now

log = structlog.get_logger("herald.jobs")

JobHandler = Callable[[AsyncSession, LeasedJob], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, list[LeasedJob]], Awaitable[BatchResult]]
"""Runs the jobs together in the session's transaction. A failed job's effects must be left
out; a deferred job has none (it runs later through the single-job handler)."""
Batch = tuple[BatchHandler, list[LeasedJob]]
FailureHook = Callable[[AsyncSession, LeasedJob, str], Awaitable[None]]
"""Called in the transaction that marks a job failed for good (the handler's own was rolled back)."""
Clock = Callable[[], datetime]


_LONGEST_PAUSE_SECONDS = 5.0


class Foreground(Protocol):
    def busy(self) -> bool:
        """Whether requests are waiting on this process: the worker then yields to them."""
        ...

    def active(self) -> bool:
        """Whether requests came lately: the worker then keeps its batches short."""
        ...


class PermanentJobError(Exception):
    """A failure that retrying cannot fix: the job ends failed at once."""


class LeaseLostError(Exception):
    """The job's lease expired and was taken over; this run's effects are discarded."""


@dataclass(frozen=True)
class WorkerSettings:
    concurrency: int = 8
    """Leased batches (and, within them, single-job transactions) running at once."""
    batch_size: int = 200
    """Jobs leased at a time; a batch handler's kind runs them in one transaction."""
    lease: timedelta = timedelta(seconds=60)
    idle_poll_seconds: float = 1.0
    busy_batch_size: int = 2
    """Jobs leased at a time while the foreground is busy (an expansion job carries up to 100
    events): the batch's transaction holds SQLite's write lock, and the intake waits for it."""
    busy_share: float = 0.1
    """The most of the time the worker takes while the foreground is busy."""
    busy_yield_seconds: float = 30.0
    """How long the worker yields to a foreground that stays busy."""
    batch_seconds: float = 0.5
    """How long a batch should take (one job at the least)."""
    shared_turn_seconds: float = 0.02
    """How long a batch should take while the foreground is active."""
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
        batch_handlers: Mapping[str, BatchHandler] | None = None,
        foreground: Foreground | None = None,
    ) -> None:
        self.database = database
        self.handlers = handlers
        self.batch_handlers = batch_handlers or {}
        self.on_failure = on_failure
        self.wakeup = wakeup
        self.settings = settings or WorkerSettings()
        self.clock = clock
        self.foreground = foreground
        self._busy_since: float | None = None
        self._seconds_per_job: dict[str, float] = {}
        """By kind, what a batched job took lately: the longest seen, fading by a tenth a batch."""
        self.name = f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self._running: set[asyncio.Task[None]] = set()
        self._single_slots = asyncio.Semaphore(self.settings.concurrency)

    async def run(self, stop: asyncio.Event) -> None:
        log.info("worker_started", worker=self.name, concurrency=self.settings.concurrency)
        while not stop.is_set():
            if self._yielding():
                await self._yield_to_foreground()
                continue
            sharing = self._sharing()
            if self._running and (sharing or len(self._running) >= self.settings.concurrency):
                await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
                continue
            seconds = self.settings.shared_turn_seconds if sharing else self.settings.batch_seconds
            limit = self._batch_limit(self.settings.batch_size, seconds)
            try:
                leased = await self.start_due_jobs(limit)
            except Exception:
                log.exception("job_lease_failed", worker=self.name)
                leased = 0
            if leased < limit:
                # Everything due was taken: wait for a wake-up (an enqueue that committed in
                # this process, a NOTIFY, or our own jobs' follow-ups) or the next due time,
                # instead of leasing again at once only to find nothing.
                await self.wakeup.wait(await self._idle_seconds())
        await self.drain()

    def _sharing(self) -> bool:
        """Whether the worker shares the write turn with requests: one short batch at a time, so
        that a commit of theirs that waits for the turn waits for one such batch at most."""
        return self.foreground is not None and self.foreground.active()

    def _batch_limit(self, most: int, seconds: float) -> int:
        """At most `most` jobs, and as many as fit in `seconds` at the cost of the dearest kind
        lately seen (before any was, `most`)."""
        if not self._seconds_per_job:
            return most
        fitting = int(seconds / max(self._seconds_per_job.values()))
        return max(1, min(most, fitting))

    def _took(self, kind: str, jobs: int, seconds: float) -> None:
        for known in self._seconds_per_job:
            self._seconds_per_job[known] *= 0.9
        self._seconds_per_job[kind] = max(seconds / jobs, self._seconds_per_job.get(kind, 0.0))

    def _yielding(self) -> bool:
        """Whether the foreground is busy, and has not been for longer than the worker yields."""
        if self.foreground is None or not self.foreground.busy():
            self._busy_since = None
            return False
        now = time.monotonic()
        if self._busy_since is None:
            self._busy_since = now
        return now - self._busy_since < self.settings.busy_yield_seconds

    async def _yield_to_foreground(self) -> None:
        """One small batch once the running ones are done, then a pause long enough that the
        batch took at most `busy_share` of the time (or, with nothing due, the idle wait). What
        the batch took is the CPU this thread (the event loop's) spent meanwhile: all of its time
        when requests saturate it, and little when the batch mostly waited for the database
        while requests were few: its wall time would then make long pauses where there is
        nothing to yield to."""
        if self._running:
            await asyncio.wait(self._running)
            return
        started = time.thread_time()
        try:
            limit = self._batch_limit(self.settings.busy_batch_size, self.settings.shared_turn_seconds)
            leased = await self.start_due_jobs(limit)
        except Exception:
            log.exception("job_lease_failed", worker=self.name)
            leased = 0
        if not leased:
            await self.wakeup.wait(await self._idle_seconds())
            return
        await self.drain()
        took = time.thread_time() - started
        await asyncio.sleep(min(_LONGEST_PAUSE_SECONDS, took * (1 / self.settings.busy_share - 1)))

    async def start_due_jobs(self, limit: int | None = None) -> int:
        """Lease a batch of due jobs (at most `limit`, or a whole batch) if a slot is free and
        start it; returns how many."""
        if len(self._running) >= self.settings.concurrency:
            await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
            return 1
        leased: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(self._lease_and_run(leased, limit or self.settings.batch_size))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return await leased

    async def _lease_and_run(self, leased: asyncio.Future[int], limit: int) -> None:
        """Lease, and run the batchable jobs in the same transaction (their rows stay locked
        until it commits: on PostgreSQL another worker's SKIP LOCKED passes them by); then
        the other jobs, one transaction each."""
        jobs: list[LeasedJob] = []
        results: list[BatchResult] = []
        try:
            async with self.database.session(write=True) as session:
                queue = JobLeaseRepository(session)
                jobs = await queue.lease_due(self.name, limit, self.clock(), self.settings.lease)
                leased.set_result(len(jobs))
                batches, singles = self._split(jobs)
                for handler, group in batches:
                    started = time.monotonic()
                    result = await handler(session, group)
                    self._took(group[0].kind, len(group), time.monotonic() - started)
                    left_out = set(result.failed) | {job.id for job in result.deferred}
                    done = [job for job in group if job.id not in left_out]
                    if not await queue.complete_many(done, self.clock()):
                        raise LeaseLostError(f"{len(done)} jobs")
                    results.append(result)
        except Exception as error:
            if not leased.done():
                leased.set_exception(error)
                return
            log.warning("job_batch_fell_back", jobs=len(jobs), error_type=type(error).__name__)
            await self._run_alone_after_rollback(jobs)
            return
        for result in results:
            for job in jobs:
                if job.id in result.failed:
                    await self._record_failure(job, result.failed[job.id])
            singles.extend(result.deferred)
        if singles:
            await asyncio.gather(*(self._execute_in_slot(job) for job in singles))

    def _split(
        self, jobs: list[LeasedJob]
    ) -> tuple[list[tuple[BatchHandler, list[LeasedJob]]], list[LeasedJob]]:
        """(batch handler, its jobs) for the batchable kinds; the rest run one by one."""
        by_kind: dict[str, list[LeasedJob]] = {}
        for job in jobs:
            by_kind.setdefault(job.kind, []).append(job)
        batches: list[Batch] = []
        singles: list[LeasedJob] = []
        for kind, group in by_kind.items():
            if kind in self.batch_handlers:
                batches.append((self.batch_handlers[kind], group))
            else:
                singles.extend(group)
        return batches, singles

    async def _run_alone_after_rollback(self, jobs: list[LeasedJob]) -> None:
        """The batch's transaction, lease included, was rolled back: lease the same jobs
        again (those still due and free) and run each in its own transaction."""
        async with self.database.session(write=True) as session:
            again = await JobLeaseRepository(session).lease_again(
                self.name, [job.id for job in jobs], self.clock(), self.settings.lease
            )
        await asyncio.gather(*(self._execute_in_slot(job) for job in again))

    async def drain(self) -> None:
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)

    async def run_until_idle(self) -> None:
        """Run every due job, including those the handlers enqueue, then return (for tests and tools)."""
        while await self.start_due_jobs():
            await self.drain()
        await self.drain()

    async def _execute_in_slot(self, job: LeasedJob) -> None:
        async with self._single_slots:
            await self.execute(job)

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
