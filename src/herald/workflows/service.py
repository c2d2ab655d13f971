"""Workflows: create, search, update, patch, delete, read steps, preview, sync between environments."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.engine.payload_schema import schema_problem
from herald.environments.repository import EnvironmentRepository
from herald.errors import BadRequestError, FieldValidationError, NotFoundError
from herald.kit.scope import EnvironmentScope
from herald.kit.time import utc_now
from herald.models import Workflow, WorkflowStep
from herald.workflows import preview
from herald.workflows.controls import validate_controls
from herald.workflows.presenter import (
    STEP_SLUG_MARKER,
    slugify,
    to_list_item,
    to_response,
    to_step_response,
    workflow_status,
)
from herald.workflows.repository import WorkflowRepository, WorkflowSearch
from herald.workflows.schemas import (
    CreateWorkflowDto,
    GeneratePreviewRequestDto,
    GeneratePreviewResponseDto,
    ListWorkflowResponse,
    PatchWorkflowDto,
    StepResponseDto,
    StepUpsertDto,
    SyncWorkflowDto,
    UpdateWorkflowDto,
    WorkflowPreferencesDto,
    WorkflowResponseDto,
    WorkflowSettingsDto,
)

CHANNELS = ("in_app", "email", "sms", "chat", "push")
_MAX_TAG_LENGTH = 64


@dataclass(frozen=True)
class _StepSpec:
    id: str | None
    step_id: str | None
    name: str
    type: str
    controls: dict[str, Any]


async def create_workflow(
    session: AsyncSession, scope: EnvironmentScope, request: CreateWorkflowDto
) -> WorkflowResponseDto:
    repository = WorkflowRepository(session, scope)
    if await repository.identifier_taken(request.workflow_id):
        raise _duplicate(request.workflow_id)
    workflow = Workflow(
        identifier=request.workflow_id,
        name=request.name,
        origin="novu-cloud",
        tags=[],
        active=False,  # as Novu's API (and novu-py, which always sends `active`)
        critical=False,
        severity="none",
        validate_payload=False,
        is_translation_enabled=False,
        preferences=_preferences(None, critical=False),
    )
    repository.add(workflow)
    _apply_settings(workflow, request)
    await _apply_steps(repository, workflow, _step_specs(request.steps))
    workflow.status = workflow_status(workflow)
    await _flush(repository, workflow.identifier)
    return to_response(workflow)


async def search_workflows(
    session: AsyncSession, scope: EnvironmentScope, search: WorkflowSearch
) -> ListWorkflowResponse:
    rows, total = await WorkflowRepository(session, scope).search(search)
    return ListWorkflowResponse(workflows=[to_list_item(row) for row in rows], total_count=total)


async def get_workflow(session: AsyncSession, scope: EnvironmentScope, reference: str) -> WorkflowResponseDto:
    return to_response(await _get(WorkflowRepository(session, scope), reference))


async def update_workflow(
    session: AsyncSession, scope: EnvironmentScope, reference: str, request: UpdateWorkflowDto
) -> WorkflowResponseDto:
    repository = WorkflowRepository(session, scope)
    workflow = await _get(repository, reference)
    renamed = request.workflow_id and request.workflow_id != workflow.identifier
    if renamed and workflow.origin == "external":  # Novu lets only code-first workflows change it
        assert request.workflow_id is not None
        if await repository.identifier_taken(request.workflow_id):
            raise _duplicate(request.workflow_id)
        workflow.identifier = request.workflow_id
    workflow.name = request.name
    if request.origin is not None:
        workflow.origin = request.origin
    _apply_settings(workflow, request)
    await _apply_steps(repository, workflow, _step_specs(request.steps))
    await _save(repository, workflow)
    return to_response(workflow)


async def patch_workflow(
    session: AsyncSession, scope: EnvironmentScope, reference: str, request: PatchWorkflowDto
) -> WorkflowResponseDto:
    repository = WorkflowRepository(session, scope)
    workflow = await _get(repository, reference)
    if request.name is not None:
        workflow.name = request.name
    if request.description is not None:
        workflow.description = request.description
    if request.tags is not None:
        workflow.tags = _checked_tags(request.tags)
    if request.active is not None:
        workflow.active = request.active
    if request.validate_payload is not None:
        workflow.validate_payload = request.validate_payload
    if request.is_translation_enabled is not None:
        workflow.is_translation_enabled = request.is_translation_enabled
    if "payload_schema" in request.model_fields_set:
        workflow.payload_schema = _checked_schema(request.payload_schema)
    await _save(repository, workflow)
    return to_response(workflow)


async def delete_workflow(session: AsyncSession, scope: EnvironmentScope, reference: str) -> None:
    repository = WorkflowRepository(session, scope)
    await repository.remove(await _get(repository, reference))


async def get_step(
    session: AsyncSession, scope: EnvironmentScope, reference: str, step_reference: str
) -> StepResponseDto:
    workflow = await _get(WorkflowRepository(session, scope), reference)
    return to_step_response(workflow, _step(workflow, step_reference))


async def preview_step(
    session: AsyncSession,
    scope: EnvironmentScope,
    reference: str,
    step_reference: str,
    request: GeneratePreviewRequestDto,
) -> GeneratePreviewResponseDto:
    workflow = await _get(WorkflowRepository(session, scope), reference)
    step = _step(workflow, step_reference)
    controls = step.control_values
    if request.control_values is not None:
        controls = validate_controls(step.type, request.control_values, "controlValues")
    return preview.generate(workflow, step, controls, request.preview_payload)


async def sync_workflow(
    session: AsyncSession, scope: EnvironmentScope, reference: str, request: SyncWorkflowDto
) -> WorkflowResponseDto:
    """Copy the workflow into another environment of the organization, or update its copy there."""
    source = await _get(WorkflowRepository(session, scope), reference)
    target_id = request.target_environment_id
    if target_id == scope.environment_id:
        raise BadRequestError("Cannot sync a workflow into the environment it is in")
    if await EnvironmentRepository(session, scope).get(target_id) is None:
        raise NotFoundError(f"Environment {target_id} not found")
    target = WorkflowRepository(session, EnvironmentScope(target_id, scope.organization_id))
    copy = await target.find_by_identifier(source.identifier)
    if copy is None:
        copy = Workflow(identifier=source.identifier)
        target.add(copy)
    for attribute in (
        "name",
        "description",
        "active",
        "critical",
        "severity",
        "origin",
        "validate_payload",
        "is_translation_enabled",
    ):
        setattr(copy, attribute, getattr(source, attribute))
    copy.tags = list(source.tags)
    copy.payload_schema = source.payload_schema
    copy.preferences = dict(source.preferences)
    copy.user_preferences = source.user_preferences
    specs = [
        _StepSpec(None, step.step_id, step.name, step.type, dict(step.control_values))
        for step in source.steps
    ]
    await _apply_steps(target, copy, specs)
    await _save(target, copy)
    return to_response(copy)


async def _get(repository: WorkflowRepository, reference: str) -> Workflow:
    workflow = await repository.find(reference)
    if workflow is None:
        raise NotFoundError(f'Workflow "{reference}" not found')
    return workflow


def _step(workflow: Workflow, reference: str) -> WorkflowStep:
    slug_id = reference.rpartition(STEP_SLUG_MARKER)[2]
    for step in workflow.steps:
        if reference in (step.step_id, step.id) or slug_id == step.id:
            return step
    raise NotFoundError(f'Step "{reference}" not found in workflow "{workflow.identifier}"')


def _duplicate(identifier: str) -> BadRequestError:
    return BadRequestError(f'Workflow with workflowId "{identifier}" already exists in this environment')


async def _save(repository: WorkflowRepository, workflow: Workflow) -> None:
    workflow.status = workflow_status(workflow)
    workflow.updated_at = utc_now()
    await _flush(repository, workflow.identifier)


async def _flush(repository: WorkflowRepository, identifier: str) -> None:
    try:
        await repository.flush()
    except IntegrityError:
        raise _duplicate(identifier) from None


def _apply_settings(workflow: Workflow, request: WorkflowSettingsDto) -> None:
    if request.description is not None:
        workflow.description = request.description
    if request.tags is not None:
        workflow.tags = _checked_tags(request.tags)
    if request.active is not None:
        workflow.active = request.active
    if request.validate_payload is not None:
        workflow.validate_payload = request.validate_payload
    if request.is_translation_enabled is not None:
        workflow.is_translation_enabled = request.is_translation_enabled
    if request.severity is not None:
        workflow.severity = request.severity
    if "payload_schema" in request.model_fields_set:
        workflow.payload_schema = _checked_schema(request.payload_schema)
    preferences = request.preferences
    critical = request.critical
    if preferences is not None and preferences.workflow is not None:
        critical = preferences.workflow.all.read_only if critical is None else critical
        workflow.preferences = _preferences(preferences.workflow, critical=critical)
    if preferences is not None and "user" in preferences.model_fields_set:
        workflow.user_preferences = (
            _preferences(preferences.user, critical=False) if preferences.user else None
        )
    if critical is not None:
        workflow.critical = critical
        workflow.preferences = {
            **workflow.preferences,
            "all": {**workflow.preferences["all"], "readOnly": critical},
        }


def _preferences(requested: WorkflowPreferencesDto | None, *, critical: bool) -> dict[str, Any]:
    """Stored preference defaults: every channel present, `readOnly` set for critical workflows."""
    requested = requested or WorkflowPreferencesDto()
    channels = {channel: {"enabled": True} for channel in CHANNELS}
    channels.update({name: {"enabled": value.enabled} for name, value in requested.channels.items()})
    return {"all": {"enabled": requested.all.enabled, "readOnly": critical}, "channels": channels}


def _checked_tags(tags: list[str]) -> list[str]:
    cleaned = list(dict.fromkeys(tag.strip() for tag in tags))
    for index, tag in enumerate(cleaned):
        if not tag or len(tag) > _MAX_TAG_LENGTH:
            raise FieldValidationError(
                {f"tags.{index}": f"tags must be non-empty strings of at most {_MAX_TAG_LENGTH} characters"},
                {f"tags.{index}": tag},
            )
    return cleaned


def _checked_schema(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    if schema is None:
        return None
    problem = schema_problem(schema)
    if problem:
        raise FieldValidationError({"payloadSchema": f"payloadSchema is not a valid JSON Schema: {problem}"})
    return schema


def _step_specs(requests: list[StepUpsertDto]) -> list[_StepSpec]:
    return [
        _StepSpec(
            request.id,
            request.step_id,
            request.name,
            request.type,
            validate_controls(request.type, request.control_values, f"steps.{index}.controlValues"),
        )
        for index, request in enumerate(requests)
    ]


async def _apply_steps(repository: WorkflowRepository, workflow: Workflow, specs: list[_StepSpec]) -> None:
    """Make the workflow's steps exactly `specs`, in order, keeping the `_id` of matched steps.

    A spec matches an existing step by `_id`, else by `stepId` (given, or derived from the
    name when the spec has neither). Removed steps are deleted and
    renamed ones parked under a temporary stepId first, so the per-workflow unique stepId
    constraint holds at every statement.
    """
    _reject_duplicate_step_ids(specs)
    existing = list(workflow.steps)
    by_id = {step.id: step for step in existing}
    by_step_id = {step.step_id: step for step in existing}
    matched: dict[int, WorkflowStep] = {}
    for index, spec in enumerate(specs):
        row = by_id.get(spec.id) if spec.id else None
        if row is None:
            row = by_step_id.get(spec.step_id or ("" if spec.id else slugify(spec.name, "step")))
        if row is not None and row not in matched.values():
            matched[index] = row
    step_ids = _assign_step_ids(specs, matched)

    removed = [step for step in existing if step not in matched.values()]
    renamed = [row for index, row in matched.items() if row.step_id != step_ids[index]]
    for step in removed:
        workflow.steps.remove(step)
    for row in renamed:
        row.step_id = f"~{row.id}"
    if removed or renamed:
        await repository.flush()

    ordered: list[WorkflowStep] = []
    for index, spec in enumerate(specs):
        row = matched.get(index) or repository.add_step(workflow, WorkflowStep())
        row.step_id, row.name, row.type = step_ids[index], spec.name, spec.type
        row.position, row.control_values = index, spec.controls
        ordered.append(row)
    workflow.steps = ordered


def _reject_duplicate_step_ids(specs: list[_StepSpec]) -> None:
    seen: set[str] = set()
    for index, spec in enumerate(specs):
        if spec.step_id in seen:
            raise FieldValidationError(
                {f"steps.{index}.stepId": "stepId must be unique within the workflow"},
                {f"steps.{index}.stepId": spec.step_id},
            )
        if spec.step_id:
            seen.add(spec.step_id)


def _assign_step_ids(specs: list[_StepSpec], matched: dict[int, WorkflowStep]) -> list[str]:
    """Given stepIds stay; a matched step keeps its own; new ones derive from the name."""
    taken = {spec.step_id for spec in specs if spec.step_id}
    assigned: list[str] = []
    for index, spec in enumerate(specs):
        if spec.step_id:
            assigned.append(spec.step_id)
            continue
        row = matched.get(index)
        base = row.step_id if row is not None and row.step_id not in taken else slugify(spec.name, "step")
        candidate, suffix = base, 2
        while candidate in taken:
            candidate, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(candidate)
        assigned.append(candidate)
    return assigned
