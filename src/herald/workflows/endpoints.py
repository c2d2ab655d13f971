"""`/v2/workflows`: workflow definitions, their steps, step previews and environment sync."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from herald.auth.dependencies import CurrentEnvironment, Session
from herald.kit.schemas import ERROR_RESPONSES, Envelope
from herald.workflows import service
from herald.workflows.repository import WorkflowSearch
from herald.workflows.schemas import (
    CreateWorkflowDto,
    Direction,
    GeneratePreviewRequestDto,
    GeneratePreviewResponseDto,
    ListWorkflowResponse,
    PatchWorkflowDto,
    SortField,
    StepResponseDto,
    SyncWorkflowDto,
    UpdateWorkflowDto,
    WorkflowResponseDto,
    WorkflowStatus,
)

router = APIRouter(prefix="/v2/workflows", tags=["Workflows"], responses=ERROR_RESPONSES)

WorkflowReference = Annotated[
    str,
    Path(
        alias="workflowId",
        min_length=1,
        max_length=300,
        description="The workflow's identifier (workflowId), its database `_id`, or its slug.",
    ),
]
StepReference = Annotated[
    str, Path(alias="stepId", min_length=1, max_length=300, description="The step's stepId, `_id` or slug.")
]


@router.post("", status_code=201, operation_id="WorkflowController_create", response_model_exclude_none=True)
async def create_workflow(
    body: CreateWorkflowDto, session: Session, scope: CurrentEnvironment
) -> Envelope[WorkflowResponseDto]:
    """Create a workflow with its ordered steps. `workflowId` is unique in the environment;
    steps without a `stepId` get one derived from their name."""
    return Envelope(data=await service.create_workflow(session, scope, body))


@router.get("", operation_id="WorkflowController_searchWorkflows", response_model_exclude_none=True)
async def search_workflows(
    session: Session,
    scope: CurrentEnvironment,
    limit: Annotated[float, Query(ge=1, le=100)] = 10,
    offset: Annotated[float, Query(ge=0, le=1_000_000)] = 0,
    order_direction: Annotated[Direction, Query(alias="orderDirection")] = "DESC",
    order_by: Annotated[SortField, Query(alias="orderBy")] = "createdAt",
    query: Annotated[str | None, Query(max_length=256)] = None,
    tags: Annotated[list[str] | None, Query()] = None,
    status: Annotated[list[WorkflowStatus] | None, Query()] = None,
) -> Envelope[ListWorkflowResponse]:
    """List the environment's workflows. `query` matches the name or workflowId (case
    insensitive), `tags` any of the given tags, `status` any of the given statuses."""
    search = WorkflowSearch(
        query=query or None,
        tags=tags or (),
        statuses=status or (),
        order_by=order_by,
        descending=order_direction == "DESC",
        offset=int(offset),
        limit=int(limit),
    )
    return Envelope(data=await service.search_workflows(session, scope, search))


@router.get("/{workflowId}", operation_id="WorkflowController_getWorkflow", response_model_exclude_none=True)
async def get_workflow(
    workflow_id: WorkflowReference, session: Session, scope: CurrentEnvironment
) -> Envelope[WorkflowResponseDto]:
    """A workflow with its steps, found by workflowId, `_id` or slug."""
    return Envelope(data=await service.get_workflow(session, scope, workflow_id))


@router.put("/{workflowId}", operation_id="WorkflowController_update", response_model_exclude_none=True)
async def update_workflow(
    workflow_id: WorkflowReference, body: UpdateWorkflowDto, session: Session, scope: CurrentEnvironment
) -> Envelope[WorkflowResponseDto]:
    """Replace a workflow's definition. Steps are matched to the existing ones by `_id`, then
    by `stepId` (and keep their `_id`); steps left out are removed."""
    return Envelope(data=await service.update_workflow(session, scope, workflow_id, body))


@router.patch(
    "/{workflowId}", operation_id="WorkflowController_patchWorkflow", response_model_exclude_none=True
)
async def patch_workflow(
    workflow_id: WorkflowReference, body: PatchWorkflowDto, session: Session, scope: CurrentEnvironment
) -> Envelope[WorkflowResponseDto]:
    """Change some of a workflow's settings (active, name, description, tags, payload schema,
    payload validation, translations); `payloadSchema: null` removes the schema."""
    return Envelope(data=await service.patch_workflow(session, scope, workflow_id, body))


@router.delete(
    "/{workflowId}",
    status_code=204,
    response_class=Response,
    operation_id="WorkflowController_removeWorkflow",
)
async def delete_workflow(
    workflow_id: WorkflowReference, session: Session, scope: CurrentEnvironment
) -> Response:
    """Delete a workflow and its steps."""
    await service.delete_workflow(session, scope, workflow_id)
    return Response(status_code=204)


@router.get(
    "/{workflowId}/steps/{stepId}",
    operation_id="WorkflowController_getWorkflowStepData",
    response_model_exclude_none=True,
)
async def get_step(
    workflow_id: WorkflowReference, step_id: StepReference, session: Session, scope: CurrentEnvironment
) -> Envelope[StepResponseDto]:
    """One step of a workflow: its controls, their JSON Schema, the variables it can use, issues."""
    return Envelope(data=await service.get_step(session, scope, workflow_id, step_id))


@router.post(
    "/{workflowId}/step/{stepId}/preview",
    status_code=201,
    operation_id="WorkflowController_generatePreview",
    response_model_exclude_none=True,
)
async def preview_step(
    workflow_id: WorkflowReference,
    step_id: StepReference,
    body: GeneratePreviewRequestDto,
    session: Session,
    scope: CurrentEnvironment,
) -> Envelope[GeneratePreviewResponseDto]:
    """Render a step's controls (stored, or `controlValues`) with Liquid against
    `previewPayload`, filled up with an example for every variable the content reads.
    Rendering errors come back in `result.error`."""
    return Envelope(data=await service.preview_step(session, scope, workflow_id, step_id, body))


@router.put("/{workflowId}/sync", operation_id="WorkflowController_sync", response_model_exclude_none=True)
async def sync_workflow(
    workflow_id: WorkflowReference, body: SyncWorkflowDto, session: Session, scope: CurrentEnvironment
) -> Envelope[WorkflowResponseDto]:
    """Copy the workflow into another environment of the organization (`targetEnvironmentId`),
    or bring its copy there up to date. Answers with the copy."""
    return Envelope(data=await service.sync_workflow(session, scope, workflow_id, body))
