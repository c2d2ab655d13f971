"""Execution detail lines (the activity log of a notification), as step executors write them."""

from __future__ import annotations

from typing import Any

from herald.engine.repository import ExecutionDetailRepository
from herald.engine.steps.base import StepContext


class DetailStatus:
    """Novu's execution detail statuses."""

    SUCCESS = "Success"
    WARNING = "Warning"
    FAILED = "Failed"
    PENDING = "Pending"


def record_detail(
    ctx: StepContext,
    status: str,
    detail: str,
    *,
    channel: str | None = None,
    provider_id: str | None = None,
    raw: dict[str, Any] | None = None,
) -> None:
    """Add one line to the notification's execution log, in the step job's transaction."""
    ExecutionDetailRepository(ctx.session, ctx.scope).record(
        notification_id=ctx.notification_id,
        job_id=ctx.job_id,
        step_id=ctx.step.step_id,
        channel=channel,
        provider_id=provider_id,
        status=status,
        detail=detail,
        raw=raw,
    )
