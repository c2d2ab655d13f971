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
