"""Stand-in for the engine until triggers land: write what one trigger leaves behind for one
subscriber (notification, one job per workflow step, execution details, channel messages)
straight into a running server's database through the ORM.

The subscriber and workflow must exist (create them through the API first). Replace the calls
with real triggers once the engine is on main.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from herald.db import Database
from herald.jobs.schemas import JobStatus
from herald.kit.ids import new_id
from herald.kit.time import utc_now
from herald.models import Environment, ExecutionDetail, Job, Message, Notification, Subscriber, Workflow
from tests.support import RunningServer

CHANNELS = frozenset({"in_app", "email", "sms", "chat", "push"})
DEFAULT_PROVIDERS = {"in_app": "novu", "email": "sendgrid", "sms": "twilio", "chat": "slack", "push": "fcm"}


@dataclass
class Delivery:
    notification_id: str
    transaction_id: str
    job_ids: list[str] = field(default_factory=list)
    message_ids: dict[str, str] = field(default_factory=dict)
    """Channel -> message id."""


def deliver(
    server: RunningServer,
    subscriber_id: str,
    workflow_id: str,
    *,
    environment: str = "Development",
    transaction_id: str | None = None,
    payload: dict[str, Any] | None = None,
    severity: str = "none",
    created_at: datetime | None = None,
    message: dict[str, Any] | None = None,
) -> Delivery:
    """One notification of `workflow_id` (its identifier) for `subscriber_id`; every step's job
    completed with one "Success" execution detail, and one message per channel step (fields
    in `message` override the message columns)."""
    return asyncio.run(
        _deliver(
            server,
            environment,
            subscriber_id,
            workflow_id,
            transaction_id or uuid.uuid4().hex,
            payload or {},
            severity,
            created_at or utc_now(),
            message or {},
        )
    )


async def _deliver(
    server: RunningServer,
    environment: str,
    subscriber_id: str,
    workflow_id: str,
    transaction_id: str,
    payload: dict[str, Any],
    severity: str,
    created_at: datetime,
    message_fields: dict[str, Any],
) -> Delivery:
    database = Database(server.settings)
    environment_id = server.environment_ids[environment]
    try:
        async with database.session(write=True) as session:
            organization_id = (
                await session.execute(
                    select(Environment.organization_id).where(Environment.id == environment_id)
                )
            ).scalar_one()
            subscriber = (
                await session.execute(
                    select(Subscriber).where(
                        Subscriber.environment_id == environment_id, Subscriber.subscriber_id == subscriber_id
                    )
                )
            ).scalar_one()
            workflow = (
                await session.execute(
                    select(Workflow).where(
                        Workflow.environment_id == environment_id, Workflow.identifier == workflow_id
                    )
                )
            ).scalar_one()
            owner = {"environment_id": environment_id, "organization_id": organization_id}
            stamps = {"created_at": created_at, "updated_at": created_at}
            notification = Notification(
                id=new_id(),
                event_id=new_id(),
                transaction_id=transaction_id,
                subscriber_id=subscriber.id,
                workflow_id=workflow.id,
                workflow_identifier=workflow.identifier,
                workflow_name=workflow.name,
                status="completed",
                channels=[step.type for step in workflow.steps],
                tags=list(workflow.tags),
                severity=severity,
                critical=workflow.critical,
                payload=payload,
                overrides={},
                recipient={"subscriberId": subscriber_id},
                **owner,
                **stamps,
            )
            session.add(notification)
            delivery = Delivery(notification.id, transaction_id)
            rows: list[Any] = []
            for step in workflow.steps:
                job = Job(
                    id=new_id(),
                    kind="workflow_step",
                    status=JobStatus.COMPLETED,
                    args={"step_id": step.step_id},
                    run_at=created_at,
                    attempts=1,
                    max_attempts=5,
                    transaction_id=transaction_id,
                    notification_id=notification.id,
                    finished_at=created_at,
                    **owner,
                    **stamps,
                )
                delivery.job_ids.append(job.id)
                channel = step.type if step.type in CHANNELS else None
                provider = DEFAULT_PROVIDERS.get(step.type)
                rows.append(job)
                rows.append(
                    ExecutionDetail(
                        notification_id=notification.id,
                        job_id=job.id,
                        step_id=step.step_id,
                        channel=channel,
                        provider_id=provider,
                        status="Success",
                        detail="Message sent" if channel else "Step completed",
                        raw={"step": step.step_id},
                        **owner,
                        **stamps,
                    )
                )
                if channel is not None:
                    message = Message(
                        id=new_id(),
                        notification_id=notification.id,
                        job_id=job.id,
                        subscriber_id=subscriber.id,
                        transaction_id=transaction_id,
                        workflow_id=workflow.id,
                        workflow_identifier=workflow.identifier,
                        step_id=step.step_id,
                        channel=channel,
                        provider_id=provider,
                        status="sent",
                        destination=subscriber.email if channel == "email" else None,
                        subject=f"{workflow.name} subject",
                        content=f"{workflow.name} body",
                        cta={},
                        tags=list(workflow.tags),
                        severity=severity,
                        delivered_at=created_at,
                        **owner,
                        **stamps,
                    )
                    for name, value in message_fields.items():
                        setattr(message, name, value)
                    delivery.message_ids[channel] = message.id
                    rows.append(message)
            await session.flush()
            session.add_all(rows)
        return delivery
    finally:
        await database.dispose()
