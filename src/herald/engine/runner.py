"""The job handlers of the delivery engine.

`engine.step` runs one step of one notification: it loads the event's workflow snapshot,
builds the `StepContext`, evaluates the step's skip condition and (for channel steps of
non-critical workflows) the subscriber's preferences, calls the step type's executor,
records what happened, and enqueues what comes next, all in the job's own transaction: a
run repeated after a crash repeats nothing that committed.

`engine.fanout` walks one chunk of a topic's members (or of the environment's subscribers,
for a broadcast) from a cursor, starts their runs, and enqueues itself for the next chunk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.engine.conditions import ConditionError, should_skip
from herald.engine.details import DetailStatus
from herald.engine.dispatch import FANOUT_JOB, STEP_JOB, EventRun, fanout_job, start_runs, step_job
from herald.engine.render import RenderContext, RenderError
from herald.engine.repository import (
    ExecutionDetailRepository,
    NotificationRepository,
    NotificationStatus,
    RecipientPageRepository,
    SubscriberPageRepository,
)
from herald.engine.snapshot import CHANNEL_STEP_TYPES, EventSnapshot, SnapshotCache, parse_event
from herald.engine.steps.base import (
    Absorbed,
    ContinueAt,
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
from herald.jobs.worker import Clock, JobHandler, PermanentJobError
from herald.kit.after_commit import after_commit
from herald.kit.scope import EnvironmentScope
from herald.kit.time import utc_now
from herald.models import Subscriber
from herald.preferences.service import channel_enabled
from herald.realtime.publisher import RealtimePublisher
from herald.subscribers.repository import SubscriberRepository


def subscriber_variables(subscriber: Subscriber) -> dict[str, Any]:
    """The `subscriber` of the Liquid scope and of step conditions."""
    return {
        "id": subscriber.id,
        "subscriberId": subscriber.subscriber_id,
        "firstName": subscriber.first_name,
        "lastName": subscriber.last_name,
        "email": subscriber.email,
        "phone": subscriber.phone,
        "avatar": subscriber.avatar,
        "locale": subscriber.locale,
        "timezone": subscriber.timezone,
        "data": subscriber.data or {},
        "channels": subscriber.channels or [],
        "isOnline": subscriber.is_online,
    }


def _scope(job: LeasedJob) -> EnvironmentScope:
    return EnvironmentScope(job.environment_id, job.organization_id)


class StepRunner:
    def __init__(
        self,
        executors: Mapping[str, StepExecutor],
        realtime: RealtimePublisher,
        wakeup: JobWakeUp | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.executors = executors
        self.realtime = realtime
        self.wakeup = wakeup
        self.clock = clock
        self.snapshots = SnapshotCache()

    def handlers(self) -> dict[str, JobHandler]:
        return {STEP_JOB: self.run_step_job, FANOUT_JOB: self.run_fanout_job}

    # --- one step of one notification -------------------------------------------------

    async def run_step_job(self, session: AsyncSession, job: LeasedJob) -> None:
        scope, now = _scope(job), self.clock()
        notifications = NotificationRepository(session, scope)
        state = await notifications.state(job.notification_id or "")
        if state is None or state.status != NotificationStatus.PENDING:
            return  # canceled, or settled by an earlier run
        snapshot = await self._snapshot(session, scope, job.args["event"])
        index: int = job.args["step"]
        step = snapshot.steps[index]
        subscriber = await SubscriberRepository(session, scope).get(state.subscriber_pk)
        if subscriber is None:
            _log_line(
                session, scope, state.id, job.id, step, DetailStatus.FAILED, "The subscriber no longer exists"
            )
            await notifications.settle(state.id, NotificationStatus.FAILED, now)
            return
        outputs: dict[str, Any] = dict(job.args.get("steps") or {})
        subscriber_vars = subscriber_variables(subscriber)
        variables = RenderContext(
            payload=snapshot.payload,
            subscriber=subscriber_vars,
            steps=outputs,
            actor=snapshot.actor,
            tenant=snapshot.tenant,
            context=snapshot.context,
        ).variables()
        ctx = StepContext(
            session=session,
            scope=scope,
            job_id=job.id,
            notification_id=state.id,
            event_id=snapshot.event_id,
            transaction_id=snapshot.transaction_id,
            subscriber_row_id=subscriber.id,
            subscriber=subscriber_vars,
            workflow=snapshot.workflow,
            step=step,
            step_index=index,
            payload=snapshot.payload,
            variables=variables,
            now=now,
            resume=job.args.get("resume"),
            realtime=self.realtime,
        )
        outcome = await self._decide(ctx, snapshot)
        await self._follow(ctx, snapshot, outcome, outputs)

    async def _decide(self, ctx: StepContext, snapshot: EventSnapshot) -> StepOutcome:
        step = ctx.step
        where = f"step {step.step_id!r} ({step.type})"
        try:
            if ctx.resume is None:
                if should_skip(step.control_values.get("skip"), ctx.variables, now=ctx.now):
                    self._record(
                        ctx, DetailStatus.SUCCESS, "Step skipped: its conditions are not met", "skip"
                    )
                    return ContinueNow()
                if (
                    step.type in CHANNEL_STEP_TYPES
                    and not ctx.workflow.critical
                    and not await channel_enabled(
                        ctx.session,
                        ctx.scope,
                        ctx.subscriber_row_id,
                        ctx.workflow.identifier,
                        step.type,
                        snapshot.channel_defaults,
                    )
                ):
                    self._record(
                        ctx,
                        DetailStatus.SUCCESS,
                        f"Step skipped: the subscriber turned {step.type} off in their preferences",
                        "preferences",
                    )
                    return ContinueNow()
            executor = self.executors.get(step.type)
            if executor is None:
                raise PermanentJobError(f"{where}: no executor for step type {step.type!r}")
            return await executor(ctx)
        except ConditionError as error:
            raise PermanentJobError(f"{where}: the skip condition cannot be evaluated: {error}") from None
        except RenderError as error:
            raise PermanentJobError(f"{where}: Liquid error in {error}") from None

    async def _follow(
        self, ctx: StepContext, snapshot: EventSnapshot, outcome: StepOutcome, outputs: dict[str, Any]
    ) -> None:
        """Enqueue what the outcome asks for, or settle the notification after its last step."""
        if isinstance(outcome, Absorbed | Halt):
            self._record(ctx, DetailStatus.SUCCESS, outcome.detail, type(outcome).__name__.lower())
            await NotificationRepository(ctx.session, ctx.scope).settle(
                ctx.notification_id, NotificationStatus.COMPLETED, ctx.now
            )
            return
        if outcome.outputs is not None:
            outputs = {**outputs, ctx.step.step_id: outcome.outputs}
        run_at = outcome.run_at if isinstance(outcome, ContinueAt) else None
        if isinstance(outcome, ContinueAt) and outcome.resume is not None:
            await self._enqueue(
                ctx,
                step_job(
                    ctx.event_id,
                    ctx.transaction_id,
                    ctx.notification_id,
                    ctx.step_index,
                    outputs,
                    run_at=run_at,
                    resume=outcome.resume,
                ),
            )
            return
        following = ctx.step_index + 1
        if following >= len(snapshot.steps):
            await NotificationRepository(ctx.session, ctx.scope).settle(
                ctx.notification_id, NotificationStatus.COMPLETED, ctx.now
            )
            return
        await self._enqueue(
            ctx,
            step_job(
                ctx.event_id, ctx.transaction_id, ctx.notification_id, following, outputs, run_at=run_at
            ),
        )

    async def _enqueue(self, ctx: StepContext, job: NewJob) -> None:
        await JobRepository(ctx.session, ctx.scope).enqueue([job], ctx.now)
        if job.run_at is None or job.run_at <= ctx.now:
            self._wake_after_commit(ctx.session)

    # --- fan-out ----------------------------------------------------------------------

    async def run_fanout_job(self, session: AsyncSession, job: LeasedJob) -> None:
        """One chunk of recipients: their notifications and first jobs, and the next chunk's job."""
        scope, now, args = _scope(job), self.clock(), job.args
        events = EventRepository(session, scope)
        row = await events.snapshot_row(args["event"])
        if row is None or row.status == EventStatus.CANCELED:
            return
        chunk: int = args["chunk"]
        if args.get("topic"):
            members, cursor = await RecipientPageRepository(session, scope).topic_members_after(
                args["topic"], args["after"], chunk
            )
        else:
            members, cursor = await SubscriberPageRepository(session, scope).subscribers_after(
                args["after"], chunk
            )
        excluded = set(args.get("exclude") or ())
        run = EventRun(
            event_id=row.id,
            transaction_id=row.transaction_id,
            workflow=row.workflow,
            payload=row.payload,
            overrides=row.overrides or {},
            actor=row.actor,
            tenant=row.tenant,
        )
        await start_runs(session, scope, [(run, [pk for pk in members if pk not in excluded])], now)
        if cursor is not None:
            await JobRepository(session, scope).enqueue(
                [
                    fanout_job(
                        row.id,
                        row.transaction_id,
                        topic_id=args.get("topic"),
                        excluded=list(excluded),
                        chunk=chunk,
                        after=cursor,
                    )
                ],
                now,
            )
        self._wake_after_commit(session)

    # --- failures -----------------------------------------------------------------------

    async def record_failure(self, session: AsyncSession, job: LeasedJob, reason: str) -> None:
        """A step job that ended failed: say why in the notification's log and fail it."""
        if job.kind != STEP_JOB or not job.notification_id:
            return
        scope = _scope(job)
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
        wakeup = self.wakeup
        if wakeup is None:
            return

        async def wake() -> None:
            wakeup.notify()

        after_commit(session, wake)


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
        notification_id=notification_id,
        job_id=job_id,
        step_id=step.step_id,
        channel=step.type if step.type in CHANNEL_STEP_TYPES else None,
        status=status,
        detail=detail,
        raw={"reason": reason} if reason else None,
    )
