"""Running the engine: the job worker with the engine's handlers, inside `herald serve` (a
lifespan task) or alone (`herald worker`). Stops gracefully: no new leases, running jobs finish."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta

from herald.config import Settings
from herald.db import Database
from herald.engine.runner import StepRunner
from herald.engine.steps.registry import STEP_EXECUTORS
from herald.jobs.wakeup import JobWakeUp
from herald.jobs.worker import JobWorker, WorkerSettings
from herald.realtime.publisher import RealtimePublisher


def build_worker(
    database: Database, settings: Settings, realtime: RealtimePublisher, wakeup: JobWakeUp
) -> JobWorker:
    runner = StepRunner(STEP_EXECUTORS, realtime, wakeup)
    return JobWorker(
        database,
        runner.handlers(),
        wakeup,
        WorkerSettings(
            concurrency=settings.worker_concurrency,
            lease=timedelta(seconds=settings.worker_lease_seconds),
            idle_poll_seconds=settings.worker_poll_seconds,
        ),
        on_failure=runner.record_failure,
    )


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
