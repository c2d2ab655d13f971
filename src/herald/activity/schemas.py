"""Activity feed DTOs, named and shaped as Novu's (`ActivitiesResponseDto` and its parts)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool

from herald.activity.providers import ProviderId
from herald.kit.schemas import NovuModel

ChannelType = Literal["in_app", "email", "sms", "chat", "push"]
StepType = Literal[
    "in_app",
    "email",
    "sms",
    "chat",
    "push",
    "digest",
    "trigger",
    "delay",
    "throttle",
    "custom",
    "http_request",
]
Severity = Literal["high", "medium", "low", "none"]
ExecutionDetailStatus = Literal["Success", "Warning", "Failed", "Pending", "Queued", "ReadConfirmation"]
ExecutionDetailSource = Literal["Credentials", "Internal", "Payload", "Webhook"]
ResourceOrigin = Literal["novu-cloud", "novu-cloud-v1", "external"]


class ActivityNotificationExecutionDetailResponseDto(NovuModel):
    id: str = Field(alias="_id")
    created_at: str
    status: ExecutionDetailStatus
    detail: str
    is_retry: StrictBool
    is_test: StrictBool
    provider_id: ProviderId | None = None
    raw: str | None = None
    source: ExecutionDetailSource


class ActivityNotificationStepResponseDto(NovuModel):
    id: str = Field(alias="_id")
    active: StrictBool
    filters: list[dict[str, Any]] = Field(
        default_factory=list, description="Novu's v1 step filters; v2 steps use the `skip` control instead."
    )
    template_id: str = Field(alias="_templateId")
    name: str | None = None
    step_id: str | None = Field(default=None, description="The step's `stepId` within its workflow.")


class ActivityNotificationJobResponseDto(NovuModel):
    id: str = Field(alias="_id")
    type: StepType
    execution_details: list[ActivityNotificationExecutionDetailResponseDto]
    step: ActivityNotificationStepResponseDto
    provider_id: ProviderId
    status: str = Field(examples=["pending", "running", "completed", "failed", "canceled"])
    updated_at: str
    last_error: str | None = Field(default=None, description="Why the job's last attempt failed.")


class ActivityNotificationSubscriberResponseDto(NovuModel):
    id: str = Field(alias="_id")
    subscriber_id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None


class NotificationTriggerVariableDto(NovuModel):
    name: str


class NotificationTriggerDto(NovuModel):
    type: Literal["event"] = "event"
    identifier: str
    variables: list[NotificationTriggerVariableDto] = Field(default_factory=list)


class ActivityNotificationTemplateResponseDto(NovuModel):
    id: str | None = Field(default=None, alias="_id")
    name: str
    origin: ResourceOrigin | None = None
    triggers: list[NotificationTriggerDto]


class ActivityNotificationResponseDto(NovuModel):
    id: str = Field(alias="_id")
    environment_id: str = Field(alias="_environmentId")
    organization_id: str = Field(alias="_organizationId")
    subscriber_id: str = Field(alias="_subscriberId", description="The subscriber's internal `_id`.")
    template_id: str | None = Field(default=None, alias="_templateId")
    transaction_id: str
    created_at: str
    updated_at: str
    channels: list[StepType]
    subscriber: ActivityNotificationSubscriberResponseDto
    template: ActivityNotificationTemplateResponseDto
    jobs: list[ActivityNotificationJobResponseDto]
    payload: dict[str, Any]
    tags: list[str]
    to: dict[str, Any] | None = None
    severity: Severity
    critical: StrictBool
    status: str = Field(description="Herald's processing status of the notification.")


class ActivitiesResponseDto(NovuModel):
    has_more: StrictBool
    data: list[ActivityNotificationResponseDto]
    page_size: int
    page: int
