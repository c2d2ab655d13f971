"""In-app feed DTOs, named and shaped as Novu's: the Inbox's `InboxNotificationDto` (also the
v2 server routes' answer), the raw message document (realtime events, v1 feed routes), counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from herald.kit.schemas import NovuModel

Severity = Literal["high", "medium", "low", "none"]
ChannelType = Literal["in_app", "email", "sms", "chat", "push"]
ActionType = Literal["primary", "secondary"]
RedirectTarget = Literal["_self", "_blank", "_parent", "_top", "_unfencedTop"]


class RedirectDto(NovuModel):
    url: str
    target: RedirectTarget | None = None


class InboxActionDto(NovuModel):
    label: str
    is_completed: bool
    redirect: RedirectDto | None = None


class InboxSubscriberDto(NovuModel):
    id: str
    subscriber_id: str
    first_name: str | None = None
    last_name: str | None = None
    avatar: str | None = None


class NotificationWorkflowDto(NovuModel):
    id: str
    identifier: str
    name: str
    critical: bool
    tags: list[str] = Field(default_factory=list)
    severity: Severity


class InboxNotificationDto(NovuModel):
    id: str
    transaction_id: str
    subject: str | None = None
    body: str
    to: InboxSubscriberDto
    is_read: bool
    is_seen: bool
    is_archived: bool
    is_snoozed: bool
    snoozed_until: str | None = None
    delivered_at: list[str] | None = None
    created_at: str
    read_at: str | None = None
    first_seen_at: str | None = None
    archived_at: str | None = None
    avatar: str | None = None
    primary_action: InboxActionDto | None = None
    secondary_action: InboxActionDto | None = None
    channel_type: ChannelType
    tags: list[str] = Field(default_factory=list)
    data: dict[str, Any] | None = None
    redirect: RedirectDto | None = None
    workflow: NotificationWorkflowDto | None = None
    severity: Severity


class InboxNotificationsPageDto(NovuModel):
    """Not wrapped in `data`-only envelopes: the clients read `data`, `hasMore` and `filter`."""

    data: list[InboxNotificationDto]
    has_more: bool
    filter: dict[str, Any]


class NotificationCountDto(NovuModel):
    count: int
    filter: dict[str, Any]


class SeverityCountsDto(NovuModel):
    high: int = 0
    medium: int = 0
    low: int = 0
    none: int = 0


class UnreadCountsDto(NovuModel):
    total: int
    severity: SeverityCountsDto


class MessageSubscriberDto(NovuModel):
    id: str = Field(alias="_id")
    subscriber_id: str
    organization_id: str = Field(alias="_organizationId")
    environment_id: str = Field(alias="_environmentId")
    deleted: bool = False
    created_at: str
    updated_at: str
    first_name: str | None = None
    last_name: str | None = None
    avatar: str | None = None


class MessageDocumentDto(NovuModel):
    """One in-app message as Novu stores it: the `notification_received` event's `message`,
    the v1 feed's items and the v1 message answers (`cta` is always present)."""

    id: str = Field(alias="_id")
    template_id: str = Field(alias="_templateId")
    environment_id: str = Field(alias="_environmentId")
    organization_id: str = Field(alias="_organizationId")
    notification_id: str = Field(alias="_notificationId")
    subscriber_id: str = Field(alias="_subscriberId")
    job_id: str = Field(alias="_jobId")
    feed_id: str | None = Field(default=None, alias="_feedId")
    transaction_id: str
    template_identifier: str
    provider_id: str | None = None
    channel: ChannelType
    subject: str | None = None
    content: str
    avatar: str | None = None
    read: bool
    seen: bool
    archived: bool
    snoozed_until: str | None = None
    delivered_at: list[str]
    created_at: str
    updated_at: str
    last_read_date: str | None = None
    first_seen_date: str | None = None
    last_seen_date: str | None = None
    archived_at: str | None = None
    cta: dict[str, Any]
    status: Literal["sent", "error", "warning"]
    error_text: str | None = None
    tags: list[str]
    data: dict[str, Any] | None = None
    payload: dict[str, Any] = Field(default_factory=dict)
    overrides: dict[str, Any] = Field(default_factory=dict)
    severity: Severity
    critical: bool
    subscriber: MessageSubscriberDto
    workflow: NotificationWorkflowDto | None = None


class FeedResponseDto(NovuModel):
    """`GET /v1/subscribers/{id}/notifications/feed`."""

    total_count: int | None = None
    has_more: bool
    data: list[MessageDocumentDto]
    page_size: int
    page: int


class UnseenCountResponse(NovuModel):
    count: int


class SnoozeNotificationDto(NovuModel):
    snooze_until: datetime = Field(description="When the notification comes back (ISO 8601, in the future).")


class ActionTypeDto(NovuModel):
    action_type: ActionType


class MarkAsSeenDto(NovuModel):
    notification_ids: list[str] | None = Field(default=None, max_length=1000)
    tags: Any = Field(default=None, description='A list of tags, {"or": [...]} or {"and": [{"or": [...]}]}.')
    data: Any = Field(
        default=None, description="A JSON object (or its text) the notifications' data matches."
    )
    context_keys: list[str] | None = None


class UpdateAllNotificationsDto(NovuModel):
    tags: Any = Field(default=None, description='A list of tags, {"or": [...]} or {"and": [{"or": [...]}]}.')
    data: Any = Field(
        default=None, description="A JSON object (or its text) the notifications' data matches."
    )
    context_keys: list[str] | None = None


class MessageMarkAsRequestDto(NovuModel):
    message_id: str | list[str] = Field(description="One message id or a list of them.")
    mark_as: Literal["read", "seen", "unread", "unseen"]


class MarkAllMessageAsRequestDto(NovuModel):
    feed_identifier: str | list[str] | None = None
    mark_as: Literal["read", "seen", "unread", "unseen"]


class MarkMessageActionAsSeenDto(NovuModel):
    status: Literal["pending", "done"]
    payload: dict[str, Any] | None = None
