"""Workflow DTOs, named and shaped as Novu's v2 API (`/v2/workflows`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from herald.kit.schemas import NovuModel
from herald.workflows.controls import StepType

WorkflowStatus = Literal["ACTIVE", "INACTIVE", "ERROR"]
Severity = Literal["high", "medium", "low", "none"]
ResourceOrigin = Literal["novu-cloud", "novu-cloud-v1", "external"]
Channel = Literal["in_app", "email", "sms", "chat", "push"]
SortField = Literal["createdAt", "updatedAt", "name", "lastTriggeredAt"]
Direction = Literal["ASC", "DESC"]

SLUG_IDENTIFIER = r"^[a-zA-Z0-9]+(?:[-_.][a-zA-Z0-9]+)*$"
MAX_STEPS = 50


class RequestModel(NovuModel):
    """Request bodies take JSON types as they are: `0` is not `false`, `"5"` is not `5`."""

    model_config = ConfigDict(strict=True)


class WorkflowPreferenceDto(RequestModel):
    enabled: bool = True
    read_only: bool = False


class ChannelPreferenceDto(RequestModel):
    enabled: bool = True


class WorkflowPreferencesDto(RequestModel):
    all: WorkflowPreferenceDto = Field(default_factory=WorkflowPreferenceDto)
    channels: dict[Channel, ChannelPreferenceDto] = Field(default_factory=dict)


class PreferencesRequestDto(RequestModel):
    user: WorkflowPreferencesDto | None = None
    workflow: WorkflowPreferencesDto | None = None


class StepUpsertDto(RequestModel):
    id: str | None = Field(default=None, alias="_id", description="Database id of a step to update.")
    step_id: str | None = Field(default=None, max_length=255, pattern=SLUG_IDENTIFIER)
    name: str = Field(min_length=1, max_length=255)
    type: StepType
    control_values: dict[str, Any] | None = None


class WorkflowSettingsDto(RequestModel):
    description: str | None = Field(default=None, max_length=1024)
    tags: list[str] | None = Field(default=None, max_length=64)
    active: bool | None = None
    validate_payload: bool | None = None
    payload_schema: dict[str, Any] | None = None
    is_translation_enabled: bool | None = None
    preferences: PreferencesRequestDto | None = None
    severity: Severity | None = None
    critical: bool | None = Field(
        default=None,
        description="Subscribers cannot turn a critical workflow off (preferences are read-only).",
    )
    steps: list[StepUpsertDto] = Field(max_length=MAX_STEPS)


class CreateWorkflowDto(WorkflowSettingsDto):
    name: str = Field(min_length=1, max_length=255)
    workflow_id: str = Field(max_length=255, pattern=SLUG_IDENTIFIER)


class UpdateWorkflowDto(WorkflowSettingsDto):
    name: str = Field(min_length=1, max_length=255)
    workflow_id: str | None = Field(default=None, description="Changeable only for code-first workflows.")
    origin: ResourceOrigin | None = None


class PatchWorkflowDto(RequestModel):
    active: bool | None = None
    name: str | None = Field(default=None, min_length=1, max_length=255)
    description: str | None = Field(default=None, max_length=1024)
    tags: list[str] | None = Field(default=None, max_length=64)
    payload_schema: dict[str, Any] | None = None
    validate_payload: bool | None = None
    is_translation_enabled: bool | None = None


class SyncWorkflowDto(RequestModel):
    target_environment_id: str = Field(min_length=1, max_length=64)


class PreviewPayloadDto(RequestModel):
    subscriber: dict[str, Any] | None = None
    actor: dict[str, Any] | None = None
    payload: dict[str, Any] | None = None
    steps: dict[str, Any] | None = None
    tenant: dict[str, Any] | None = None
    context: dict[str, Any] | None = None


class GeneratePreviewRequestDto(RequestModel):
    control_values: dict[str, Any] | None = None
    preview_payload: PreviewPayloadDto | None = None


class StepContentIssueDto(NovuModel):
    issue_type: str
    variable_name: str | None = None
    message: str


class StepIssuesDto(NovuModel):
    controls: dict[str, list[StepContentIssueDto]] | None = None


class ControlsDto(NovuModel):
    values: dict[str, Any]
    data_schema: dict[str, Any] | None = None


class StepResponseDto(NovuModel):
    id: str = Field(alias="_id")
    step_id: str
    name: str
    slug: str
    type: StepType
    origin: ResourceOrigin
    workflow_id: str
    workflow_database_id: str
    controls: ControlsDto
    control_values: dict[str, Any]
    variables: dict[str, Any] = Field(description="JSON Schema of the variables the step's content can use.")
    issues: StepIssuesDto | None = None


class WorkflowPreferencesResponseDto(NovuModel):
    user: WorkflowPreferencesDto | None = None
    default: WorkflowPreferencesDto


class WorkflowResponseDto(NovuModel):
    id: str = Field(alias="_id")
    workflow_id: str
    slug: str
    name: str
    description: str | None = None
    tags: list[str]
    active: bool
    critical: bool
    validate_payload: bool
    payload_schema: dict[str, Any] | None = None
    is_translation_enabled: bool
    origin: ResourceOrigin
    status: WorkflowStatus
    severity: Severity
    preferences: WorkflowPreferencesResponseDto
    steps: list[StepResponseDto]
    created_at: str
    updated_at: str
    last_triggered_at: str | None = None


class StepListResponseDto(NovuModel):
    slug: str
    type: StepType
    issues: StepIssuesDto | None = None


class WorkflowListResponseDto(NovuModel):
    id: str = Field(alias="_id")
    workflow_id: str
    slug: str
    name: str
    tags: list[str]
    status: WorkflowStatus
    origin: ResourceOrigin
    step_type_overviews: list[StepType]
    steps: list[StepListResponseDto]
    is_translation_enabled: bool
    created_at: str
    updated_at: str
    last_triggered_at: str | None = None


class ListWorkflowResponse(NovuModel):
    workflows: list[WorkflowListResponseDto]
    total_count: int


class GeneratePreviewResponseDto(NovuModel):
    preview_payload_example: dict[str, Any]
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    result: dict[str, Any]
