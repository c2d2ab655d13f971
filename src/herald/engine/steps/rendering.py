"""Rendering a step's control values with the Liquid scope of its run."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from herald.engine.render import RenderContext, Renderer, controls_renderer
from herald.engine.steps.base import StepContext
from herald.kit.identity_cache import IdentityCache


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


_renderers: IdentityCache[Renderer] = IdentityCache(4096)
"""Prepared renderers by a step's control values (snapshots never change, nor do their control
values) and the keys rendered."""


def rendered_controls(ctx: StepContext, keys: Iterable[str]) -> dict[str, Any]:
    """The step's control values named in `keys`, rendered (a `RenderError` names the field)."""
    values = ctx.step.control_values
    wanted = tuple(keys)
    renderer = _renderers.get(
        values, lambda: controls_renderer({key: values[key] for key in wanted if key in values}), wanted
    )
    rendered: dict[str, Any] = renderer(render_context(ctx).variables())
    return rendered


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
