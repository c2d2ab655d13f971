"""What digest and throttle steps group executions by: subscriber, workflow, step and a key
rendered from the trigger (`digestKey`, `throttleKey`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herald.engine.render import RenderContext, render_template
from herald.engine.steps.base import StepContext

KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class StepGroup:
    subscriber_id: str
    workflow_identifier: str
    step_id: str
    key: str

    @classmethod
    def of(cls, ctx: StepContext, key_expression: Any) -> StepGroup:
        return cls(
            ctx.subscriber_row_id, ctx.workflow.identifier, ctx.step.step_id, group_key(key_expression, ctx)
        )

    def lock_parts(self, kind: str) -> tuple[str, ...]:
        return (kind, self.subscriber_id, self.workflow_identifier, self.step_id, self.key)


def payload_value(payload: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted payload path (`project.id` or `payload.project.id`), or None."""
    value: Any = payload
    for part in path.removeprefix("payload.").split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def group_key(expression: Any, ctx: StepContext) -> str:
    """The key value: a Liquid expression (`{{ payload.projectId }}`) rendered over the step's
    variables, or a payload path (Novu's v1 `projectId`), or, when the expression names no
    payload value, the expression itself (controls the runner rendered already). "" for none."""
    if not isinstance(expression, str) or not expression:
        return ""
    if "{{" in expression or "{%" in expression:
        value: Any = render_template(expression, render_context(ctx))
    else:
        found = payload_value(ctx.payload, expression)
        value = expression if found is None else found
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if len(text) > KEY_LENGTH:
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text


def render_context(ctx: StepContext) -> RenderContext:
    variables = ctx.variables
    return RenderContext(
        payload=variables.get("payload", ctx.payload),
        subscriber=variables.get("subscriber", ctx.subscriber),
        steps=variables.get("steps", {}),
        actor=variables.get("actor"),
        tenant=variables.get("tenant"),
        context=variables.get("context", {}),
    )
