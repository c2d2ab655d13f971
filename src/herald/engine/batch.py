"""Step jobs in batches: many in-app steps in one transaction, with one query per kind of
read and one statement per kind of write.

For the leased step jobs of one environment the batch reads the notifications' states, the
events' snapshots (cached), the subscribers and their preference switches with one IN-query
each. Each job is then decided on its own, in memory (skip condition, preferences, Liquid
rendering of the in-app message); a job that fails there (a broken template, say) is left
out of every write and reported to the worker, which retries or fails it alone. The writes of
the jobs that succeeded follow together: the messages (`job_id` unique: a message stored
before is not stored twice), the log lines, the next jobs, the settled notifications.

Only in-app steps run here; a job of any other step type (delay, digest, throttle, custom,
the provider channels) is handed back to the worker and runs in its own transaction, as it
may call out to a provider or take locks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.engine.conditions import ConditionError
from herald.engine.details import DetailStatus
from herald.engine.dispatch import EventRun, StartedRuns
from herald.engine.flow import (
    SUBSCRIBER_GONE,
    condition_skip,
    detail_row,
    follow_up,
    job_scope,
    needs_preferences,
    permanent_error,
    preference_skip,
    prior_outputs,
    step_context,
)
from herald.engine.render import RenderError
from herald.engine.repository import (
    ExecutionDetailRepository,
    MessageRepository,
    NotificationRepository,
    NotificationState,
    NotificationStatus,
    PreferenceSwitchRepository,
    RecipientRepository,
)
from herald.engine.snapshot import EventSnapshot, SnapshotCache, WorkflowTextCache, event_snapshot
from herald.engine.steps.base import ContinueNow, StepContext, StepExecutor
from herald.engine.steps.in_app import IN_APP_PROVIDER, IN_APP_SENT, in_app_message, run_in_app_step
from herald.events.repository import EventRepository
from herald.jobs.repository import JobRepository
from herald.jobs.schemas import BatchResult, LeasedJob, NewJob
from herald.jobs.wakeup import JobWakeUp
from herald.jobs.worker import Clock, PermanentJobError
from herald.kit.after_commit import after_commit
from herald.kit.ids import new_ids
from herald.kit.scope import EnvironmentScope
from herald.models import GLOBAL_PREFERENCE
from herald.preferences.service import channel_switch
from herald.realtime.publisher import RealtimePublisher

Switches = Mapping[tuple[str, str], dict[str, bool]]


@dataclass
class _Planned:
    """One job decided in memory: its context, and its message unless the step was skipped."""

    job: LeasedJob
    ctx: StepContext
    snapshot: EventSnapshot
    message: dict[str, Any] | None


@dataclass
class _Writes:
    details: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[NewJob] = field(default_factory=list)
    settles: dict[str, list[str]] = field(default_factory=dict)
    announcements: list[tuple[str, str]] = field(default_factory=list)
    """(subscriber row id, message id) of each stored in-app message."""

    def settle(self, notification_id: str, status: str) -> None:
        self.settles.setdefault(status, []).append(notification_id)


class StepBatchRunner:
    def __init__(
        self,
        executors: Mapping[str, StepExecutor],
        realtime: RealtimePublisher,
        snapshots: SnapshotCache,
        wakeup: JobWakeUp | None,
        clock: Clock,
    ) -> None:
        self.executors = executors
        self.realtime = realtime
        self.snapshots = snapshots
        self.workflows = WorkflowTextCache()
        self.wakeup = wakeup
        self.clock = clock

    async def run(
        self, session: AsyncSession, jobs: list[LeasedJob], started: StartedRuns | None = None
    ) -> BatchResult:
        """Run the batchable `jobs`; `started`: what the transaction that just started their runs
        knows (they are run at once), instead of reading it back."""
        result = BatchResult()
        by_environment: dict[str, list[LeasedJob]] = {}
        for job in jobs:
            by_environment.setdefault(job.environment_id, []).append(job)
        for group in by_environment.values():
            await self._run_environment(session, job_scope(group[0]), group, result, started)
        return result

    async def _run_environment(
        self,
        session: AsyncSession,
        scope: EnvironmentScope,
        jobs: list[LeasedJob],
        result: BatchResult,
        started: StartedRuns | None,
    ) -> None:
        now = self.clock()
        if started is not None:
            states = started.states
        else:
            states = await NotificationRepository(session, scope).states(
                [job.notification_id for job in jobs if job.notification_id]
            )
        live = [
            (job, state)
            for job in jobs
            if (state := states.get(job.notification_id or "")) is not None
            and state.status == NotificationStatus.PENDING
        ]  # the others were canceled or settled by an earlier run: nothing to do
        event_ids = {job.args["event"] for job, _ in live}
        if started is not None:
            snapshots = {event_id: self._started_snapshot(started.events[event_id]) for event_id in event_ids}
        else:
            snapshots = await self._snapshots(session, scope, event_ids)
        runnable: list[tuple[LeasedJob, NotificationState, EventSnapshot]] = []
        for job, state in live:
            snapshot = snapshots.get(job.args["event"])
            if snapshot is None:
                result.failed[job.id] = PermanentJobError(f"Event {job.args['event']} no longer exists")
            elif self._batchable(job, snapshot):
                runnable.append((job, state, snapshot))
            else:
                result.deferred.append(job)
        if not runnable:
            return
        pks = list({state.subscriber_pk for _, state, _ in runnable})
        subscribers = await RecipientRepository(session, scope).subscribers(pks)
        identifiers = list({snapshot.workflow.identifier for _, _, snapshot in runnable})
        switches = await PreferenceSwitchRepository(session, scope).switches(pks, identifiers)
        writes = _Writes()
        planned: list[_Planned] = []
        message_ids = new_ids(len(runnable))
        for (job, state, snapshot), message_id in zip(runnable, message_ids, strict=True):
            step = snapshot.steps[job.args["step"]]
            subscriber = subscribers.get(state.subscriber_pk)
            if subscriber is None:
                line = detail_row(state.id, job.id, step, DetailStatus.FAILED, SUBSCRIBER_GONE)
                writes.details.append(line)
                writes.settle(state.id, NotificationStatus.FAILED)
                continue
            try:
                ctx = step_context(session, job, state.id, snapshot, subscriber, now, self.realtime)
                planned.append(self._plan(job, ctx, snapshot, switches, writes, message_id))
            except (ConditionError, RenderError) as error:
                result.failed[job.id] = permanent_error(step, error)
            except Exception as error:
                result.failed[job.id] = error
        await self._write(session, scope, planned, writes, now)

    def _batchable(self, job: LeasedJob, snapshot: EventSnapshot) -> bool:
        step = snapshot.steps[job.args["step"]]
        return (
            step.type == "in_app"
            and self.executors.get("in_app") is run_in_app_step
            and job.args.get("resume") is None
        )

    def _plan(
        self,
        job: LeasedJob,
        ctx: StepContext,
        snapshot: EventSnapshot,
        switches: Switches,
        writes: _Writes,
        message_id: str,
    ) -> _Planned:
        skip = condition_skip(ctx)
        if skip is None and needs_preferences(ctx):
            pk = ctx.subscriber_row_id
            enabled = channel_switch(
                switches.get((pk, GLOBAL_PREFERENCE), {}),
                switches.get((pk, ctx.workflow.identifier), {}),
                snapshot.channel_defaults,
                ctx.step.type,
            )
            skip = None if enabled else preference_skip(ctx)
        if skip is not None:
            status = DetailStatus.SUCCESS
            writes.details.append(
                detail_row(ctx.notification_id, job.id, ctx.step, status, skip.detail, skip.reason)
            )
            return _Planned(job, ctx, snapshot, None)
        return _Planned(job, ctx, snapshot, {"id": message_id, **in_app_message(ctx)})

    async def _write(
        self,
        session: AsyncSession,
        scope: EnvironmentScope,
        planned: Sequence[_Planned],
        writes: _Writes,
        now: datetime,
    ) -> None:
        messages = [item.message for item in planned if item.message is not None]
        stored = await MessageRepository(session, scope).insert_many_once(messages, now)
        for item in planned:
            outcome = ContinueNow()
            if item.message is not None and item.job.id in stored:
                message_id: str = item.message["id"]
                writes.details.append(
                    {
                        "notification_id": item.ctx.notification_id,
                        "job_id": item.job.id,
                        "step_id": item.ctx.step.step_id,
                        "channel": "in_app",
                        "provider_id": IN_APP_PROVIDER,
                        "status": DetailStatus.SUCCESS,
                        "detail": IN_APP_SENT,
                        "raw": {"messageId": message_id},
                    }
                )
                writes.announcements.append((item.ctx.subscriber_row_id, message_id))
                outcome = ContinueNow(outputs={"messageId": message_id})
            following = follow_up(item.ctx, len(item.snapshot.steps), outcome, prior_outputs(item.job))
            if following is None:
                writes.settle(item.ctx.notification_id, NotificationStatus.COMPLETED)
            else:
                writes.jobs.append(following)
        await ExecutionDetailRepository(session, scope).insert_many(writes.details, now)
        await JobRepository(session, scope).enqueue(writes.jobs, now)
        notifications = NotificationRepository(session, scope)
        for status, ids in writes.settles.items():
            await notifications.settle_many(ids, status, now)
        self._after_commit(session, scope, writes, now)

    def _after_commit(
        self, session: AsyncSession, scope: EnvironmentScope, writes: _Writes, now: datetime
    ) -> None:
        realtime, wakeup, environment_id = self.realtime, self.wakeup, scope.environment_id
        announcements = writes.announcements
        wake = wakeup is not None and any(job.run_at is None or job.run_at <= now for job in writes.jobs)

        async def announce() -> None:
            if wake and wakeup is not None:
                wakeup.notify()
            for subscriber_pk, message_id in announcements:
                await realtime.message_delivered(environment_id, subscriber_pk, message_id)

        if announcements or wake:
            after_commit(session, announce)

    def _started_snapshot(self, run: EventRun) -> EventSnapshot:
        return event_snapshot(
            run.event_id,
            run.transaction_id,
            self.workflows.parsed_object(run.workflow),
            run.payload,
            run.actor,
            run.tenant,
            run.context,
        )

    async def _snapshots(
        self, session: AsyncSession, scope: EnvironmentScope, event_ids: set[str]
    ) -> dict[str, EventSnapshot]:
        found: dict[str, EventSnapshot] = {}
        missing: list[str] = []
        for event_id in event_ids:
            cached = self.snapshots.get(event_id)
            if cached is None:
                missing.append(event_id)
            else:
                found[event_id] = cached
        if missing:
            for row in await EventRepository(session, scope).rows(missing):
                parsed = self.workflows.parsed(row.workflow)
                snapshot = event_snapshot(
                    row.id, row.transaction_id, parsed, row.payload, row.actor, row.tenant, row.context
                )
                self.snapshots.put(snapshot)
                found[row.id] = snapshot
        return found
