"""Subscriber DTOs, named and shaped as Novu's."""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StrictBool

from herald.kit.schemas import NovuModel

ChatOrPushProvider = Literal[
    "slack",
    "discord",
    "msteams",
    "webex-messaging",
    "mattermost",
    "ryver",
    "zulip",
    "grafana-on-call",
    "getstream",
    "rocket-chat",
    "whatsapp-business",
    "line",
    "chat-webhook",
    "novu-slack",
    "telegram",
    "sendblue",
    "novu-web-chat",
    "fcm",
    "apns",
    "expo",
    "one-signal",
    "pushpad",
    "push-webhook",
    "pusher-beams",
    "appio",
]

PROFILE_FIELDS = (
    "subscriberId",
    "firstName",
    "lastName",
    "email",
    "phone",
    "avatar",
    "locale",
    "timezone",
)
"""A subscriber's own text fields, by their API names: those its templates see by name (with
`data`), as the subscriber and as the actor."""
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _email(value: str | None) -> str | None:
    if value is not None and (len(value) > 320 or not _EMAIL.match(value)):
        raise ValueError("email must be an email")
    return value


def _phone(value: str | None) -> str | None:
    if value is not None and not _E164.match(value):
        raise ValueError("phone must be a valid phone number in E.164 format, e.g. +14155552671")
    return value


def _locale(value: str | None) -> str | None:
    if value is not None and not _LOCALE.match(value):
        raise ValueError("locale must be a locale such as en or en-US")
    return value


def _timezone(value: str | None) -> str | None:
    if value is not None and value not in _timezones():
        raise ValueError("timezone must be a valid IANA timezone, e.g. America/New_York")
    return value


Email = Annotated[str | None, AfterValidator(_email)]
Phone = Annotated[str | None, AfterValidator(_phone)]
Locale = Annotated[str | None, Field(max_length=64), AfterValidator(_locale)]
Timezone = Annotated[str | None, Field(max_length=64), AfterValidator(_timezone)]
Name = Annotated[str | None, Field(max_length=255)]
SubscriberId = Annotated[str, Field(min_length=1, max_length=255, examples=["user-123"])]


class PatchSubscriberRequestDto(NovuModel):
    first_name: Name = None
    last_name: Name = None
    email: Email = Field(default=None, examples=["john.doe@example.com"])
    phone: Phone = Field(default=None, examples=["+14155552671"])
    avatar: str | None = Field(default=None, max_length=2048)
    locale: Locale = Field(default=None, examples=["en-US"])
    timezone: Timezone = Field(default=None, examples=["America/New_York"])
    data: dict[str, Any] | None = None


class CreateSubscriberRequestDto(PatchSubscriberRequestDto):
    subscriber_id: SubscriberId


class UpdateSubscriberRequestDto(PatchSubscriberRequestDto):
    """The legacy `PUT /v1/subscribers/{subscriberId}` body: the fields to change."""


class ChannelCredentials(NovuModel):
    webhook_url: str | None = Field(default=None, max_length=2048)
    channel: str | None = Field(default=None, max_length=255)
    device_tokens: list[Annotated[str, Field(max_length=4096)]] | None = Field(default=None, max_length=1000)
    alert_uid: str | None = Field(default=None, max_length=255)
    title: str | None = Field(default=None, max_length=255)
    image_url: str | None = Field(default=None, max_length=2048)
    state: str | None = Field(default=None, max_length=255)
    external_url: str | None = Field(default=None, max_length=2048)


class UpdateSubscriberChannelRequestDto(NovuModel):
    provider_id: ChatOrPushProvider
    integration_identifier: str | None = Field(default=None, max_length=255)
    credentials: ChannelCredentials


class UpdateSubscriberOnlineFlagRequestDto(NovuModel):
    is_online: StrictBool


class ChannelSettingsDto(NovuModel):
    provider_id: str
    integration_identifier: str | None = None
    credentials: dict[str, Any]
    integration_id: str = Field(
        alias="_integrationId",
        description="The integration's id; empty while the subscriber's credentials name no integration.",
    )


class SubscriberResponseDto(NovuModel):
    id: str = Field(alias="_id")
    subscriber_id: str
    organization_id: str = Field(alias="_organizationId")
    environment_id: str = Field(alias="_environmentId")
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    avatar: str | None = None
    locale: str | None = None
    timezone: str | None = None
    data: dict[str, Any] | None = None
    channels: list[ChannelSettingsDto] = Field(default_factory=list)
    is_online: StrictBool | None = None
    last_online_at: str | None = None
    deleted: StrictBool = False
    created_at: str
    updated_at: str


class ListSubscribersResponseDto(NovuModel):
    data: list[SubscriberResponseDto]
    next: str | None
    previous: str | None
    total_count: int
    total_count_capped: StrictBool


class RemoveSubscriberResponseDto(NovuModel):
    acknowledged: StrictBool
    status: Literal["deleted"]


class BulkSubscriberCreateDto(NovuModel):
    subscribers: list[dict[str, Any]] = Field(
        max_length=500,
        description="Up to 500 subscribers (CreateSubscriberRequestDto). Each is validated on its own: "
        "a bad one is reported in `failed` and never fails the rest.",
    )


class CreatedSubscriberDto(NovuModel):
    subscriber_id: str


class FailedOperationDto(NovuModel):
    message: str
    subscriber_id: str | None = None


class BulkCreateSubscriberResponseDto(NovuModel):
    created: list[CreatedSubscriberDto]
    updated: list[CreatedSubscriberDto]
    failed: list[FailedOperationDto]


class LegacySubscriberPageDto(NovuModel):
    """`GET /v1/subscribers`: the page-based list of the older clients."""

    page: int
    page_size: int
    total_count: int
    has_more: StrictBool
    data: list[SubscriberResponseDto]
