"""Topic DTOs, named and shaped as Novu's."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from herald.kit.schemas import NovuModel

MAX_SUBSCRIPTIONS_PER_REQUEST = 100

_KEY_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_:")


def _topic_key(value: str) -> str:
    is_email = value.count("@") == 1 and "." in value.split("@")[1] and " " not in value
    if not (set(value) <= _KEY_CHARACTERS or is_email):
        raise ValueError(
            "key must contain only alphanumeric characters (a-z, A-Z, 0-9), hyphens (-), "
            "underscores (_), colons (:), or be a valid email address"
        )
    return value


TopicKey = Annotated[
    str, Field(min_length=1, max_length=100, examples=["task:12345"]), AfterValidator(_topic_key)
]
TopicName = Annotated[str, Field(max_length=100, examples=["Task Title"])]
SubscriberIdItem = Annotated[str, Field(min_length=1, max_length=255)]


class CreateUpdateTopicRequestDto(NovuModel):
    key: TopicKey
    name: TopicName | None = None


class UpdateTopicRequestDto(NovuModel):
    name: TopicName


class TopicResponseDto(NovuModel):
    id: str = Field(alias="_id")
    key: str
    name: str | None = None
    created_at: str
    updated_at: str


class ListTopicsResponseDto(NovuModel):
    data: list[TopicResponseDto]
    next: str | None
    previous: str | None
    total_count: int
    total_count_capped: bool


class DeleteTopicResponseDto(NovuModel):
    acknowledged: bool


class TopicSubscriberIdentifierDto(NovuModel):
    subscriber_id: SubscriberIdItem
    identifier: str | None = Field(default=None, max_length=255)
    name: str | None = Field(default=None, max_length=255)


class DeleteTopicSubscriberIdentifierDto(NovuModel):
    subscriber_id: SubscriberIdItem | None = None
    identifier: str | None = Field(default=None, max_length=511)


class _SubscriptionsRequest(NovuModel):
    subscriber_ids: list[SubscriberIdItem] | None = Field(
        default=None, description="Deprecated by Novu in favour of `subscriptions`."
    )

    def requested_subscriber_ids(self) -> list[str]:
        raise NotImplementedError

    @model_validator(mode="after")
    def _at_most_one_hundred(self) -> _SubscriptionsRequest:
        if len(self.requested_subscriber_ids()) > MAX_SUBSCRIPTIONS_PER_REQUEST:
            raise ValueError(f"at most {MAX_SUBSCRIPTIONS_PER_REQUEST} subscriptions per request")
        return self


class CreateTopicSubscriptionsRequestDto(_SubscriptionsRequest):
    subscriptions: list[SubscriberIdItem | TopicSubscriberIdentifierDto] | None = Field(
        default=None,
        description="Up to 100 subscriberIds, or objects with a subscriberId. Herald keeps one "
        "subscription per subscriber and topic; its identifier is `<topicKey>:<subscriberId>`.",
    )
    name: TopicName | None = Field(default=None, description="The name of a topic created by this call.")

    def requested_subscriber_ids(self) -> list[str]:
        ids = list(self.subscriber_ids or [])
        for item in self.subscriptions or []:
            ids.append(item if isinstance(item, str) else item.subscriber_id)
        return list(dict.fromkeys(ids))


class DeleteTopicSubscriptionsRequestDto(_SubscriptionsRequest):
    subscriptions: list[SubscriberIdItem | DeleteTopicSubscriberIdentifierDto] | None = None

    def requested_subscriber_ids(self) -> list[str]:
        ids = list(self.subscriber_ids or [])
        for item in self.subscriptions or []:
            if isinstance(item, str):
                ids.append(item)
            elif item.subscriber_id is not None:
                ids.append(item.subscriber_id)
            elif item.identifier is not None and ":" in item.identifier:
                ids.append(item.identifier.rsplit(":", 1)[1])
        return list(dict.fromkeys(ids))


class TopicDto(NovuModel):
    id: str = Field(alias="_id")
    key: str
    name: str | None = None


class SubscriberDto(NovuModel):
    id: str = Field(alias="_id")
    subscriber_id: str
    avatar: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


class SubscriptionResponseDto(NovuModel):
    id: str = Field(alias="_id")
    identifier: str
    topic: TopicDto
    subscriber: SubscriberDto | None
    created_at: str
    updated_at: str


class MetaDto(NovuModel):
    total_count: int
    successful: int
    failed: int


class SubscriptionErrorDto(NovuModel):
    subscriber_id: str
    code: str
    message: str


class SubscriptionsResultDto(NovuModel):
    """The answer of creating or deleting subscriptions (Create/DeleteTopicSubscriptionsResponseDto)."""

    data: list[SubscriptionResponseDto]
    meta: MetaDto
    errors: list[SubscriptionErrorDto] | None = None


class TopicSubscriptionResponseDto(NovuModel):
    id: str = Field(alias="_id")
    identifier: str
    created_at: str
    topic: TopicResponseDto
    subscriber: SubscriberDto


class ListTopicSubscriptionsResponseDto(NovuModel):
    data: list[TopicSubscriptionResponseDto]
    next: str | None
    previous: str | None
    total_count: int
    total_count_capped: bool


# Legacy v1 shapes.


class CreateTopicRequestDto(NovuModel):
    key: TopicKey
    name: TopicName


class CreateTopicResponseDto(NovuModel):
    id: str = Field(alias="_id")
    key: str


class LegacyTopicDto(NovuModel):
    id: str = Field(alias="_id")
    organization_id: str = Field(alias="_organizationId")
    environment_id: str = Field(alias="_environmentId")
    key: str
    name: str | None = None
    subscribers: list[str] | None = Field(
        default=None,
        description="The first 1,000 members' subscriberIds (only when one topic is retrieved).",
    )


class LegacyTopicPageDto(NovuModel):
    page: int
    page_size: int
    total_count: int
    data: list[LegacyTopicDto]


class RenameTopicRequestDto(NovuModel):
    name: TopicName


class TopicSubscribersRequestDto(NovuModel):
    subscribers: list[SubscriberIdItem] = Field(
        description="subscriberIds; as many as fit in one request body."
    )


class FailedAssignmentsDto(NovuModel):
    not_found: list[str]


class AssignSubscriberToTopicDto(NovuModel):
    succeeded: list[str]
    failed: FailedAssignmentsDto | None = None


class TopicSubscriberDto(NovuModel):
    organization_id: str = Field(alias="_organizationId")
    environment_id: str = Field(alias="_environmentId")
    subscriber_pk: str = Field(alias="_subscriberId")
    topic_id: str = Field(alias="_topicId")
    topic_key: str
    external_subscriber_id: str
