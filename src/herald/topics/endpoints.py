"""`/v2/topics`, a subscriber's subscriptions, and the legacy `/v1/topics` routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from herald.auth.dependencies import CurrentEnvironment, Session
from herald.kit.pagination import Cursor, CursorPage
from herald.kit.schemas import ERROR_RESPONSES, Envelope
from herald.topics import service
from herald.topics.schemas import (
    AssignSubscriberToTopicDto,
    CreateTopicRequestDto,
    CreateTopicResponseDto,
    CreateTopicSubscriptionsRequestDto,
    CreateUpdateTopicRequestDto,
    DeleteTopicResponseDto,
    DeleteTopicSubscriptionsRequestDto,
    LegacyTopicDto,
    LegacyTopicPageDto,
    ListTopicsResponseDto,
    ListTopicSubscriptionsResponseDto,
    RenameTopicRequestDto,
    SubscriptionsResultDto,
    TopicResponseDto,
    TopicSubscriberDto,
    TopicSubscribersRequestDto,
    TopicSubscriptionResponseDto,
    UpdateTopicRequestDto,
)

router = APIRouter(prefix="/v2/topics", tags=["Topics"], responses=ERROR_RESPONSES)
subscriber_router = APIRouter(prefix="/v2/subscribers", tags=["Subscribers"], responses=ERROR_RESPONSES)
v1_router = APIRouter(prefix="/v1/topics", tags=["Topics"], responses=ERROR_RESPONSES)

TopicKeyPath = Annotated[str, Path(alias="topicKey", min_length=1, max_length=100)]
SubscriberIdPath = Annotated[str, Path(alias="subscriberId", min_length=1, max_length=255)]


def _subscriptions(page: CursorPage[TopicSubscriptionResponseDto]) -> ListTopicSubscriptionsResponseDto:
    return ListTopicSubscriptionsResponseDto(
        data=page.items,
        next=page.next,
        previous=page.previous,
        total_count=page.total_count,
        total_count_capped=page.total_count_capped,
    )


@router.get("", operation_id="TopicsController_listTopics")
async def list_topics(
    session: Session,
    scope: CurrentEnvironment,
    cursor: Cursor,
    key: Annotated[str | None, Query(max_length=100)] = None,
    name: Annotated[str | None, Query(max_length=100)] = None,
) -> ListTopicsResponseDto:
    """List topics, filtered by exact **key** or a part of the **name**; paged with `after` /
    `before` cursors (topic `_id`s). `orderBy` is one of `_id`, `createdAt`, `updatedAt`, `key`."""
    page = await service.search_topics(session, scope, cursor, key=key, name=name)
    return ListTopicsResponseDto(
        data=page.items,
        next=page.next,
        previous=page.previous,
        total_count=page.total_count,
        total_count_capped=page.total_count_capped,
    )


@router.post(
    "",
    status_code=201,
    operation_id="TopicsController_upsertTopic",
    responses={
        200: {"description": "The topic existed and was updated", "model": Envelope[TopicResponseDto]}
    },
)
async def upsert_topic(
    body: CreateUpdateTopicRequestDto,
    response: Response,
    session: Session,
    scope: CurrentEnvironment,
    fail_if_exists: Annotated[bool, Query(alias="failIfExists")] = False,
) -> Envelope[TopicResponseDto]:
    """Create a topic (201), or update the name of the existing one with this key (200). With
    `failIfExists=true` an existing topic gives 409, whose body is the existing topic."""
    topic, created = await service.upsert_topic(session, scope, body, fail_if_exists=fail_if_exists)
    response.status_code = 201 if created else 200
    return Envelope(data=topic)


@router.get("/{topicKey}", operation_id="TopicsController_getTopic")
async def get_topic(
    key: TopicKeyPath, session: Session, scope: CurrentEnvironment
) -> Envelope[TopicResponseDto]:
    """Retrieve a topic by its key."""
    return Envelope(data=await service.get_topic(session, scope, key))


@router.patch("/{topicKey}", operation_id="TopicsController_updateTopic")
async def update_topic(
    key: TopicKeyPath, body: UpdateTopicRequestDto, session: Session, scope: CurrentEnvironment
) -> Envelope[TopicResponseDto]:
    """Rename a topic."""
    return Envelope(data=service.to_response(await service.rename_topic(session, scope, key, body.name)))


@router.delete("/{topicKey}", operation_id="TopicsController_deleteTopic")
async def delete_topic(
    key: TopicKeyPath, session: Session, scope: CurrentEnvironment
) -> Envelope[DeleteTopicResponseDto]:
    """Delete a topic and all its subscriptions."""
    await service.delete_topic(session, scope, key)
    return Envelope(data=DeleteTopicResponseDto(acknowledged=True))


@router.get("/{topicKey}/subscriptions", operation_id="TopicsController_listTopicSubscriptions")
async def list_topic_subscriptions(
    key: TopicKeyPath,
    session: Session,
    scope: CurrentEnvironment,
    cursor: Cursor,
    subscriber_id: Annotated[str | None, Query(alias="subscriberId", max_length=255)] = None,
) -> ListTopicSubscriptionsResponseDto:
    """List a topic's subscriptions, paged with `after` / `before` cursors (subscription `_id`s);
    `orderBy` is `_id` or `createdAt`."""
    return _subscriptions(
        await service.list_topic_subscriptions(session, scope, key, cursor, subscriber_id=subscriber_id)
    )


@router.post(
    "/{topicKey}/subscriptions", status_code=201, operation_id="TopicsController_createTopicSubscriptions"
)
async def create_topic_subscriptions(
    key: TopicKeyPath, body: CreateTopicSubscriptionsRequestDto, session: Session, scope: CurrentEnvironment
) -> SubscriptionsResultDto:
    """Subscribe up to 100 existing subscribers to the topic, creating the topic if needed.
    Subscribers that do not exist are reported in `errors` (not created); when none succeeds
    the answer is 400."""
    return await service.subscribe(session, scope, key, body)


@router.delete("/{topicKey}/subscriptions", operation_id="TopicsController_deleteTopicSubscriptions")
async def delete_topic_subscriptions(
    key: TopicKeyPath, body: DeleteTopicSubscriptionsRequestDto, session: Session, scope: CurrentEnvironment
) -> SubscriptionsResultDto:
    """Unsubscribe up to 100 subscribers from the topic; the ones without a subscription are
    reported in `errors`."""
    return await service.unsubscribe(session, scope, key, body)


@subscriber_router.get(
    "/{subscriberId}/subscriptions", operation_id="SubscribersController_listSubscriberTopics"
)
async def list_subscriber_topics(
    subscriber_id: SubscriberIdPath,
    session: Session,
    scope: CurrentEnvironment,
    cursor: Cursor,
    key: Annotated[str | None, Query(max_length=100)] = None,
) -> ListTopicSubscriptionsResponseDto:
    """The topics a subscriber belongs to, paged with cursors; filter by topic **key**."""
    return _subscriptions(
        await service.list_subscriber_subscriptions(session, scope, subscriber_id, cursor, key=key)
    )


@v1_router.post("", status_code=201, operation_id="TopicsV1Controller_createTopic")
async def create_topic_v1(
    body: CreateTopicRequestDto, session: Session, scope: CurrentEnvironment
) -> Envelope[CreateTopicResponseDto]:
    """Legacy create; an existing key answers with the existing topic."""
    topic = await service.create_topic_v1(session, scope, body.key, body.name)
    return Envelope(data=CreateTopicResponseDto(id=topic.id, key=topic.key))


@v1_router.get("", operation_id="TopicsV1Controller_listTopics")
async def list_topics_v1(
    session: Session,
    scope: CurrentEnvironment,
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
    page_size: Annotated[int | None, Query(alias="pageSize", ge=1, le=100)] = None,
    limit: Annotated[int | None, Query(ge=1, le=100, description="Alias of pageSize.")] = None,
    key: Annotated[str | None, Query(max_length=100)] = None,
    name: Annotated[str | None, Query(max_length=100)] = None,
) -> LegacyTopicPageDto:
    """Legacy page-based list, filtered by exact key or a part of the name."""
    size = page_size or limit or 10
    return await service.list_topics_v1(session, scope, page, size, key=key, name=name)


@v1_router.get("/{topicKey}", operation_id="TopicsV1Controller_getTopic")
async def get_topic_v1(
    key: TopicKeyPath, session: Session, scope: CurrentEnvironment
) -> Envelope[LegacyTopicDto]:
    """Legacy retrieve; `subscribers` lists the subscriberIds of the first 1,000 members."""
    return Envelope(data=await service.get_topic_v1(session, scope, key))


@v1_router.patch("/{topicKey}", operation_id="TopicsV1Controller_renameTopic")
async def rename_topic_v1(
    key: TopicKeyPath, body: RenameTopicRequestDto, session: Session, scope: CurrentEnvironment
) -> Envelope[LegacyTopicDto]:
    """Legacy rename."""
    return Envelope(data=service.to_legacy(await service.rename_topic(session, scope, key, body.name)))


@v1_router.delete(
    "/{topicKey}", status_code=204, response_class=Response, operation_id="TopicsV1Controller_deleteTopic"
)
async def delete_topic_v1(key: TopicKeyPath, session: Session, scope: CurrentEnvironment) -> None:
    """Legacy delete: only a topic without members can be deleted (409 otherwise)."""
    await service.delete_topic(session, scope, key, only_if_empty=True)


@v1_router.post(
    "/{topicKey}/subscribers", operation_id="TopicsV1Controller_assign", response_model_exclude_none=True
)
async def add_subscribers_v1(
    key: TopicKeyPath, body: TopicSubscribersRequestDto, session: Session, scope: CurrentEnvironment
) -> Envelope[AssignSubscriberToTopicDto]:
    """Add existing subscribers to the topic (created when missing). Takes as many
    subscriberIds as fit in one request body; unknown ones come back in `failed.notFound`."""
    return Envelope(data=await service.add_subscribers_v1(session, scope, key, body.subscribers))


@v1_router.post(
    "/{topicKey}/subscribers/removal",
    status_code=204,
    response_class=Response,
    operation_id="TopicsV1Controller_removeSubscribers",
)
async def remove_subscribers_v1(
    key: TopicKeyPath, body: TopicSubscribersRequestDto, session: Session, scope: CurrentEnvironment
) -> None:
    """Remove subscribers from the topic."""
    await service.remove_subscribers_v1(session, scope, key, body.subscribers)


@v1_router.get(
    "/{topicKey}/subscribers/{externalSubscriberId}", operation_id="TopicsV1Controller_getTopicSubscriber"
)
async def get_topic_subscriber_v1(
    key: TopicKeyPath,
    subscriber_id: Annotated[str, Path(alias="externalSubscriberId", min_length=1, max_length=255)],
    session: Session,
    scope: CurrentEnvironment,
) -> Envelope[TopicSubscriberDto]:
    """Whether a subscriber belongs to the topic: its membership, or 404."""
    return Envelope(data=await service.get_topic_subscriber_v1(session, scope, key, subscriber_id))
