"""Message DTOs for the secret-key API, named and shaped as Novu's (`MessagesResponseDto`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool

from herald.kit.schemas import NovuModel
from herald.subscribers.schemas import SubscriberResponseDto

ChannelType = Literal["in_app", "email", "sms", "chat", "push"]
MessageStatus = Literal["sent", "error", "warning"]
ButtonType = Literal["primary", "secondary"]


class MessageCtaDataDto(NovuModel):
    url: str | None = None
    target: str | None = None


class MessageButtonDto(NovuModel):
    type: ButtonType
    content: str
    result_content: str | None = None
    url: str | None = None
    target: str | None = None


class MessageActionResultDto(NovuModel):
    type: ButtonType | None = None
    payload: dict[str, Any] | None = None


class MessageActionDto(NovuModel):
    status: Literal["pending", "done"] | None = None
    buttons: list[MessageButtonDto] = Field(default_factory=list)
    result: MessageActionResultDto | None = None


class MessageCtaDto(NovuModel):
    type: Literal["redirect"] | None = None
    data: MessageCtaDataDto | None = None
    action: MessageActionDto | None = None


class MessageResponseDto(NovuModel):
    id: str = Field(alias="_id")
    template_id: str | None = Field(default=None, alias="_templateId")
    environment_id: str = Field(alias="_environmentId")
    organization_id: str = Field(alias="_organizationId")
    notification_id: str = Field(alias="_notificationId")
    subscriber_id: str = Field(alias="_subscriberId", description="The subscriber's internal `_id`.")
    subscriber: SubscriberResponseDto | None = None
    template_identifier: str
    step_id: str = Field(description="The `stepId` of the workflow step that sent the message.")
    created_at: str
    delivered_at: list[str] = Field(default_factory=list)
    last_seen_date: str | None = None
    last_read_date: str | None = None
    content: str | None = None
    transaction_id: str
    subject: str | None = None
    channel: ChannelType
    read: StrictBool
    seen: StrictBool
    archived: StrictBool
    snoozed_until: str | None = None
    email: str | None = None
    phone: str | None = None
    direct_webhook_url: str | None = None
    provider_id: str | None = None
    cta: MessageCtaDto
    status: MessageStatus
    error_text: str | None = None
    tags: list[str] = Field(default_factory=list)
    data: dict[str, Any] | None = None


class MessagesResponseDto(NovuModel):
    data: list[MessageResponseDto]
    page: int
    page_size: int
    has_more: StrictBool
    total_count: int


class DeleteMessageResponseDto(NovuModel):
    acknowledged: StrictBool
    status: Literal["deleted"]
