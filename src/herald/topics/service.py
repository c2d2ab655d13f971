"""Topics and their memberships (v2 and the legacy v1 routes)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.errors import HeraldError, NotFoundError
from herald.kit.pagination import CursorPage, CursorParams
from herald.kit.scope import EnvironmentScope
from herald.kit.time import iso
from herald.models import Subscriber, Topic, TopicSubscription
from herald.subscribers import service as subscribers
from herald.subscribers.repository import SubscriberRepository
from herald.topics.repository import TopicRepository, TopicSubscriptionRepository
from herald.topics.schemas import (
    AssignSubscriberToTopicDto,
    CreateTopicSubscriptionsRequestDto,
    CreateUpdateTopicRequestDto,
    DeleteTopicSubscriptionsRequestDto,
    FailedAssignmentsDto,
    LegacyTopicDto,
    LegacyTopicPageDto,
    MetaDto,
    SubscriberDto,
    SubscriptionErrorDto,
    SubscriptionResponseDto,
    SubscriptionsResultDto,
    TopicDto,
    TopicResponseDto,
    TopicSubscriberDto,
    TopicSubscriptionResponseDto,
)

LEGACY_MEMBERS_SHOWN = 1_000


def to_response(topic: Topic) -> TopicResponseDto:
    return TopicResponseDto(
        id=topic.id,
        key=topic.key,
        name=topic.name,
        created_at=iso(topic.created_at),
        updated_at=iso(topic.updated_at),
    )


async def find(session: AsyncSession, scope: EnvironmentScope, key: str) -> Topic:
    topic = await TopicRepository(session, scope).by_key(key)
    if topic is None:
        raise NotFoundError(f"Topic with key {key} not found")
    return topic


async def get_topic(session: AsyncSession, scope: EnvironmentScope, key: str) -> TopicResponseDto:
    return to_response(await find(session, scope, key))


async def upsert_topic(
    session: AsyncSession,
    scope: EnvironmentScope,
    request: CreateUpdateTopicRequestDto,
    *,
    fail_if_exists: bool = False,
) -> tuple[TopicResponseDto, bool]:
    """Create the topic, or rename the existing one when a name is given; True when created."""
    repository = TopicRepository(session, scope)
    topic = await repository.by_key(request.key)
    if topic is not None and fail_if_exists:
        raise HeraldError(
            409,
            f"Topic with key {request.key} already exists",
            extra=to_response(topic).model_dump(by_alias=True),
        )
    if topic is None:
        topic = await _insert(repository, request.key, request.name)
        if topic is not None:
            return to_response(topic), True
        topic = await find(session, scope, request.key)
    if request.name is not None:
        topic.name = request.name
        await session.flush()
    return to_response(topic), False


async def rename_topic(session: AsyncSession, scope: EnvironmentScope, key: str, name: str) -> Topic:
    topic = await find(session, scope, key)
    topic.name = name
    await session.flush()
    return topic


async def delete_topic(
    session: AsyncSession, scope: EnvironmentScope, key: str, *, only_if_empty: bool = False
) -> None:
    """Delete the topic and its subscriptions. The legacy route refuses a topic with members (409)."""
    topic = await find(session, scope, key)
    if only_if_empty and await TopicSubscriptionRepository(session, scope).has_members(topic.id):
        raise HeraldError(
            409,
            f"Topic with key {key} in the environment {scope.environment_id} can't be deleted "
            "as it still has subscribers assigned",
        )
    await TopicRepository(session, scope).remove(topic)


async def search_topics(
    session: AsyncSession, scope: EnvironmentScope, params: CursorParams, *, key: str | None, name: str | None
) -> CursorPage[TopicResponseDto]:
    page = await TopicRepository(session, scope).search(params, key=key, name=name)
    return page.map(lambda row: to_response(row[0]))


async def subscribe(
    session: AsyncSession, scope: EnvironmentScope, key: str, request: CreateTopicSubscriptionsRequestDto
) -> SubscriptionsResultDto:
    """Subscribe existing subscribers; unknown subscriberIds are reported, never created. The
    topic is created when it does not exist yet. All failing gives 400 with the same body."""
    topic = await _find_or_create(session, scope, key, request.name or key)
    requested = request.requested_subscriber_ids()
    found = await SubscriberRepository(session, scope).by_subscriber_ids(requested)
    memberships_repository = TopicSubscriptionRepository(session, scope)
    pks = [row.id for row in found.values()]
    await memberships_repository.add_members(topic.id, pks)
    memberships = await memberships_repository.memberships(topic.id, pks)
    errors = [
        SubscriptionErrorDto(
            subscriber_id=subscriber_id,
            code="SUBSCRIBER_NOT_FOUND",
            message=f"Subscriber with ID '{subscriber_id}' could not be found.",
        )
        for subscriber_id in requested
        if subscriber_id not in found
    ]
    data = [
        _subscription(memberships[found[subscriber_id].id], topic, found[subscriber_id])
        for subscriber_id in requested
        if subscriber_id in found
    ]
    return _result(requested, data, errors)


async def unsubscribe(
    session: AsyncSession, scope: EnvironmentScope, key: str, request: DeleteTopicSubscriptionsRequestDto
) -> SubscriptionsResultDto:
    topic = await find(session, scope, key)
    requested = request.requested_subscriber_ids()
    found = await SubscriberRepository(session, scope).by_subscriber_ids(requested)
    memberships_repository = TopicSubscriptionRepository(session, scope)
    memberships = await memberships_repository.memberships(topic.id, [row.id for row in found.values()])
    errors: list[SubscriptionErrorDto] = []
    data: list[SubscriptionResponseDto] = []
    for subscriber_id in requested:
        subscriber = found.get(subscriber_id)
        if subscriber is None:
            errors.append(
                SubscriptionErrorDto(
                    subscriber_id=subscriber_id,
                    code="SUBSCRIBER_NOT_FOUND",
                    message=f"Subscriber with ID '{subscriber_id}' could not be found.",
                )
            )
        elif subscriber.id not in memberships:
            errors.append(
                SubscriptionErrorDto(
                    subscriber_id=subscriber_id,
                    code="SUBSCRIPTION_NOT_FOUND",
                    message=f"Subscription for subscriber '{subscriber_id}' not found.",
                )
            )
        else:
            data.append(_subscription(memberships[subscriber.id], topic, subscriber))
    await memberships_repository.remove_members(topic.id, list(memberships))
    return _result(requested, data, errors)


async def list_topic_subscriptions(
    session: AsyncSession,
    scope: EnvironmentScope,
    key: str,
    params: CursorParams,
    *,
    subscriber_id: str | None,
) -> CursorPage[TopicSubscriptionResponseDto]:
    topic = await find(session, scope, key)
    page = await TopicSubscriptionRepository(session, scope).list_for_topic(
        topic.id, params, subscriber_id=subscriber_id
    )
    topic_response = to_response(topic)
    return page.map(lambda row: _listed_subscription(row[0], topic_response, row[1]))


async def list_subscriber_subscriptions(
    session: AsyncSession,
    scope: EnvironmentScope,
    subscriber_id: str,
    params: CursorParams,
    *,
    key: str | None,
) -> CursorPage[TopicSubscriptionResponseDto]:
    subscriber = await subscribers.find(session, scope, subscriber_id)
    page = await TopicSubscriptionRepository(session, scope).list_for_subscriber(
        subscriber.id, params, key=key
    )
    return page.map(lambda row: _listed_subscription(row[0], to_response(row[1]), subscriber))


# Legacy v1.


async def create_topic_v1(
    session: AsyncSession, scope: EnvironmentScope, key: str, name: str
) -> TopicResponseDto:
    """Create the topic; an existing key is answered with the existing topic, unchanged."""
    return to_response(await _find_or_create(session, scope, key, name))


def to_legacy(topic: Topic, members: list[str] | None = None) -> LegacyTopicDto:
    return LegacyTopicDto(
        id=topic.id,
        organization_id=topic.organization_id,
        environment_id=topic.environment_id,
        key=topic.key,
        name=topic.name,
        subscribers=members,
    )


async def get_topic_v1(session: AsyncSession, scope: EnvironmentScope, key: str) -> LegacyTopicDto:
    topic = await find(session, scope, key)
    members = await TopicSubscriptionRepository(session, scope).first_member_ids(
        topic.id, LEGACY_MEMBERS_SHOWN
    )
    return to_legacy(topic, members)


async def list_topics_v1(
    session: AsyncSession,
    scope: EnvironmentScope,
    page: int,
    page_size: int,
    *,
    key: str | None,
    name: str | None,
) -> LegacyTopicPageDto:
    rows, total = await TopicRepository(session, scope).page(page, page_size, key=key, name=name)
    return LegacyTopicPageDto(
        page=page, page_size=page_size, total_count=total, data=[to_legacy(row) for row in rows]
    )


async def add_subscribers_v1(
    session: AsyncSession, scope: EnvironmentScope, key: str, subscriber_ids: list[str]
) -> AssignSubscriberToTopicDto:
    """Add existing subscribers (as many as one request carries) to the topic, creating the topic
    when it does not exist; unknown subscriberIds come back in `failed.notFound`."""
    topic = await _find_or_create(session, scope, key, f"Autogenerated-{key}")
    requested = list(dict.fromkeys(subscriber_ids))
    internal_ids = await SubscriberRepository(session, scope).internal_ids(requested)
    await TopicSubscriptionRepository(session, scope).add_members(topic.id, list(internal_ids.values()))
    not_found = [subscriber_id for subscriber_id in requested if subscriber_id not in internal_ids]
    return AssignSubscriberToTopicDto(
        succeeded=[subscriber_id for subscriber_id in requested if subscriber_id in internal_ids],
        failed=FailedAssignmentsDto(not_found=not_found) if not_found else None,
    )


async def remove_subscribers_v1(
    session: AsyncSession, scope: EnvironmentScope, key: str, subscriber_ids: list[str]
) -> None:
    topic = await TopicRepository(session, scope).by_key(key)
    if topic is None:
        return
    internal_ids = await SubscriberRepository(session, scope).internal_ids(subscriber_ids)
    await TopicSubscriptionRepository(session, scope).remove_members(topic.id, list(internal_ids.values()))


async def get_topic_subscriber_v1(
    session: AsyncSession, scope: EnvironmentScope, key: str, subscriber_id: str
) -> TopicSubscriberDto:
    topic = await TopicRepository(session, scope).by_key(key)
    subscriber = await SubscriberRepository(session, scope).by_subscriber_id(subscriber_id)
    membership = (
        await TopicSubscriptionRepository(session, scope).member(topic.id, subscriber.id)
        if topic is not None and subscriber is not None
        else None
    )
    if membership is None or topic is None or subscriber is None:
        raise NotFoundError(f"Subscriber {subscriber_id} not found for topic {key}")
    return TopicSubscriberDto(
        organization_id=membership.organization_id,
        environment_id=membership.environment_id,
        subscriber_pk=subscriber.id,
        topic_id=topic.id,
        topic_key=topic.key,
        external_subscriber_id=subscriber.subscriber_id,
    )


async def _find_or_create(session: AsyncSession, scope: EnvironmentScope, key: str, name: str) -> Topic:
    repository = TopicRepository(session, scope)
    topic = await repository.by_key(key)
    if topic is None:
        topic = await _insert(repository, key, name) or await find(session, scope, key)
    return topic


async def _insert(repository: TopicRepository, key: str, name: str | None) -> Topic | None:
    """Insert in a savepoint; None when a concurrent request created the same key first."""
    topic = Topic(key=key, name=name)
    try:
        async with repository.session.begin_nested():
            repository.add(topic)
            await repository.session.flush()
    except IntegrityError:
        return None
    return topic


def _identifier(topic_key: str, subscriber_id: str) -> str:
    return f"{topic_key}:{subscriber_id}"


def _subscriber(subscriber: Subscriber) -> SubscriberDto:
    return SubscriberDto(
        id=subscriber.id,
        subscriber_id=subscriber.subscriber_id,
        avatar=subscriber.avatar,
        first_name=subscriber.first_name,
        last_name=subscriber.last_name,
        email=subscriber.email,
    )


def _subscription(
    membership: TopicSubscription, topic: Topic, subscriber: Subscriber
) -> SubscriptionResponseDto:
    return SubscriptionResponseDto(
        id=membership.id,
        identifier=_identifier(topic.key, subscriber.subscriber_id),
        topic=TopicDto(id=topic.id, key=topic.key, name=topic.name),
        subscriber=_subscriber(subscriber),
        created_at=iso(membership.created_at),
        updated_at=iso(membership.updated_at),
    )


def _listed_subscription(
    membership: TopicSubscription, topic: TopicResponseDto, subscriber: Subscriber
) -> TopicSubscriptionResponseDto:
    return TopicSubscriptionResponseDto(
        id=membership.id,
        identifier=_identifier(topic.key, subscriber.subscriber_id),
        created_at=iso(membership.created_at),
        topic=topic,
        subscriber=_subscriber(subscriber),
    )


def _result(
    requested: list[str], data: list[SubscriptionResponseDto], errors: list[SubscriptionErrorDto]
) -> SubscriptionsResultDto:
    result = SubscriptionsResultDto(
        data=data,
        meta=MetaDto(total_count=len(requested), successful=len(data), failed=len(errors)),
        errors=errors or None,
    )
    if errors and not data:
        body = result.model_dump(by_alias=True, exclude_none=True)
        raise HeraldError(400, "None of the subscriptions succeeded", errors=body.pop("errors"), extra=body)
    return result
