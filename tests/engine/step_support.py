"""Drive step executors directly: a migrated, bootstrapped database with real subscriber and
notification rows, and `StepContext`s built over sessions of it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from herald.config import Settings
from herald.db import Database
from herald.engine.steps.base import (
    StepContext,
    StepExecutor,
    StepOutcome,
    StepSnapshot,
    WorkflowSnapshot,
)
from herald.kit.crypto import SecretBox
from herald.kit.ids import new_id
from herald.kit.scope import EnvironmentScope
from herald.models import Environment, Notification, Subscriber
from herald.startup import prepare_installation
from tests.support import TEST_MASTER_KEY

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
WORKFLOW = WorkflowSnapshot(
    id=None, identifier="comments", name="Comments", critical=False, severity="none", tags=[]
)


@dataclass(frozen=True)
class Trigger:
    """One trigger event for one subscriber: its notification row and what the runner knows."""

    notification_id: str
    event_id: str
    transaction_id: str
    subscriber_row_id: str
    subscriber: dict[str, Any]
    payload: dict[str, Any]


class StepWorld:
    def __init__(self, database: Database, scope: EnvironmentScope) -> None:
        self.database = database
        self.scope = scope

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings) -> AsyncIterator[StepWorld]:
        database = Database(settings)
        try:
            await prepare_installation(database, SecretBox(TEST_MASTER_KEY))
            async with database.session(write=False) as session:
                environment = (
                    await session.execute(select(Environment).where(Environment.name == "Development"))
                ).scalar_one()
            yield cls(database, EnvironmentScope(environment.id, environment.organization_id))
        finally:
            await database.dispose()

    async def subscriber(self, subscriber_id: str, timezone: str | None = None) -> dict[str, Any]:
        async with self.database.session(write=True) as session:
            row = Subscriber(
                environment_id=self.scope.environment_id,
                organization_id=self.scope.organization_id,
                subscriber_id=subscriber_id,
                timezone=timezone,
                channels=[],
            )
            session.add(row)
            await session.flush()
            return {"_id": row.id, "subscriberId": subscriber_id, "timezone": timezone}

    async def triggers(self, subscriber: dict[str, Any], payloads: Sequence[dict[str, Any]]) -> list[Trigger]:
        """Notification rows for `payloads`, one trigger event each, as a trigger would write them."""
        made: list[Trigger] = []
        async with self.database.session(write=True) as session:
            for payload in payloads:
                transaction_id = f"txn-{new_id()}"
                row = Notification(
                    environment_id=self.scope.environment_id,
                    organization_id=self.scope.organization_id,
                    event_id=new_id(),
                    transaction_id=transaction_id,
                    subscriber_id=subscriber["_id"],
                    workflow_identifier=WORKFLOW.identifier,
                    workflow_name=WORKFLOW.name,
                    status="processing",
                    channels=[],
                    tags=[],
                    severity="none",
                    critical=False,
                    payload=payload,
                    overrides={},
                )
                session.add(row)
                await session.flush()
                made.append(
                    Trigger(row.id, row.event_id, transaction_id, subscriber["_id"], subscriber, payload)
                )
        return made

    async def trigger(self, subscriber: dict[str, Any], payload: dict[str, Any]) -> Trigger:
        [made] = await self.triggers(subscriber, [payload])
        return made


def step(step_type: str, controls: dict[str, Any], step_id: str | None = None) -> StepSnapshot:
    return StepSnapshot(
        id=new_id(),
        step_id=step_id or f"{step_type}-step",
        name=step_type,
        type=step_type,
        control_values=controls,
    )


async def run_step(
    database: Database,
    scope: EnvironmentScope,
    executor: StepExecutor,
    snapshot: StepSnapshot,
    trigger: Trigger,
    now: datetime,
) -> StepOutcome:
    """Run `executor` for `trigger` in one write transaction of `database`, as a step job does."""
    async with database.session(write=True) as session:
        context = StepContext(
            session=session,
            scope=scope,
            job_id=new_id(),
            notification_id=trigger.notification_id,
            event_id=trigger.event_id,
            transaction_id=trigger.transaction_id,
            subscriber_row_id=trigger.subscriber_row_id,
            subscriber=trigger.subscriber,
            workflow=WORKFLOW,
            step=snapshot,
            step_index=0,
            payload=trigger.payload,
            variables={"payload": trigger.payload, "subscriber": trigger.subscriber, "steps": {}},
            now=now,
        )
        return await executor(context)


async def run_concurrently(
    settings: Settings,
    scope: EnvironmentScope,
    executor: StepExecutor,
    snapshot: StepSnapshot,
    triggers: Sequence[Trigger],
    now: datetime,
    pools: int = 4,
) -> list[StepOutcome]:
    """Run the step for every trigger at once, spread over `pools` separate connection pools
    (as separate worker processes would be)."""
    databases = [Database(settings) for _ in range(pools)]
    try:
        return list(
            await asyncio.gather(
                *(
                    run_step(databases[index % pools], scope, executor, snapshot, trigger, now)
                    for index, trigger in enumerate(triggers)
                )
            )
        )
    finally:
        for database in databases:
            await database.dispose()
