"""The database is the queue: leasing, settling, retries, lease expiry, competing workers."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from herald.config import Settings
from herald.db import Database
from herald.jobs.repository import JobLeaseRepository, JobRepository
from herald.jobs.schemas import BatchResult, JobStatus, LeasedJob, NewJob
from herald.jobs.wakeup import JobWakeUp
from herald.jobs.worker import JobWorker, PermanentJobError, WorkerSettings, retry_delay
from herald.kit.crypto import SecretBox
from herald.kit.scope import EnvironmentScope
from herald.models import Environment, Job
from herald.startup import prepare_installation
from tests.support import TEST_MASTER_KEY


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings)
    await prepare_installation(database, SecretBox(TEST_MASTER_KEY))
    yield database
    await database.dispose()


@pytest.fixture
async def scope(database: Database) -> EnvironmentScope:
    async with database.session(write=False) as session:
        environment = (await session.execute(select(Environment).limit(1))).scalar_one()
    return EnvironmentScope(environment.id, environment.organization_id)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


async def enqueue(database: Database, scope: EnvironmentScope, now: datetime, *jobs: NewJob) -> list[str]:
    async with database.session(write=True) as session:
        return await JobRepository(session, scope).enqueue(list(jobs), now)


async def job_rows(database: Database) -> dict[str, Job]:
    async with database.session(write=False) as session:
        return {job.id: job for job in (await session.execute(select(Job))).scalars()}


QUICK = WorkerSettings(concurrency=4, lease=timedelta(seconds=30), idle_poll_seconds=0.05)


async def test_a_job_runs_once_and_completes(
    database: Database, scope: EnvironmentScope, clock: FakeClock
) -> None:
    seen: list[dict[str, object]] = []

    async def handle(_session: AsyncSession, job: LeasedJob) -> None:
        seen.append(job.args)

    [job_id] = await enqueue(database, scope, clock(), NewJob("echo", {"n": 1}))
    await JobWorker(database, {"echo": handle}, JobWakeUp(), QUICK, clock).run_until_idle()
    assert seen == [{"n": 1}]
    row = (await job_rows(database))[job_id]
    assert (row.status, row.attempts, row.lease_owner is not None) == (JobStatus.COMPLETED, 1, True)


async def test_future_jobs_wait_for_their_time(
    database: Database, scope: EnvironmentScope, clock: FakeClock
) -> None:
    ran: list[str] = []

    async def handle(_session: AsyncSession, job: LeasedJob) -> None:
        ran.append(job.id)

    [job_id] = await enqueue(
        database, scope, clock(), NewJob("later", {}, run_at=clock() + timedelta(minutes=5))
    )
    worker = JobWorker(database, {"later": handle}, JobWakeUp(), QUICK, clock)
    await worker.run_until_idle()
    assert ran == []
    clock.advance(301)
    await worker.run_until_idle()
    assert ran == [job_id]


async def test_failures_retry_with_backoff_then_succeed(
    database: Database, scope: EnvironmentScope, clock: FakeClock
) -> None:
    attempts = Counter[str]()

    async def flaky(_session: AsyncSession, job: LeasedJob) -> None:
        attempts[job.id] += 1
        if attempts[job.id] < 3:
            raise RuntimeError("provider timeout")

    [job_id] = await enqueue(database, scope, clock(), NewJob("flaky", {}))
    worker = JobWorker(database, {"flaky": flaky}, JobWakeUp(), QUICK, clock)
    await worker.run_until_idle()
    first_retry = (await job_rows(database))[job_id]
    assert first_retry.status == JobStatus.PENDING
    assert first_retry.last_error == "RuntimeError: provider timeout"
    delay = (first_retry.run_at.replace(tzinfo=UTC) - clock()).total_seconds()
    assert QUICK.backoff_base_seconds / 2 <= delay <= QUICK.backoff_base_seconds
    for _ in range(2):
        clock.advance(QUICK.backoff_max_seconds)
        await worker.run_until_idle()
    row = (await job_rows(database))[job_id]
    assert (row.status, row.attempts) == (JobStatus.COMPLETED, 3)


async def test_a_job_that_keeps_failing_ends_failed_with_its_reason(
    database: Database, scope: EnvironmentScope, clock: FakeClock
) -> None:
    async def broken(_session: AsyncSession, _job: LeasedJob) -> None:
        raise ValueError("template error")

    [job_id] = await enqueue(database, scope, clock(), NewJob("broken", {}, max_attempts=3))
    worker = JobWorker(database, {"broken": broken}, JobWakeUp(), QUICK, clock)
    for _ in range(5):
        await worker.run_until_idle()
        clock.advance(QUICK.backoff_max_seconds)
    row = (await job_rows(database))[job_id]
    assert (row.status, row.attempts, row.last_error) == (JobStatus.FAILED, 3, "ValueError: template error")


async def test_permanent_errors_and_unknown_kinds_fail_at_once(
    database: Database, scope: EnvironmentScope, clock: FakeClock
) -> None:
    async def refuse(_session: AsyncSession, _job: LeasedJob) -> None:
        raise PermanentJobError("subscriber has no email")

    permanent, unknown = await enqueue(database, scope, clock(), NewJob("refuse", {}), NewJob("nobody", {}))
    await JobWorker(database, {"refuse": refuse}, JobWakeUp(), QUICK, clock).run_until_idle()
    rows = await job_rows(database)
    assert (rows[permanent].status, rows[permanent].attempts) == (JobStatus.FAILED, 1)
    assert rows[unknown].status == JobStatus.FAILED
    assert "No handler" in (rows[unknown].last_error or "")


async def test_a_dead_workers_job_is_taken_again_after_its_lease(
    database: Database, scope: EnvironmentScope, clock: FakeClock
) -> None:
    [job_id] = await enqueue(database, scope, clock(), NewJob("echo", {}))
    async with database.session(write=True) as session:
        [stale] = await JobLeaseRepository(session).lease_due("killed-worker", 10, clock(), QUICK.lease)
    ran: list[str] = []

    async def handle(_session: AsyncSession, job: LeasedJob) -> None:
        ran.append(job.id)

    worker = JobWorker(database, {"echo": handle}, JobWakeUp(), QUICK, clock)
    await worker.run_until_idle()
    assert ran == []
    clock.advance(QUICK.lease.total_seconds() + 1)
    await worker.run_until_idle()
    assert ran == [job_id]
    async with database.session(write=True) as session:
        assert await JobLeaseRepository(session).complete(stale, clock()) is False
    row = (await job_rows(database))[job_id]
    assert (row.status, row.attempts) == (JobStatus.COMPLETED, 2)


async def test_a_run_that_lost_its_lease_leaves_no_effect(
    database: Database, scope: EnvironmentScope, clock: FakeClock
) -> None:
    """The slow first run's follow-up job is rolled back; only the takeover's is kept."""
    release_slow_run = asyncio.Event()
    calls = Counter[str]()

    async def enqueue_follow_up(session: AsyncSession, job: LeasedJob) -> None:
        calls[job.lease_owner.split("/")[0]] += 1
        await JobRepository(session, scope).enqueue([NewJob("follow-up", {"from": job.id})], clock())
        if calls.total() == 1:
            await release_slow_run.wait()

    await enqueue(database, scope, clock(), NewJob("step", {}))
    slow = JobWorker(database, {"step": enqueue_follow_up}, JobWakeUp(), QUICK, clock)
    fast = JobWorker(database, {"step": enqueue_follow_up}, JobWakeUp(), QUICK, clock)
    if database.is_sqlite:
        pytest.skip("SQLite runs one writer at a time: a run holding the write lock cannot be overtaken")
    assert await slow.start_due_jobs() == 1
    await asyncio.sleep(0.2)
    clock.advance(QUICK.lease.total_seconds() + 1)
    await fast.run_until_idle()
    release_slow_run.set()
    await slow.drain()
    follow_ups = [job for job in (await job_rows(database)).values() if job.kind == "follow-up"]
    assert len(follow_ups) == 1
    assert calls == {slow.name: 1, fast.name: 1}


async def test_two_workers_never_run_the_same_job(settings: Settings, scope: EnvironmentScope) -> None:
    """Two workers on separate connection pools, as two processes would be."""
    runs = Counter[str]()

    async def count(_session: AsyncSession, job: LeasedJob) -> None:
        runs[job.id] += 1
        await asyncio.sleep(0)

    first, second = Database(settings), Database(settings)
    try:
        ids = await enqueue(first, scope, datetime.now(UTC), *[NewJob("count", {"i": i}) for i in range(200)])
        workers = [JobWorker(db, {"count": count}, JobWakeUp(), QUICK) for db in (first, second)]
        await asyncio.gather(*(worker.run_until_idle() for worker in workers))
        assert sorted(runs) == sorted(ids)
        assert set(runs.values()) == {1}
        statuses = {row.status for row in (await job_rows(first)).values()}
        assert statuses == {JobStatus.COMPLETED}
    finally:
        await first.dispose()
        await second.dispose()


async def test_cancel_pending_jobs_of_a_transaction(
    database: Database, scope: EnvironmentScope, clock: FakeClock
) -> None:
    later = clock() + timedelta(hours=1)
    kept, canceled = await enqueue(
        database,
        scope,
        clock(),
        NewJob("delay", {}, run_at=later, transaction_id="tx-keep"),
        NewJob("delay", {}, run_at=later, transaction_id="tx-cancel"),
    )
    async with database.session(write=True) as session:
        assert await JobRepository(session, scope).cancel_pending("tx-cancel", clock()) == 1
    rows = await job_rows(database)
    assert (rows[kept].status, rows[canceled].status) == (JobStatus.PENDING, JobStatus.CANCELED)


async def test_postgres_notify_wakes_an_idle_worker(settings: Settings, scope: EnvironmentScope) -> None:
    if not settings.database_url:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite workers are woken in-process")
    done = asyncio.Event()

    async def handle(_session: AsyncSession, _job: LeasedJob) -> None:
        done.set()

    database, wakeup = Database(settings), JobWakeUp()
    await wakeup.listen_to_postgres(settings.resolved_database_url)
    stop = asyncio.Event()
    sleepy = WorkerSettings(idle_poll_seconds=3600)
    worker = JobWorker(database, {"wake": handle}, wakeup, sleepy)
    running = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.sleep(0.3)
        await enqueue(database, scope, datetime.now(UTC), NewJob("wake", {}))
        await asyncio.wait_for(done.wait(), timeout=30)
    finally:
        stop.set()
        wakeup.notify()
        await running
        await wakeup.close()
        await database.dispose()


async def test_a_batch_runs_in_one_transaction_and_its_failed_job_is_retried_alone(
    database: Database, scope: EnvironmentScope, clock: FakeClock
) -> None:
    single_runs = Counter[int]()
    batches: list[list[int]] = []

    async def one(_session: AsyncSession, job: LeasedJob) -> None:
        single_runs[job.args["i"]] += 1

    async def many(session: AsyncSession, jobs: list[LeasedJob]) -> BatchResult:
        """Job 1 fails on its first attempt, job 2 is handed back; the others have an effect."""
        batches.append(sorted(job.args["i"] for job in jobs))
        result = BatchResult()
        done: list[NewJob] = []
        for job in jobs:
            if job.args["i"] == 1 and job.attempts == 1:
                result.failed[job.id] = RuntimeError("provider timeout")
            elif job.args["i"] == 2:
                result.deferred.append(job)
            else:
                done.append(NewJob("effect", {"of": job.args["i"]}))
        await JobRepository(session, scope).enqueue(done, clock())
        return result

    ids = await enqueue(database, scope, clock(), *[NewJob("batch", {"i": i}) for i in range(5)])
    effects = Counter[int]()

    async def effect(_session: AsyncSession, job: LeasedJob) -> None:
        effects[job.args["of"]] += 1

    worker = JobWorker(
        database, {"batch": one, "effect": effect}, JobWakeUp(), QUICK, clock, batch_handlers={"batch": many}
    )
    await worker.run_until_idle()
    assert batches == [[0, 1, 2, 3, 4]]
    assert single_runs == {2: 1}
    assert effects == {0: 1, 3: 1, 4: 1}
    rows = await job_rows(database)
    failed = rows[ids[1]]
    assert (failed.status, failed.attempts, failed.last_error) == (
        JobStatus.PENDING,
        1,
        "RuntimeError: provider timeout",
    )
    assert {rows[ids[i]].status for i in (0, 2, 3, 4)} == {JobStatus.COMPLETED}
    clock.advance(QUICK.backoff_max_seconds)
    await worker.run_until_idle()
    assert batches == [[0, 1, 2, 3, 4], [1]]
    assert effects == {0: 1, 1: 1, 3: 1, 4: 1}
    rows = await job_rows(database)
    assert (rows[ids[1]].status, rows[ids[1]].attempts) == (JobStatus.COMPLETED, 2)


async def test_a_batch_that_fails_as_a_whole_rolls_back_and_runs_each_job_alone(
    database: Database, scope: EnvironmentScope, clock: FakeClock
) -> None:
    single_runs = Counter[int]()

    async def one(session: AsyncSession, job: LeasedJob) -> None:
        single_runs[job.args["i"]] += 1
        await JobRepository(session, scope).enqueue([NewJob("effect", {"of": job.args["i"]})], clock())

    async def broken(session: AsyncSession, jobs: list[LeasedJob]) -> BatchResult:
        await JobRepository(session, scope).enqueue([NewJob("effect", {"of": "batch"})], clock())
        raise RuntimeError("database went away")

    ids = await enqueue(database, scope, clock(), *[NewJob("batch", {"i": i}) for i in range(4)])
    worker = JobWorker(database, {"batch": one}, JobWakeUp(), QUICK, clock, batch_handlers={"batch": broken})
    await worker.run_until_idle()
    assert single_runs == {0: 1, 1: 1, 2: 1, 3: 1}
    rows = await job_rows(database)
    assert {rows[job_id].status for job_id in ids} == {JobStatus.COMPLETED}
    assert {rows[job_id].attempts for job_id in ids} == {1}
    effects = sorted(row.args["of"] for row in rows.values() if row.kind == "effect")
    assert effects == [0, 1, 2, 3]


def test_retry_delay_grows_and_is_capped() -> None:
    settings = WorkerSettings(backoff_base_seconds=2, backoff_max_seconds=60)
    assert retry_delay(1, settings, jitter=lambda: 0.0) == 1
    assert retry_delay(1, settings, jitter=lambda: 1.0) == 2
    assert retry_delay(4, settings, jitter=lambda: 1.0) == 16
    assert retry_delay(30, settings, jitter=lambda: 1.0) == 60


async def _run_until(worker: JobWorker, done: Callable[[], bool]) -> None:
    """Run the worker's loop until `done` (checked every 10 ms, 30 s at most), then stop it."""
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop))
    try:
        for _ in range(3000):  # a bound, never a measure
            if done():
                break
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        worker.wakeup.notify()
        await task


class SwitchedForeground:
    """Requests wait (`busy`) until the test says they no longer do."""

    def __init__(self) -> None:
        self.waiting = True

    def busy(self) -> bool:
        return self.waiting

    def active(self) -> bool:
        return self.waiting


class RecordedBatches:
    """A batch handler that records each batch's size, and whether two ever ran at once; the
    batch takes `seconds(its size)`, and then `then` sees the sizes so far."""

    def __init__(self, then: Callable[[list[int]], None], seconds: Callable[[int], float]) -> None:
        self.sizes: list[int] = []
        self.overlapped = False
        self._running = 0
        self._then, self._seconds = then, seconds

    async def run(self, _session: AsyncSession, jobs: list[LeasedJob]) -> BatchResult:
        self._running += 1
        self.overlapped = self.overlapped or self._running > 1
        self.sizes.append(len(jobs))
        await asyncio.sleep(self._seconds(len(jobs)))
        self._then(self.sizes)
        self._running -= 1
        return BatchResult()


async def test_a_worker_yields_to_a_busy_foreground_one_small_batch_at_a_time(
    database: Database, scope: EnvironmentScope, clock: FakeClock
) -> None:
    foreground = SwitchedForeground()

    def answered_after_twelve(sizes: list[int]) -> None:
        if sum(sizes) >= 12:
            foreground.waiting = False  # the requests are answered: the rest in one batch

    batches = RecordedBatches(answered_after_twelve, lambda _size: 0.01)

    async def one(_session: AsyncSession, _job: LeasedJob) -> None:
        raise AssertionError("every job runs in a batch")

    await enqueue(database, scope, clock(), *[NewJob("batch", {"i": i}) for i in range(40)])
    polite = WorkerSettings(concurrency=4, idle_poll_seconds=0.05, busy_batch_size=4, busy_share=0.5)
    worker = JobWorker(
        database,
        {"batch": one},
        JobWakeUp(),
        polite,
        clock,
        batch_handlers={"batch": batches.run},
        foreground=foreground,
    )
    await _run_until(worker, lambda: sum(batches.sizes) >= 40)
    assert batches.sizes == [4, 4, 4, 28]
    assert not batches.overlapped
    assert {job.status for job in (await job_rows(database)).values()} == {JobStatus.COMPLETED}


async def test_a_worker_stops_yielding_to_a_foreground_busy_for_too_long(
    database: Database, scope: EnvironmentScope, clock: FakeClock
) -> None:
    foreground = SwitchedForeground()  # busy throughout
    batches: list[int] = []

    async def many(_session: AsyncSession, jobs: list[LeasedJob]) -> BatchResult:
        batches.append(len(jobs))
        return BatchResult()

    await enqueue(database, scope, clock(), *[NewJob("batch", {"i": i}) for i in range(40)])
    impatient = WorkerSettings(idle_poll_seconds=0.05, busy_batch_size=4, busy_yield_seconds=0)
    worker = JobWorker(
        database, {}, JobWakeUp(), impatient, clock, batch_handlers={"batch": many}, foreground=foreground
    )
    await _run_until(worker, lambda: sum(batches) >= 40)
    assert batches == [40]


class QuietForeground:
    """Requests come (`active`) until the test says they stopped; they never crowd it (`busy`)."""

    def __init__(self) -> None:
        self.requests_come = True

    def busy(self) -> bool:
        return False

    def active(self) -> bool:
        return self.requests_come


async def test_a_worker_shares_the_write_turn_in_short_batches_one_at_a_time_while_requests_come(
    database: Database, scope: EnvironmentScope, clock: FakeClock
) -> None:
    """The first batch is whole (nothing is known of its kind yet); then, jobs having been seen
    to take 5 ms each, only as many as fit in `shared_turn_seconds` (20 ms), one batch at a
    time; once the requests stop, as many as fit in `batch_seconds`."""
    foreground = QuietForeground()

    def stopped_after_twenty_eight(sizes: list[int]) -> None:
        if sum(sizes) >= 28:
            foreground.requests_come = False

    batches = RecordedBatches(stopped_after_twenty_eight, lambda size: 0.005 * size)
    await enqueue(database, scope, clock(), *[NewJob("batch", {"i": i}) for i in range(40)])
    short = WorkerSettings(batch_size=20, idle_poll_seconds=0.05, shared_turn_seconds=0.02, batch_seconds=1)
    worker = JobWorker(
        database, {}, JobWakeUp(), short, clock, batch_handlers={"batch": batches.run}, foreground=foreground
    )
    await _run_until(worker, lambda: sum(batches.sizes) >= 40)
    sizes = batches.sizes
    assert sizes[0] == 20
    assert all(1 <= size <= 4 for size in sizes[1:-1]), sizes
    assert sizes[-1] > 4, sizes  # the rest at once (9 to 12 jobs)
    assert not batches.overlapped
