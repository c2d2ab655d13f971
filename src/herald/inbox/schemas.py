"""Inbox session and preference DTOs, named and shaped as Novu's."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool

from herald.feed.schemas import UnreadCountsDto
from herald.kit.schemas import NovuModel
from herald.preferences.schemas import PatchPreferenceChannelsDto, SubscriberPreferenceChannels
from herald.subscribers.schemas import CreateSubscriberRequestDto


class SubscriberSessionRequestDto(NovuModel):
    application_identifier: str = Field(
        min_length=1, max_length=64, description="The environment's identifier."
    )
    subscriber: str | CreateSubscriberRequestDto | None = Field(
        default=None, description="The subscriberId, or a subscriber to create or update."
    )
    subscriber_id: str | None = Field(
        default=None, min_length=1, max_length=255, description="Older clients."
    )
    subscriber_hash: str | None = Field(
        default=None, max_length=256, description="Lowercase hex HMAC-SHA256 of the subscriberId."
    )
    context: dict[str, Any] | None = None
    default_schedule: dict[str, Any] | None = None


class SubscriberSessionResponseDto(NovuModel):
    token: str
    total_unread_count: int
    unread_count: UnreadCountsDto
    remove_novu_branding: bool = False
    is_development_mode: bool
    max_snooze_duration_hours: int


class InboxPreferenceWorkflowDto(NovuModel):
    id: str
    identifier: str
    name: str
    critical: StrictBool
    tags: list[str] = Field(default_factory=list)
    severity: Literal["high", "medium", "low", "none"]


class InboxPreferenceDto(NovuModel):
    level: Literal["global", "template"]
    enabled: StrictBool
    channels: SubscriberPreferenceChannels
    overrides: list[dict[str, Any]] | None = None
    workflow: InboxPreferenceWorkflowDto | None = None
    schedule: dict[str, Any] | None = None


class UpdateInboxPreferenceDto(PatchPreferenceChannelsDto):
    """`PATCH /v1/inbox/preferences[/{workflowId}]`: the channels to switch."""

    schedule: dict[str, Any] | None = None


class BulkInboxPreferenceItemDto(PatchPreferenceChannelsDto):
    workflow_id: str = Field(min_length=1, max_length=255)


class BulkInboxPreferencesDto(NovuModel):
    preferences: list[BulkInboxPreferenceItemDto] = Field(max_length=100)
