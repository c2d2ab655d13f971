"""Trigger request and response bodies, named as Novu's DTOs."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NamedTuple

from pydantic import Field

from herald.kit.schemas import NovuModel
from herald.subscribers.schemas import CreateSubscriberRequestDto, UpdateSubscriberChannelRequestDto

MAX_RECIPIENTS = 100
MAX_BULK_EVENTS = 100
MAX_CHANNELS = 50

TriggerStatus = Literal[
    "error",
    "trigger_not_active",
    "no_workflow_active_steps_defined",
    "no_workflow_steps_defined",
    "processed",
    "no_tenant_found",
    "invalid_recipients",
]


class TopicPayloadDto(NovuModel):
    """A topic recipient: every member except those in `exclude` (and the actor)."""

    type: Literal["Topic"]
    topic_key: str = Field(min_length=1, max_length=100)
    exclude: list[Annotated[str, Field(max_length=255)]] | None = Field(default=None, max_length=10_000)


class SubscriberPayloadDto(CreateSubscriberRequestDto):
    """A subscriber recipient given in full: created, or updated with the fields given; the
    credentials in `channels` are set for their providers."""

    channels: list[UpdateSubscriberChannelRequestDto] | None = Field(default=None, max_length=MAX_CHANNELS)


SubscriberIdString = Annotated[str, Field(min_length=1, max_length=255)]
Recipient = Annotated[
    SubscriberIdString | TopicPayloadDto | SubscriberPayloadDto, Field(union_mode="left_to_right")
]
RecipientsField = Recipient | Annotated[list[Recipient], Field(min_length=1, max_length=MAX_RECIPIENTS)]
ActorField = Annotated[SubscriberIdString | SubscriberPayloadDto, Field(union_mode="left_to_right")]


class TenantPayloadDto(NovuModel):
    identifier: str | None = Field(default=None, max_length=255)
    name: str | None = Field(default=None, max_length=255)
    data: dict[str, Any] | None = None


class _TriggerFields(NovuModel):
    """What a trigger and a broadcast both carry."""

    name: str = Field(min_length=1, max_length=255, description="The identifier of the workflow to trigger.")
    payload: dict[str, Any] = Field(default_factory=dict)
    overrides: dict[str, Any] = Field(default_factory=dict)
    transaction_id: str | None = Field(default=None, min_length=1, max_length=255)
    actor: ActorField | None = None
    tenant: Annotated[SubscriberIdString | TenantPayloadDto, Field(union_mode="left_to_right")] | None = None
    context: dict[str, Any] | None = None


class TriggerEventRequestDto(_TriggerFields):
    to: RecipientsField = Field(
        description="A subscriberId, a subscriber, a topic, or a list of up to 100 of them."
    )


class TriggerEventToAllRequestDto(_TriggerFields):
    """A trigger for every subscriber of the environment."""


class BulkTriggerEventDto(NovuModel):
    events: list[dict[str, Any]] = Field(
        max_length=MAX_BULK_EVENTS,
        description="Up to 100 trigger bodies (TriggerEventRequestDto); each is validated and "
        "answered on its own, so one bad event does not fail the others.",
    )


class TriggerEventResponseDto(NovuModel):
    acknowledged: bool
    status: TriggerStatus
    error: list[str] | None = None
    transaction_id: str | None = None


class TriggerAnswer(NamedTuple):
    """One trigger's answer as the service makes it: a `TriggerEventResponseDto` without the
    validation, which the hundred answers of a bulk paid for nothing (their values are Herald's
    own), and whose JSON (`as_json`) is the DTO's, as the API answers it."""

    status: TriggerStatus
    transaction_id: str | None
    error: list[str] | None = None
    acknowledged: bool = True

    def as_dto(self) -> TriggerEventResponseDto:
        return TriggerEventResponseDto(
            acknowledged=self.acknowledged,
            status=self.status,
            error=self.error,
            transaction_id=self.transaction_id,
        )

    def as_json(self) -> dict[str, Any]:
        """The DTO's fields by alias and in its order, without those that are None."""
        fields: dict[str, Any] = {"acknowledged": self.acknowledged, "status": self.status}
        if self.error is not None:
            fields["error"] = self.error
        if self.transaction_id is not None:
            fields["transactionId"] = self.transaction_id
        return fields
