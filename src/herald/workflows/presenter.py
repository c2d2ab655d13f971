"""Workflow and step rows as Novu's response DTOs."""

from __future__ import annotations

import re
from typing import Any

from herald.kit.time import iso
from herald.models import Workflow, WorkflowStep
from herald.subscribers.schemas import PROFILE_FIELDS
from herald.workflows.controls import content_issues, control_schema, response_values
from herald.workflows.repository import SLUG_ID_MARKER
from herald.workflows.schemas import (
    ControlsDto,
    StepIssuesDto,
    StepListResponseDto,
    StepResponseDto,
    WorkflowListResponseDto,
    WorkflowPreferencesDto,
    WorkflowPreferencesResponseDto,
    WorkflowResponseDto,
)

STEP_SLUG_MARKER = "_st_"


def slugify(name: str, fallback: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or fallback


def workflow_slug(workflow: Workflow) -> str:
    return f"{slugify(workflow.name, 'workflow')}{SLUG_ID_MARKER}{workflow.id}"


def step_slug(step: WorkflowStep) -> str:
    return f"{slugify(step.name, 'step')}{STEP_SLUG_MARKER}{step.id}"


def step_issues(step: WorkflowStep) -> StepIssuesDto | None:
    issues = content_issues(step.type, step.control_values)
    return StepIssuesDto.model_validate({"controls": issues}) if issues else None


def workflow_status(workflow: Workflow) -> str:
    if not workflow.active:
        return "INACTIVE"
    if any(content_issues(step.type, step.control_values) for step in workflow.steps):
        return "ERROR"
    return "ACTIVE"


def to_step_response(workflow: Workflow, step: WorkflowStep) -> StepResponseDto:
    values = response_values(step.type, step.control_values)
    return StepResponseDto(
        id=step.id,
        step_id=step.step_id,
        name=step.name,
        slug=step_slug(step),
        type=step.type,
        origin=workflow.origin,
        workflow_id=workflow.identifier,
        workflow_database_id=workflow.id,
        controls=ControlsDto(values=values, data_schema=control_schema(step.type)),
        control_values=values,
        variables=_variables_schema(workflow, step),
        issues=step_issues(step),
    )


def to_response(workflow: Workflow) -> WorkflowResponseDto:
    return WorkflowResponseDto(
        id=workflow.id,
        workflow_id=workflow.identifier,
        slug=workflow_slug(workflow),
        name=workflow.name,
        description=workflow.description,
        tags=list(workflow.tags),
        active=workflow.active,
        critical=workflow.critical,
        validate_payload=workflow.validate_payload,
        payload_schema=workflow.payload_schema,
        is_translation_enabled=workflow.is_translation_enabled,
        origin=workflow.origin,
        status=workflow.status,
        severity=workflow.severity,
        preferences=WorkflowPreferencesResponseDto(
            default=WorkflowPreferencesDto.model_validate(workflow.preferences),
            user=(
                WorkflowPreferencesDto.model_validate(workflow.user_preferences)
                if workflow.user_preferences
                else None
            ),
        ),
        steps=[to_step_response(workflow, step) for step in workflow.steps],
        created_at=iso(workflow.created_at),
        updated_at=iso(workflow.updated_at),
        last_triggered_at=iso(workflow.last_triggered_at) if workflow.last_triggered_at else None,
    )


def to_list_item(workflow: Workflow) -> WorkflowListResponseDto:
    return WorkflowListResponseDto(
        id=workflow.id,
        workflow_id=workflow.identifier,
        slug=workflow_slug(workflow),
        name=workflow.name,
        tags=list(workflow.tags),
        status=workflow.status,
        origin=workflow.origin,
        step_type_overviews=list(dict.fromkeys(step.type for step in workflow.steps)),
        steps=[
            StepListResponseDto(slug=step_slug(step), type=step.type, issues=step_issues(step))
            for step in workflow.steps
        ],
        is_translation_enabled=workflow.is_translation_enabled,
        created_at=iso(workflow.created_at),
        updated_at=iso(workflow.updated_at),
        last_triggered_at=iso(workflow.last_triggered_at) if workflow.last_triggered_at else None,
    )


def _object(properties: dict[str, Any] | None = None, *, open_: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties or {}}
    schema["additionalProperties"] = open_
    return schema


def _variables_schema(workflow: Workflow, step: WorkflowStep) -> dict[str, Any]:
    """JSON Schema of what a step's Liquid can read; `steps` lists the digests before it."""
    person = _object({name: {"type": "string"} for name in PROFILE_FIELDS} | {"data": _object(open_=True)})
    payload = workflow.payload_schema or _object(open_=True)
    earlier_digests: dict[str, Any] = {}
    for earlier in workflow.steps:
        if earlier is step:
            break
        if earlier.type == "digest":
            event = _object({"id": {"type": "string"}, "time": {"type": "string"}, "payload": payload})
            earlier_digests[earlier.step_id] = _object(
                {"events": {"type": "array", "items": event}, "eventCount": {"type": "number"}}
            )
    return _object(
        {
            "subscriber": person,
            "actor": person,
            "payload": payload,
            "steps": _object(earlier_digests),
            "tenant": _object(open_=True),
            "context": _object(open_=True),
        }
    )
