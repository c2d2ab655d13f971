"""The activity feed: what each trigger did for each subscriber, step by step.

Reads what the engine writes (notifications, their step jobs, execution details) and shapes it
as Novu's activity DTOs. The SDKs parse closed enumerations, so every stored value is mapped
onto one they know (unknown provider ids, step types and statuses never reach the wire).

A job names its step in its `args`: a `step` snapshot (`id`, `stepId`/`step_id`, `name`,
`type`), or a `stepId`/`step_id`, or a `stepIndex`/`step_index` into the workflow's steps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from typing import Any, get_args

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from herald.activity.providers import KNOWN_PROVIDER_IDS
from herald.activity.repository import (
    ActivityJobRepository,
    ActivityStepRepository,
    ActivitySubscriberRepository,
    ExecutionDetailRepository,
    NotificationFilter,
    NotificationRepository,
)
from herald.activity.schemas import (
    ActivitiesResponseDto,
    ActivityNotificationExecutionDetailResponseDto,
    ActivityNotificationJobResponseDto,
    ActivityNotificationResponseDto,
    ActivityNotificationStepResponseDto,
    ActivityNotificationSubscriberResponseDto,
    ActivityNotificationTemplateResponseDto,
    NotificationTriggerDto,
    StepType,
)
from herald.errors import NotFoundError
from herald.kit.scope import EnvironmentScope
from herald.kit.time import iso
from herald.models import ExecutionDetail, Job, Notification, Subscriber, WorkflowStep

STEP_TYPES: frozenset[str] = frozenset(get_args(StepType))
SEVERITIES = frozenset({"high", "medium", "low", "none"})
_DETAIL_STATUSES = {
    "success": "Success",
    "completed": "Success",
    "warning": "Warning",
    "failed": "Failed",
    "error": "Failed",
    "pending": "Pending",
    "queued": "Queued",
    "readconfirmation": "ReadConfirmation",
}
_DEFAULT_PROVIDERS = {"email": "novu-email", "sms": "novu-sms"}
HERALD_PROVIDER_ID = "novu"
"""Shown for steps no provider ran (delay, digest, ...) and for providers the clients don't know."""


async def list_notifications(
    session: AsyncSession,
    scope: EnvironmentScope,
    where: NotificationFilter,
    page: int,
    limit: int,
    *,
    subscriber_ids: Collection[str] = (),
    emails: Collection[str] = (),
) -> ActivitiesResponseDto:
    """One page, newest first; `subscriber_ids` and `emails` select subscribers first, so the
    notifications are then read through their (environment, subscriber) index."""
    if subscriber_ids or emails:
        row_ids = await ActivitySubscriberRepository(session, scope).row_ids(subscriber_ids, emails)
        where = replace(where, subscriber_row_ids=row_ids)
    rows = await NotificationRepository(session, scope).page(where, page * limit, limit + 1)
    return ActivitiesResponseDto(
        has_more=len(rows) > limit,
        data=await _responses(session, scope, rows[:limit]),
        page_size=limit,
        page=page,
    )


async def get_notification(
    session: AsyncSession, scope: EnvironmentScope, notification_id: str
) -> ActivityNotificationResponseDto:
    row = await NotificationRepository(session, scope).with_subscriber(notification_id)
    if row is None:
        raise NotFoundError(f"Notification with id {notification_id} not found")
    return (await _responses(session, scope, [row]))[0]


async def _responses(
    session: AsyncSession, scope: EnvironmentScope, rows: Sequence[tuple[Notification, Subscriber]]
) -> list[ActivityNotificationResponseDto]:
    if not rows:
        return []
    ids = [notification.id for notification, _ in rows]
    workflow_ids = {notification.workflow_id for notification, _ in rows if notification.workflow_id}
    jobs: dict[str, list[Job]] = defaultdict(list)
    for job in await ActivityJobRepository(session, scope).for_notifications(ids):
        jobs[job.notification_id or ""].append(job)
    details: dict[str, list[ExecutionDetail]] = defaultdict(list)
    for detail in await ExecutionDetailRepository(session, scope).for_notifications(ids):
        details[detail.notification_id].append(detail)
    steps: dict[str, list[WorkflowStep]] = defaultdict(list)
    if workflow_ids:
        for step in await ActivityStepRepository(session, scope).for_workflows(workflow_ids):
            steps[step.workflow_id].append(step)
        for workflow_steps in steps.values():
            workflow_steps.sort(key=lambda step: step.position)
    return [
        _notification(
            notification,
            subscriber,
            jobs[notification.id],
            details[notification.id],
            steps.get(notification.workflow_id or "", []),
        )
        for notification, subscriber in rows
    ]


def _notification(
    notification: Notification,
    subscriber: Subscriber,
    jobs: list[Job],
    details: list[ExecutionDetail],
    steps: list[WorkflowStep],
) -> ActivityNotificationResponseDto:
    job_ids = {job.id for job in jobs}
    details_by_job: dict[str | None, list[ExecutionDetail]] = defaultdict(list)
    for detail in details:
        details_by_job[detail.job_id if detail.job_id in job_ids else None].append(detail)
    job_responses = [_job(job, details_by_job[job.id], steps) for job in jobs]
    if details_by_job[None]:
        job_responses.insert(0, _trigger_job(notification, details_by_job[None]))
    return ActivityNotificationResponseDto(
        id=notification.id,
        environment_id=notification.environment_id,
        organization_id=notification.organization_id,
        subscriber_id=subscriber.id,
        template_id=notification.workflow_id,
        transaction_id=notification.transaction_id,
        created_at=iso(notification.created_at),
        updated_at=iso(notification.updated_at),
        channels=[channel for channel in notification.channels or [] if channel in STEP_TYPES],
        subscriber=ActivityNotificationSubscriberResponseDto(
            id=subscriber.id,
            subscriber_id=subscriber.subscriber_id,
            first_name=subscriber.first_name,
            last_name=subscriber.last_name,
            email=subscriber.email,
            phone=subscriber.phone,
        ),
        template=ActivityNotificationTemplateResponseDto(
            id=notification.workflow_id,
            name=notification.workflow_name,
            triggers=[NotificationTriggerDto(identifier=notification.workflow_identifier)],
        ),
        jobs=job_responses,
        payload=notification.payload or {},
        tags=notification.tags or [],
        to=notification.recipient,
        severity=notification.severity if notification.severity in SEVERITIES else "none",
        critical=bool(notification.critical),
        status=notification.status,
    )


def _job(
    job: Job, details: list[ExecutionDetail], steps: list[WorkflowStep]
) -> ActivityNotificationJobResponseDto:
    step = _job_step(job.args or {}, steps)
    step_type = step.get("type")
    job_type = step_type if isinstance(step_type, str) and step_type in STEP_TYPES else "trigger"
    return ActivityNotificationJobResponseDto(
        id=job.id,
        type=job_type,
        execution_details=[_detail(detail) for detail in details],
        step=ActivityNotificationStepResponseDto(
            id=str(step.get("id") or job.id),
            active=True,
            template_id=str(step.get("id") or job.id),
            name=_text(step.get("name")),
            step_id=_text(step.get("step_id")),
        ),
        provider_id=_provider(job_type, details),
        status=job.status,
        updated_at=iso(job.updated_at),
        last_error=job.last_error,
    )


def _trigger_job(
    notification: Notification, details: list[ExecutionDetail]
) -> ActivityNotificationJobResponseDto:
    """Execution details not tied to one of the notification's jobs (the trigger itself)."""
    return ActivityNotificationJobResponseDto(
        id=notification.id,
        type="trigger",
        execution_details=[_detail(detail) for detail in details],
        step=ActivityNotificationStepResponseDto(
            id=notification.id, active=True, template_id=notification.id, name="Trigger"
        ),
        provider_id=HERALD_PROVIDER_ID,
        status=notification.status,
        updated_at=iso(max(detail.created_at for detail in details)),
    )


def _job_step(args: Mapping[str, Any], steps: list[WorkflowStep]) -> dict[str, Any]:
    """What the job says about its step, completed from the workflow's step when it is found."""
    snapshot = args.get("step")
    snapshot = snapshot if isinstance(snapshot, Mapping) else {}
    step_id = _first(snapshot, "step_id", "stepId") or _first(args, "step_id", "stepId")
    index = _first(args, "step_index", "stepIndex")
    row: WorkflowStep | None = None
    if step_id is not None:
        row = next((step for step in steps if step.step_id == step_id), None)
    elif isinstance(index, int) and 0 <= index < len(steps):
        row = steps[index]
    return {
        "id": _first(snapshot, "id", "_id") or (row.id if row else None),
        "step_id": step_id or (row.step_id if row else None),
        "name": _first(snapshot, "name") or (row.name if row else None),
        "type": _first(snapshot, "type") or (row.type if row else None),
    }


def _first(values: Mapping[str, Any], *keys: str) -> Any:
    for key in keys:
        value = values.get(key)
        if value is not None:
            return value
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _provider(job_type: str, details: list[ExecutionDetail]) -> str:
    for detail in details:
        if detail.provider_id in KNOWN_PROVIDER_IDS:
            return detail.provider_id
    return _DEFAULT_PROVIDERS.get(job_type, HERALD_PROVIDER_ID)


def _detail(detail: ExecutionDetail) -> ActivityNotificationExecutionDetailResponseDto:
    status = _DETAIL_STATUSES.get(detail.status.lower().replace("_", ""), "Warning")
    return ActivityNotificationExecutionDetailResponseDto(
        id=detail.id,
        created_at=iso(detail.created_at),
        status=status,
        detail=detail.detail,
        is_retry=False,
        is_test=False,
        provider_id=detail.provider_id if detail.provider_id in KNOWN_PROVIDER_IDS else None,
        raw=None if detail.raw is None else orjson.dumps(detail.raw).decode(),
        source="Internal",
    )
