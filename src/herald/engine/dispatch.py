"""Starting runs: a notification and the first step job per recipient, and the fan-out jobs
that walk a topic (or the whole environment) a chunk at a time.

Everything here runs inside the caller's transaction (the trigger request, or a fan-out job),
so a run exists completely or not at all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.engine.repository import NotificationRepository, NotificationState, NotificationStatus
from herald.engine.snapshot import step_channels
from herald.jobs.repository import JobRepository
from herald.jobs.schemas import BatchResult, LeasedJob, NewJob
from herald.kit.ids import new_ids
from herald.kit.scope import EnvironmentScope

STEP_JOB = "engine.step"
FANOUT_JOB = "engine.fanout"
DEFAULT_FANOUT_CHUNK = 1_000
FANOUT_CHUNKS_PER_SPLIT = 16
"""Chunk jobs one split makes: more than a worker runs at once (its concurrency), few enough that
the cursors it reads stay small (16,000 ids) and other work is not queued behind many chunks."""


@dataclass(frozen=True)
class EventRun:
    """What every notification of one event copies."""

    event_id: str
    transaction_id: str
    workflow: dict[str, Any]
    payload: dict[str, Any]
    overrides: dict[str, Any]
    actor: dict[str, Any] | None
    tenant: dict[str, Any] | None
    context: dict[str, Any] | None = None

    def notification_values(self, channels: list[str] | None = None) -> dict[str, Any]:
        """The columns every notification of the event shares (`channels`: the workflow's
        step channels, when the caller has them already)."""
        return {
            "event_id": self.event_id,
            "transaction_id": self.transaction_id,
            "workflow_id": self.workflow.get("id"),
            "workflow_identifier": self.workflow["identifier"],
            "workflow_name": self.workflow["name"],
            "status": NotificationStatus.PENDING,
            "channels": step_channels(self.workflow) if channels is None else channels,
            "tags": self.workflow.get("tags") or [],
            "severity": self.workflow.get("severity") or "none",
            "critical": bool(self.workflow.get("critical")),
            "payload": self.payload,
            "overrides": self.overrides,
            "actor": self.actor,
            "tenant": self.tenant,
            "recipient": None,
        }


def step_job(
    event_id: str,
    transaction_id: str,
    notification_id: str,
    step: int,
    outputs: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    resume: dict[str, Any] | None = None,
) -> NewJob:
    args: dict[str, Any] = {"event": event_id, "step": step}
    if outputs:
        args["steps"] = outputs
    if resume is not None:
        args["resume"] = resume
    return NewJob(
        STEP_JOB, args, run_at=run_at, transaction_id=transaction_id, notification_id=notification_id
    )


@dataclass(frozen=True)
class StartedRuns:
    """What the transaction that started runs knows of them, so that their first steps, run at
    once, read none of it back: each new notification's state and each event."""

    states: dict[str, NotificationState]
    events: dict[str, EventRun]


FirstSteps = Callable[[AsyncSession, list[LeasedJob], StartedRuns], Awaitable[BatchResult]]
"""Runs new step-0 jobs in the caller's transaction, as a worker's batch would (the engine's
`StepBatchRunner.run`): what it did not fail or hand back is done."""
INLINE_OWNER = "inline"


async def start_runs(
    session: AsyncSession,
    scope: EnvironmentScope,
    runs: Sequence[tuple[EventRun, Sequence[str]]],
    now: datetime,
    first_steps: FirstSteps | None = None,
) -> int:
    """For each event, a notification and its first step job for each of its subscribers
    (internal ids) that has none for that event yet; returns how many runs were started.

    With `first_steps`, those jobs run at once, in this transaction, and are stored completed:
    a trigger's in-app message commits with the trigger, with no trip through the queue.
    The jobs it fails or hands back (other step types) are stored pending, for the worker."""
    by_event = {run.event_id: run for run, _ in runs}
    rows: list[dict[str, Any]] = []
    channels: dict[int, list[str]] = {}  # by workflow snapshot: the events of a bulk share one
    for run, subscriber_pks in runs:
        snapshot = id(run.workflow)
        if snapshot not in channels:
            channels[snapshot] = step_channels(run.workflow)
        values = run.notification_values(channels[snapshot])
        rows.extend({**values, "subscriber_id": pk} for pk in dict.fromkeys(subscriber_pks))
    started = await NotificationRepository(session, scope).insert_many(rows, now)
    if not started:
        return 0
    jobs = [
        step_job(event_id, by_event[event_id].transaction_id, notification_id, 0)
        for notification_id, event_id in started
    ]
    ids = new_ids(len(jobs))
    done: set[str] = set()
    if first_steps is not None:
        new = {notification_id for notification_id, _ in started}
        states = {
            row["id"]: NotificationState(row["id"], NotificationStatus.PENDING, row["subscriber_id"])
            for row in rows
            if row["id"] in new
        }
        done = await _run_now(session, scope, first_steps, ids, jobs, StartedRuns(states, by_event))
    await JobRepository(session, scope).enqueue(jobs, now, ids, done)
    return len(started)


async def _run_now(
    session: AsyncSession,
    scope: EnvironmentScope,
    first_steps: FirstSteps,
    ids: list[str],
    jobs: list[NewJob],
    runs: StartedRuns,
) -> set[str]:
    """The ids of the jobs that `first_steps` did, as if a worker had leased them."""
    leased = [
        LeasedJob(
            id=job_id,
            environment_id=scope.environment_id,
            organization_id=scope.organization_id,
            kind=job.kind,
            args=job.args,
            attempts=1,
            max_attempts=job.max_attempts,
            transaction_id=job.transaction_id,
            notification_id=job.notification_id,
            lease_owner=INLINE_OWNER,
        )
        for job_id, job in zip(ids, jobs, strict=True)
    ]
    result = await first_steps(session, leased, runs)
    left = set(result.failed) | {job.id for job in result.deferred}
    return {job_id for job_id in ids if job_id not in left}


def fanout_job(
    event_id: str,
    transaction_id: str,
    *,
    topic_id: str | None,
    excluded: Sequence[str],
    chunk: int,
    after: str = "",
    until: str | None = None,
    then: str | None = None,
) -> NewJob:
    """Reach `topic_id`'s members (or, for None, every subscriber of the environment) after the
    cursor `after`, skipping the `excluded` subscriber row ids. Without `until`, the job splits
    what follows `after` into chunks of `chunk` members, each a job of its own (with `until`,
    its last member's cursor), so that the chunks of a large topic run at once, on as many
    workers as there are. The first chunk job of a split carries `then`, the cursor from which
    it splits the rest once it is done."""
    args = {"event": event_id, "topic": topic_id, "exclude": list(excluded), "chunk": chunk, "after": after}
    if until is not None:
        args["until"] = until
    if then is not None:
        args["then"] = then
    return NewJob(FANOUT_JOB, args, transaction_id=transaction_id)
