"""Subscriber preference DTOs, named and shaped as Novu's."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool

from herald.kit.schemas import NovuModel

ChannelType = Literal["email", "sms", "in_app", "chat", "push"]
CHANNELS: tuple[ChannelType, ...] = ("email", "sms", "in_app", "chat", "push")
WorkflowId = Field(min_length=1, max_length=255, description="The workflow's identifier.")


class PatchPreferenceChannelsDto(NovuModel):
    email: StrictBool | None = None
    sms: StrictBool | None = None
    in_app: StrictBool | None = Field(default=None, alias="in_app")
    chat: StrictBool | None = None
    push: StrictBool | None = None

    def given(self) -> dict[str, bool]:
        return {channel: value for channel in CHANNELS if (value := getattr(self, channel)) is not None}


class SubscriberPreferenceChannels(NovuModel):
    email: StrictBool
    sms: StrictBool
    in_app: StrictBool = Field(alias="in_app")
    chat: StrictBool
    push: StrictBool


class ScheduleDto(NovuModel):
    is_enabled: StrictBool
    weekly_schedule: dict[str, Any] | None = None


class PatchSubscriberPreferencesDto(NovuModel):
    channels: PatchPreferenceChannelsDto | None = None
    workflow_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=255,
        description="A workflow identifier: update that workflow's preferences; otherwise the global ones.",
    )
    schedule: ScheduleDto | None = Field(default=None, description="Kept with the global preferences.")


class BulkUpdateSubscriberPreferenceItemDto(NovuModel):
    channels: PatchPreferenceChannelsDto
    workflow_id: str = WorkflowId


class BulkUpdateSubscriberPreferencesDto(NovuModel):
    preferences: list[BulkUpdateSubscriberPreferenceItemDto] = Field(max_length=100)


class SubscriberGlobalPreferenceDto(NovuModel):
    enabled: StrictBool
    channels: SubscriberPreferenceChannels
    schedule: ScheduleDto | None = None


class SubscriberPreferenceOverrideDto(NovuModel):
    channel: ChannelType
    source: Literal["subscriber", "template", "workflowOverride"]


class SubscriberPreferencesWorkflowInfoDto(NovuModel):
    slug: str
    identifier: str
    name: str


class SubscriberWorkflowPreferenceDto(NovuModel):
    enabled: StrictBool
    channels: SubscriberPreferenceChannels
    overrides: list[SubscriberPreferenceOverrideDto]
    workflow: SubscriberPreferencesWorkflowInfoDto
    updated_at: str | None = None


class GetSubscriberPreferencesDto(NovuModel):
    global_: SubscriberGlobalPreferenceDto = Field(alias="global")
    workflows: list[SubscriberWorkflowPreferenceDto]


class PreferenceWorkflowDto(NovuModel):
    id: str
    identifier: str
    name: str
    critical: StrictBool
    severity: Literal["high", "medium", "low", "none"]


class GetPreferencesResponseDto(NovuModel):
    level: Literal["global", "template"]
    enabled: StrictBool
    channels: SubscriberPreferenceChannels
    workflow: PreferenceWorkflowDto | None = None
