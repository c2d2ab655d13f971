"""The decisions of one step run that do not touch the database, shared by the single-job
runner and the batch runner: the step's context, its skip condition and preference check,
what a failure means, and what comes after an outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.engine.conditions import ConditionError, should_skip
from herald.engine.dispatch import step_job
from herald.engine.render import RenderContext, RenderError
from herald.engine.snapshot import CHANNEL_STEP_TYPES, EventSnapshot
from herald.engine.steps.base import ContinueAt, ContinueNow, StepContext, StepSnapshot
from herald.jobs.schemas import LeasedJob, NewJob
from herald.jobs.worker import PermanentJobError
from herald.kit.scope import EnvironmentScope
from herald.realtime.publisher import RealtimePublisher

SUBSCRIBER_GONE = "The subscriber no longer exists"


@dataclass(frozen=True, slots=True)
class Skip:
    """The step does not run; the notification's log says why."""

    detail: str
    reason: str


def subscriber_variables(subscriber: Any) -> dict[str, Any]:
    """The `subscriber` of the Liquid scope and of step conditions (from a `Subscriber` or a
    row with the same columns)."""
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


def job_scope(job: LeasedJob) -> EnvironmentScope:
    return EnvironmentScope(job.environment_id, job.organization_id)


def step_context(
    session: AsyncSession,
    job: LeasedJob,
    notification_id: str,
    snapshot: EventSnapshot,
    subscriber: Any,
    now: datetime,
    realtime: RealtimePublisher,
) -> StepContext:
    index: int = job.args["step"]
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
    return StepContext(
        session=session,
        scope=job_scope(job),
        job_id=job.id,
        notification_id=notification_id,
        event_id=snapshot.event_id,
        transaction_id=snapshot.transaction_id,
        subscriber_row_id=subscriber.id,
        subscriber=subscriber_vars,
        workflow=snapshot.workflow,
        step=snapshot.steps[index],
        step_index=index,
        payload=snapshot.payload,
        variables=variables,
        now=now,
        resume=job.args.get("resume"),
        realtime=realtime,
    )


def prior_outputs(job: LeasedJob) -> dict[str, Any]:
    return dict(job.args.get("steps") or {})


def condition_skip(ctx: StepContext) -> Skip | None:
    """The step's skip condition, on its first run (a resumed step already passed it)."""
    if ctx.resume is None and should_skip(ctx.step.control_values.get("skip"), ctx.variables, now=ctx.now):
        return Skip("Step skipped: its conditions are not met", "skip")
    return None


def needs_preferences(ctx: StepContext) -> bool:
    """Channel steps of non-critical workflows ask the subscriber's preferences first."""
    return ctx.resume is None and ctx.step.type in CHANNEL_STEP_TYPES and not ctx.workflow.critical


def preference_skip(ctx: StepContext) -> Skip:
    detail = f"Step skipped: the subscriber turned {ctx.step.type} off in their preferences"
    return Skip(detail, "preferences")


def permanent_error(step: StepSnapshot, error: ConditionError | RenderError) -> PermanentJobError:
    """Why a step can never run: its condition or its Liquid is broken."""
    where = f"step {step.step_id!r} ({step.type})"
    if isinstance(error, ConditionError):
        return PermanentJobError(f"{where}: the skip condition cannot be evaluated: {error}")
    return PermanentJobError(f"{where}: Liquid error in {error}")


def follow_up(
    ctx: StepContext, step_count: int, outcome: ContinueNow | ContinueAt, outputs: dict[str, Any]
) -> NewJob | None:
    """The job a continuing outcome asks for, or None once the notification is complete
    (after its last step)."""
    if outcome.outputs is not None:
        outputs = {**outputs, ctx.step.step_id: outcome.outputs}
    run_at = outcome.run_at if isinstance(outcome, ContinueAt) else None
    if isinstance(outcome, ContinueAt) and outcome.resume is not None:
        return step_job(
            ctx.event_id,
            ctx.transaction_id,
            ctx.notification_id,
            ctx.step_index,
            outputs,
            run_at=run_at,
            resume=outcome.resume,
        )
    following = ctx.step_index + 1
    if following >= step_count:
        return None
    return step_job(ctx.event_id, ctx.transaction_id, ctx.notification_id, following, outputs, run_at=run_at)


def detail_row(
    notification_id: str,
    job_id: str,
    step: StepSnapshot,
    status: str,
    detail: str,
    reason: str | None = None,
) -> dict[str, Any]:
    """A log line of the runner itself (skips, failures, halts)."""
    return {
        "notification_id": notification_id,
        "job_id": job_id,
        "step_id": step.step_id,
        "channel": step.type if step.type in CHANNEL_STEP_TYPES else None,
        "provider_id": None,
        "status": status,
        "detail": detail,
        "raw": {"reason": reason} if reason else None,
    }
