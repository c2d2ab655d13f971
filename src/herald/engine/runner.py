"""The job handlers of the delivery engine.

`engine.step` runs one step of one notification: it loads the event's workflow snapshot,
builds the `StepContext`, evaluates the step's skip condition and (for channel steps of
non-critical workflows) the subscriber's preferences, calls the step type's executor,
records what happened, and enqueues what comes next, all in the job's own transaction: a
run repeated after a crash repeats nothing that committed.

`engine.fanout` reaches a topic's members (or the environment's subscribers, for a
broadcast): one job splits what follows its cursor into chunk jobs, enqueued together so that
workers run them at once, and leaves the rest to a job like itself; a chunk job starts the runs
of its members.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.engine.batch import StepBatchRunner
from herald.engine.conditions import ConditionError
from herald.engine.details import DetailStatus
from herald.engine.dispatch import (
    FANOUT_CHUNKS_PER_SPLIT,
    FANOUT_JOB,
    STEP_JOB,
    EventRun,
    fanout_job,
    start_runs,
)
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
    NotificationRepository,
    NotificationStatus,
    fanout_pages,
)
from herald.engine.snapshot import EventSnapshot, SnapshotCache, parse_event
from herald.engine.steps.base import (
    Absorbed,
    ContinueNow,
    Halt,
    StepContext,
    StepExecutor,
    StepOutcome,
    StepSnapshot,
)
from herald.events.repository import EventRepository, EventStatus
from herald.jobs.repository import JobRepository
from herald.jobs.schemas import LeasedJob, NewJob
from herald.jobs.wakeup import JobWakeUp
from herald.jobs.worker import BatchHandler, Clock, JobHandler, PermanentJobError
from herald.kit.scope import EnvironmentScope
from herald.kit.time import utc_now
from herald.preferences.service import channel_enabled
from herald.realtime.publisher import RealtimePublisher
from herald.subscribers.repository import SubscriberRepository


class StepRunner:
    def __init__(
        self,
        executors: Mapping[str, StepExecutor],
        realtime: RealtimePublisher,
        wakeup: JobWakeUp | None = None,
        clock: Clock = utc_now,
        *,
        first_in_app_at_once: bool = True,
    ) -> None:
        self.executors = executors
        self.realtime = realtime
        self.wakeup = wakeup
        self.clock = clock
        self.snapshots = SnapshotCache()
        self.batch = StepBatchRunner(executors, realtime, self.snapshots, wakeup, clock)
        self.first_steps = self.batch.run if first_in_app_at_once else None

    def handlers(self) -> dict[str, JobHandler]:
        return {STEP_JOB: self.run_step_job, FANOUT_JOB: self.run_fanout_job}

    def batch_handlers(self) -> dict[str, BatchHandler]:
        return {STEP_JOB: self.batch.run}

    # --- one step of one notification -------------------------------------------------

    async def run_step_job(self, session: AsyncSession, job: LeasedJob) -> None:
        scope, now = job_scope(job), self.clock()
        notifications = NotificationRepository(session, scope)
        state = await notifications.state(job.notification_id or "")
        if state is None or state.status != NotificationStatus.PENDING:
            return  # canceled, or settled by an earlier run
        snapshot = await self._snapshot(session, scope, job.args["event"])
        subscriber = await SubscriberRepository(session, scope).get(state.subscriber_pk)
        if subscriber is None:
            step = snapshot.steps[job.args["step"]]
            _log_line(session, scope, state.id, job.id, step, DetailStatus.FAILED, SUBSCRIBER_GONE)
            await notifications.settle(state.id, NotificationStatus.FAILED, now)
            return
        ctx = step_context(session, job, state.id, snapshot, subscriber, now, self.realtime)
        outcome = await self._decide(ctx, snapshot)
        await self._follow(ctx, snapshot, outcome, prior_outputs(job))

    async def _decide(self, ctx: StepContext, snapshot: EventSnapshot) -> StepOutcome:
        step = ctx.step
        try:
            skip = condition_skip(ctx)
            if skip is None and needs_preferences(ctx):
                enabled = await channel_enabled(
                    ctx.session,
                    ctx.scope,
                    ctx.subscriber_row_id,
                    ctx.workflow.identifier,
                    step.type,
                    snapshot.channel_defaults,
                )
                skip = None if enabled else preference_skip(ctx)
            if skip is not None:
                self._record(ctx, DetailStatus.SUCCESS, skip.detail, skip.reason)
                return ContinueNow()
            executor = self.executors.get(step.type)
            if executor is None:
                raise PermanentJobError(
                    f"step {step.step_id!r} ({step.type}): no executor for step type {step.type!r}"
                )
            return await executor(ctx)
        except (ConditionError, RenderError) as error:
            raise permanent_error(step, error) from None

    async def _follow(
        self, ctx: StepContext, snapshot: EventSnapshot, outcome: StepOutcome, outputs: dict[str, Any]
    ) -> None:
        """Enqueue what the outcome asks for, or settle the notification after its last step."""
        notifications = NotificationRepository(ctx.session, ctx.scope)
        if isinstance(outcome, Absorbed | Halt):
            self._record(ctx, DetailStatus.SUCCESS, outcome.detail, type(outcome).__name__.lower())
            await notifications.settle(ctx.notification_id, NotificationStatus.COMPLETED, ctx.now)
            return
        following = follow_up(ctx, len(snapshot.steps), outcome, outputs)
        if following is None:
            await notifications.settle(ctx.notification_id, NotificationStatus.COMPLETED, ctx.now)
            return
        await JobRepository(ctx.session, ctx.scope).enqueue([following], ctx.now)
        if following.run_at is None or following.run_at <= ctx.now:
            self._wake_after_commit(ctx.session)

    # --- fan-out ----------------------------------------------------------------------

    async def run_fanout_job(self, session: AsyncSession, job: LeasedJob) -> None:
        """One chunk of recipients (their notifications and first jobs), or the split of what
        follows a cursor into chunk jobs (see `fanout_job`)."""
        scope, now, args = job_scope(job), self.clock(), job.args
        row = await EventRepository(session, scope).snapshot_row(args["event"])
        if row is None or row.status == EventStatus.CANCELED:
            return
        if args.get("until") is None:
            await self._split_fanout(session, scope, row.id, row.transaction_id, args, now)
            return
        pages = fanout_pages(session, scope, args.get("topic"))
        members = await pages.members_between(args["after"], args["until"])
        run = EventRun(
            event_id=row.id,
            transaction_id=row.transaction_id,
            workflow=row.workflow,
            payload=row.payload,
            overrides=row.overrides or {},
            actor=row.actor,
            tenant=row.tenant,
            context=row.context,
        )
        excluded = set(args.get("exclude") or ())
        recipients = [pk for pk in members if pk not in excluded]
        await start_runs(session, scope, [(run, recipients)], now, self.first_steps)
        if args.get("then") is not None:
            next_split = _fanout_like(args, row.id, row.transaction_id, after=args["then"])
            await JobRepository(session, scope).enqueue([next_split], now)
        self._wake_after_commit(session)

    async def _split_fanout(
        self,
        session: AsyncSession,
        scope: EnvironmentScope,
        event_id: str,
        transaction_id: str,
        args: Mapping[str, Any],
        now: datetime,
    ) -> None:
        """Up to FANOUT_CHUNKS_PER_SPLIT chunk jobs from the cursor on. If members remain, the
        first chunk job splits them once it is done (`then`): the next chunks are ready before
        this split's run out, and a large topic never has much more than two splits' chunk jobs
        waiting, so the jobs of other triggers are not queued behind all of its chunks."""
        chunk: int = args["chunk"]
        after: str = args["after"]
        limit = chunk * FANOUT_CHUNKS_PER_SPLIT
        cursors = await fanout_pages(session, scope, args.get("topic")).cursors_after(after, limit)
        if not cursors:
            return
        ends = cursors[chunk - 1 :: chunk]  # each chunk's last cursor
        if not ends or ends[-1] != cursors[-1]:
            ends.append(cursors[-1])
        jobs = [
            _fanout_like(
                args,
                event_id,
                transaction_id,
                after=start,
                until=until,
                then=cursors[-1] if index == 0 and len(cursors) == limit else None,
            )
            for index, (start, until) in enumerate(zip([after, *ends], ends, strict=False))
        ]
        await JobRepository(session, scope).enqueue(jobs, now)
        self._wake_after_commit(session)

    # --- failures -----------------------------------------------------------------------

    async def record_failure(self, session: AsyncSession, job: LeasedJob, reason: str) -> None:
        """A step job that ended failed: say why in the notification's log and fail it."""
        if job.kind != STEP_JOB or not job.notification_id:
            return
        scope = job_scope(job)
        snapshot = await self._snapshot(session, scope, job.args["event"])
        step = snapshot.steps[job.args["step"]]
        _log_line(
            session, scope, job.notification_id, job.id, step, DetailStatus.FAILED, reason, "job_failed"
        )
        await NotificationRepository(session, scope).settle(
            job.notification_id, NotificationStatus.FAILED, self.clock()
        )

    # --- helpers ------------------------------------------------------------------------

    async def _snapshot(self, session: AsyncSession, scope: EnvironmentScope, event_id: str) -> EventSnapshot:
        cached = self.snapshots.get(event_id)
        if cached is not None:
            return cached
        row = await EventRepository(session, scope).snapshot_row(event_id)
        if row is None:
            raise PermanentJobError(f"Event {event_id} no longer exists")
        snapshot = parse_event(
            row.id, row.transaction_id, row.workflow, row.payload, row.actor, row.tenant, row.context
        )
        self.snapshots.put(snapshot)
        return snapshot

    def _record(self, ctx: StepContext, status: str, detail: str, reason: str) -> None:
        _log_line(ctx.session, ctx.scope, ctx.notification_id, ctx.job_id, ctx.step, status, detail, reason)

    def _wake_after_commit(self, session: AsyncSession) -> None:
        if self.wakeup is not None:
            self.wakeup.notify_after_commit(session)


def _fanout_like(
    args: Mapping[str, Any],
    event_id: str,
    transaction_id: str,
    *,
    after: str,
    until: str | None = None,
    then: str | None = None,
) -> NewJob:
    """A fan-out job for the same topic, exclusions and chunk size as the job of `args`."""
    return fanout_job(
        event_id,
        transaction_id,
        topic_id=args.get("topic"),
        excluded=list(args.get("exclude") or ()),
        chunk=args["chunk"],
        after=after,
        until=until,
        then=then,
    )


def _log_line(
    session: AsyncSession,
    scope: EnvironmentScope,
    notification_id: str,
    job_id: str,
    step: StepSnapshot,
    status: str,
    detail: str,
    reason: str | None = None,
) -> None:
    ExecutionDetailRepository(session, scope).record(
        **detail_row(notification_id, job_id, step, status, detail, reason)
    )
