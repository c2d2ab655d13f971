"""Shared by the trigger and engine tests: workflows, database reads, bounded waits."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from herald.config import Settings
from herald.db import Database
from herald.engine.dispatch import STEP_JOB
from herald.engine.process import build_worker
from herald.jobs.schemas import BatchResult, LeasedJob
from herald.jobs.wakeup import JobWakeUp
from herald.kit.time import utc_now
from herald.models import Event, ExecutionDetail, Job, Message, Notification
from herald.realtime.publisher import NullPublisher
from tests.support import RunningServer

T = TypeVar("T")
WAIT_SECONDS = 30.0


def create_workflow(
    client: httpx.Client, workflow_id: str, steps: list[dict[str, Any]], **fields: Any
) -> dict[str, Any]:
    body = {
        "name": workflow_id.replace("-", " ").title(),
        "workflowId": workflow_id,
        "active": True,
        "steps": steps,
    }
    body.update(fields)
    response = client.post("/v2/workflows", json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["data"]
    return created


def in_app(name: str = "Inbox", **controls: Any) -> dict[str, Any]:
    return {"name": name, "type": "in_app", "controlValues": controls or {"body": "Hello"}}


def step(kind: str, name: str, **controls: Any) -> dict[str, Any]:
    return {"name": name, "type": kind, "controlValues": controls}


def wait_for(check: Callable[[], T | None], what: str, timeout: float = WAIT_SECONDS) -> T:
    """Poll until `check` returns something truthy; fail after `timeout` (a bound, never a measure)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Rows:
    """Reads of the engine's tables, straight from the test's database."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _all(self, model: type[T], *where: Any, order: Any = None) -> list[T]:
        async def read() -> list[T]:
            database = Database(self.settings)
            try:
                async with database.session(write=False) as session:
                    statement = select(model).where(*where).order_by(order if order is not None else model.id)  # type: ignore[attr-defined]
                    return list((await session.execute(statement)).scalars())
            finally:
                await database.dispose()

        return asyncio.run(read())

    def messages(self, *where: Any) -> list[Message]:
        return self._all(Message, *where)

    def notifications(self, *where: Any) -> list[Notification]:
        return self._all(Notification, *where)

    def jobs(self, *where: Any) -> list[Job]:
        return self._all(Job, *where)

    def details(self, *where: Any) -> list[ExecutionDetail]:
        return self._all(ExecutionDetail, *where)

    def events(self, *where: Any) -> list[Event]:
        return self._all(Event, *where)

    def settled(self, transaction_id: str, count: int = 1) -> list[Notification]:
        """Wait until `count` notifications of the transaction are no longer pending."""

        def check() -> list[Notification] | None:
            rows = self.notifications(Notification.transaction_id == transaction_id)
            done = [row for row in rows if row.status != "pending"]
            return rows if len(rows) >= count and len(done) == len(rows) else None

        return wait_for(check, f"{count} settled notification(s) of {transaction_id}")


def trigger(server: RunningServer, workflow: str, to: object, transaction_id: str, **fields: object) -> None:
    with server.client() as client:
        response = client.post(
            "/v1/events/trigger",
            json={"name": workflow, "to": to, "transactionId": transaction_id, **fields},
        )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["status"] == "processed"


def advance_pending_jobs(settings: Settings, transaction_id: str) -> None:
    """Time passes: pending jobs of the transaction become due now."""

    async def advance() -> None:
        database = Database(settings)
        try:
            async with database.session(write=True) as session:
                await session.execute(
                    update(Job)
                    .where(Job.transaction_id == transaction_id, Job.status == "pending")
                    .values(run_at=utc_now() - timedelta(seconds=1))
                )
        finally:
            await database.dispose()

    asyncio.run(advance())


@dataclass
class RecordedBatch:
    jobs: list[LeasedJob]
    result: BatchResult


class AnnouncedMessages(NullPublisher):
    def __init__(self) -> None:
        self.messages: list[str] = []

    async def message_delivered(self, environment_id: str, subscriber_id: str, message_id: str) -> None:
        self.messages.append(message_id)


def run_worker(settings: Settings, publisher: NullPublisher) -> list[RecordedBatch]:
    """Work off every due job with the engine's worker; returns each batch and its result."""

    async def work() -> list[RecordedBatch]:
        database = Database(settings)
        recorded: list[RecordedBatch] = []
        try:
            worker = build_worker(database, settings, publisher, JobWakeUp())
            run_batch = worker.batch_handlers[STEP_JOB]

            async def recording(session: AsyncSession, jobs: list[LeasedJob]) -> BatchResult:
                result = await run_batch(session, jobs)
                recorded.append(RecordedBatch(jobs, result))
                return result

            worker.batch_handlers = {**worker.batch_handlers, STEP_JOB: recording}
            await worker.run_until_idle()
        finally:
            await database.dispose()
        return recorded

    return asyncio.run(work())
