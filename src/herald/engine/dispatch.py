"""Starting runs: a notification and the first step job per recipient, and the fan-out jobs
that walk a topic (or the whole environment) a chunk at a time.

Everything here runs inside the caller's transaction (the trigger request, or a fan-out job),
so a run exists completely or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.engine.repository import NotificationRepository, NotificationStatus
from herald.engine.snapshot import step_channels
from herald.jobs.repository import JobRepository
from herald.jobs.schemas import NewJob
from herald.kit.scope import EnvironmentScope

STEP_JOB = "engine.step"
FANOUT_JOB = "engine.fanout"
DEFAULT_FANOUT_CHUNK = 1_000


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


async def start_runs(
    session: AsyncSession,
    scope: EnvironmentScope,
    runs: Sequence[tuple[EventRun, Sequence[str]]],
    now: datetime,
) -> int:
    """For each event, a notification and its first step job for each of its subscribers
    (internal ids) that has none for that event yet; returns how many runs were started."""
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
    if started:
        await JobRepository(session, scope).enqueue(
            [
                step_job(event_id, by_event[event_id].transaction_id, notification_id, 0)
                for notification_id, event_id in started
            ],
            now,
        )
    return len(started)


def fanout_job(
    event_id: str,
    transaction_id: str,
    *,
    topic_id: str | None,
    excluded: Sequence[str],
    chunk: int,
    after: str = "",
) -> NewJob:
    """Walk `topic_id`'s members (or, for None, every subscriber of the environment) from
    the cursor `after`, skipping the `excluded` subscriber row ids."""
    return NewJob(
        FANOUT_JOB,
        {"event": event_id, "topic": topic_id, "exclude": list(excluded), "chunk": chunk, "after": after},
        transaction_id=transaction_id,
    )
