"""Step previews: a step's controls rendered against a given payload, or an example one.

The example holds, for every variable the step's content reads, a placeholder showing the
variable (`"{{payload.order.id}}"`), plus the payload schema's defaults and examples; what
the caller sends in `previewPayload` replaces it, key by key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from herald.engine.render import RenderContext, RenderError, referenced_variables, render_controls
from herald.models import Workflow, WorkflowStep
from herald.workflows.schemas import GeneratePreviewResponseDto, PreviewPayloadDto

_ROOTS = ("payload", "subscriber", "actor", "steps", "tenant", "context")
_INDEX = re.compile(r"\[[^\]]*\]")
_CHANNEL_OUTPUT: dict[str, tuple[str, ...]] = {
    "email": ("subject", "body"),
    "sms": ("body",),
    "push": ("subject", "body"),
    "chat": ("body",),
    "in_app": ("subject", "body", "avatar", "primaryAction", "secondaryAction", "redirect", "data"),
}
_REQUIRED_OUTPUT: dict[str, tuple[str, ...]] = {
    "email": ("subject", "body"),
    "sms": ("body",),
    "push": ("subject", "body"),
    "in_app": ("body",),
}


def generate(
    workflow: Workflow,
    step: WorkflowStep,
    controls: Mapping[str, Any],
    given: PreviewPayloadDto | None,
) -> GeneratePreviewResponseDto:
    example = _example(workflow.payload_schema, controls)
    if given is not None:
        _merge(example, given.model_dump(exclude_none=True))
    context = RenderContext(
        payload=example.get("payload", {}),
        subscriber=example.get("subscriber", {}),
        steps=example.get("steps", {}),
        actor=example.get("actor"),
        tenant=example.get("tenant"),
        context=example.get("context", {}),
    )
    result: dict[str, Any] = {"type": step.type}
    try:
        rendered = render_controls({key: value for key, value in controls.items() if key != "skip"}, context)
    except RenderError as error:
        result["error"] = {
            "title": "The step's content could not be rendered",
            "message": str(error),
            "hint": "Check the Liquid syntax, the filters and their arguments in this control.",
        }
    else:
        result["preview"] = _output(step.type, rendered)
    return GeneratePreviewResponseDto(
        preview_payload_example=example, schema_=workflow.payload_schema, result=result
    )


def _output(step_type: str, rendered: dict[str, Any]) -> dict[str, Any]:
    keys = _CHANNEL_OUTPUT.get(step_type)
    if keys is None:
        return rendered
    output = {key: rendered[key] for key in keys if key in rendered}
    for key in _REQUIRED_OUTPUT.get(step_type, ()):
        output.setdefault(key, "")
    return output


def _example(payload_schema: Mapping[str, Any] | None, controls: Mapping[str, Any]) -> dict[str, Any]:
    example: dict[str, Any] = {}
    if payload_schema:
        schema_example = _from_schema(payload_schema, "payload")
        if isinstance(schema_example, dict):
            example["payload"] = schema_example
    for path in referenced_variables(controls):
        parts = _INDEX.split(path, maxsplit=1)[0].split(".")
        if parts[0] in _ROOTS and len(parts) > 1:
            _set_default(example, parts, "{{" + ".".join(parts) + "}}")
    return example


def _from_schema(schema: Mapping[str, Any], path: str) -> Any:
    for keyword in ("default", "const"):
        if keyword in schema:
            return schema[keyword]
    for keyword in ("examples", "enum"):
        values = schema.get(keyword)
        if isinstance(values, list) and values:
            return values[0]
    kind = schema.get("type")
    kind = kind[0] if isinstance(kind, list) and kind else kind
    properties = schema.get("properties")
    if kind == "object" or isinstance(properties, Mapping):
        return {
            name: _from_schema(sub, f"{path}.{name}")
            for name, sub in (properties or {}).items()
            if isinstance(sub, Mapping)
        }
    return {"number": 0, "integer": 0, "boolean": False, "array": [], "null": None}.get(
        str(kind), "{{" + path + "}}"
    )


def _set_default(target: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        child = target.setdefault(part, {})
        if not isinstance(child, dict):
            return
        target = child
    target.setdefault(parts[-1], value)


def _merge(target: dict[str, Any], overrides: Mapping[str, Any]) -> None:
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = value
