"""Rendering a step's control values with the Liquid scope of its run."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from herald.engine.render import RenderContext, render_controls
from herald.engine.steps.base import StepContext


def render_context(ctx: StepContext) -> RenderContext:
    variables = ctx.variables
    return RenderContext(
        payload=variables.get("payload") or {},
        subscriber=variables.get("subscriber") or {},
        steps=variables.get("steps") or {},
        actor=variables.get("actor"),
        tenant=variables.get("tenant"),
        context=variables.get("context") or {},
    )


def rendered_controls(ctx: StepContext, keys: Iterable[str]) -> dict[str, Any]:
    """The step's control values named in `keys`, rendered (a `RenderError` names the field)."""
    values = ctx.step.control_values
    return render_controls({key: values[key] for key in keys if key in values}, render_context(ctx))


def delivered_message(
    ctx: StepContext, channel: str, provider_id: str, controls: dict[str, Any]
) -> dict[str, Any]:
    """The message row a channel step stores once it has delivered: who, what (subject, body,
    data from the rendered `controls`), and the workflow's tags and severity; unread and unseen."""
    data = controls.get("data")
    return {
        "notification_id": ctx.notification_id,
        "job_id": ctx.job_id,
        "subscriber_id": ctx.subscriber_row_id,
        "transaction_id": ctx.transaction_id,
        "workflow_id": ctx.workflow.id,
        "workflow_identifier": ctx.workflow.identifier,
        "step_id": ctx.step.step_id,
        "channel": channel,
        "provider_id": provider_id,
        "status": "sent",
        "subject": controls.get("subject") or None,
        "content": controls.get("body") or "",
        "data": data if isinstance(data, dict) else None,
        "tags": ctx.workflow.tags,
        "severity": ctx.workflow.severity,
        "critical": ctx.workflow.critical,
        "seen": False,
        "read": False,
        "archived": False,
        "delivered_at": ctx.now,
    }
