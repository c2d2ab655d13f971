"""Running the engine: the job worker with the engine's handlers, inside `herald serve` (a
lifespan task) or alone (`herald worker`). Stops gracefully: no new leases, running jobs finish."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Mapping
from datetime import timedelta

from herald.config import Settings
from herald.db import Database
from herald.engine.batch import StepBatchRunner
from herald.engine.dispatch import FirstSteps
from herald.engine.runner import StepRunner
from herald.engine.snapshot import SnapshotCache
from herald.engine.steps.base import StepExecutor
from herald.engine.steps.registry import STEP_EXECUTORS
from herald.events.expansion import EXPAND_JOB, ExpansionJobs
from herald.idempotency.cleanup import run_idempotency_cleanup
from herald.jobs.wakeup import JobWakeUp
from herald.jobs.worker import Foreground, JobWorker, WorkerSettings
from herald.kit.time import utc_now
from herald.realtime.publisher import RealtimePublisher
from herald.realtime.socket_publisher import worker_publisher


def build_worker(
    database: Database,
    settings: Settings,
    realtime: RealtimePublisher,
    wakeup: JobWakeUp,
    executors: Mapping[str, StepExecutor] = STEP_EXECUTORS,
    foreground: Foreground | None = None,
) -> JobWorker:
    runner = StepRunner(
        executors, realtime, wakeup, first_in_app_at_once=settings.deliver_first_in_app_at_once
    )
    expansions = ExpansionJobs(settings.fanout_chunk_size, runner.first_steps, wakeup, runner.clock)
    return JobWorker(
        database,
        {**runner.handlers(), EXPAND_JOB: expansions.run_one},
        wakeup,
        WorkerSettings(
            concurrency=settings.worker_concurrency,
            lease=timedelta(seconds=settings.worker_lease_seconds),
            idle_poll_seconds=settings.worker_poll_seconds,
            batch_size=settings.worker_batch_size,
        ),
        on_failure=runner.record_failure,
        batch_handlers={**runner.batch_handlers(), EXPAND_JOB: expansions.run_batch},
        foreground=foreground,
    )


def first_steps_at_once(
    settings: Settings,
    realtime: RealtimePublisher,
    wakeup: JobWakeUp,
    executors: Mapping[str, StepExecutor] = STEP_EXECUTORS,
) -> FirstSteps | None:
    """What runs a trigger's first in-app steps in its own transaction, unless turned off."""
    if not settings.deliver_first_in_app_at_once:
        return None
    return StepBatchRunner(executors, realtime, SnapshotCache(), wakeup, utc_now).run


async def run_engine(database: Database, settings: Settings, worker: JobWorker, stop: asyncio.Event) -> None:
    """Work until `stop` is set; on PostgreSQL, LISTEN so that other processes' enqueues wake us."""
    if not database.is_sqlite:
        await worker.wakeup.listen_to_postgres(settings.resolved_database_url)
    try:
        await worker.run(stop)
    finally:
        await worker.wakeup.close()


@contextlib.asynccontextmanager
async def engine_running(database: Database, settings: Settings, worker: JobWorker) -> AsyncIterator[None]:
    """The engine as a background task for the duration of the block."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_engine(database, settings, worker, stop))
    try:
        yield
    finally:
        stop.set()
        worker.wakeup.notify()
        await task


async def serve_worker(
    database: Database, settings: Settings, executors: Mapping[str, StepExecutor] = STEP_EXECUTORS
) -> None:
    """`herald worker`: the engine alone (and the idempotency cleanup) until SIGTERM or SIGINT;
    then no new leases, and the running jobs finish. With Redis, its in-app deliveries reach
    the sockets of every API process through socket.io's Redis manager."""
    stop = asyncio.Event()
    worker = build_worker(database, settings, worker_publisher(settings, database), JobWakeUp(), executors)

    def request_stop() -> None:
        stop.set()
        worker.wakeup.notify()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, request_stop)
    cleanup = None
    if settings.idempotency_store == "database":
        cleanup = asyncio.create_task(
            run_idempotency_cleanup(database, settings.idempotency_cleanup_interval_seconds)
        )
    try:
        await run_engine(database, settings, worker, stop)
    finally:
        if cleanup is not None:
            cleanup.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await cleanup
