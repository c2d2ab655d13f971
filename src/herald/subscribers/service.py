"""Subscribers: upsert, search, patch, delete, bulk create, channel credentials, online flag."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.errors import HeraldError, NotFoundError
from herald.integrations.repository import IntegrationRepository
from herald.kit.pagination import CursorPage, CursorParams
from herald.kit.scope import EnvironmentScope
from herald.kit.time import iso, utc_now
from herald.models import Subscriber
from herald.subscribers.repository import SubscriberRepository
from herald.subscribers.schemas import (
    BulkCreateSubscriberResponseDto,
    ChannelSettingsDto,
    CreatedSubscriberDto,
    CreateSubscriberRequestDto,
    FailedOperationDto,
    LegacySubscriberPageDto,
    PatchSubscriberRequestDto,
    SubscriberResponseDto,
    UpdateSubscriberChannelRequestDto,
)


def to_response(subscriber: Subscriber) -> SubscriberResponseDto:
    return SubscriberResponseDto(
        id=subscriber.id,
        subscriber_id=subscriber.subscriber_id,
        organization_id=subscriber.organization_id,
        environment_id=subscriber.environment_id,
        first_name=subscriber.first_name,
        last_name=subscriber.last_name,
        email=subscriber.email,
        phone=subscriber.phone,
        avatar=subscriber.avatar,
        locale=subscriber.locale,
        timezone=subscriber.timezone,
        data=subscriber.data,
        channels=[_channel_response(channel) for channel in subscriber.channels or []],
        is_online=subscriber.is_online,
        last_online_at=iso(subscriber.last_online_at) if subscriber.last_online_at else None,
        created_at=iso(subscriber.created_at),
        updated_at=iso(subscriber.updated_at),
    )


async def find(session: AsyncSession, scope: EnvironmentScope, subscriber_id: str) -> Subscriber:
    """The subscriber row for other services of this environment (404 when it does not exist)."""
    subscriber = await SubscriberRepository(session, scope).by_subscriber_id(subscriber_id)
    if subscriber is None:
        raise NotFoundError(f"Subscriber: {subscriber_id} was not found")
    return subscriber


async def get_subscriber(
    session: AsyncSession, scope: EnvironmentScope, subscriber_id: str
) -> SubscriberResponseDto:
    return to_response(await find(session, scope, subscriber_id))


async def upsert_subscriber(
    session: AsyncSession,
    scope: EnvironmentScope,
    request: CreateSubscriberRequestDto,
    *,
    fail_if_exists: bool = False,
    nulls_clear: bool = True,
) -> tuple[SubscriberResponseDto, bool]:
    """Create the subscriber, or update the fields the request carries; True when created."""
    repository = SubscriberRepository(session, scope)
    existing = await repository.by_subscriber_id(request.subscriber_id)
    if existing is not None and fail_if_exists:
        raise HeraldError(
            409,
            f"Subscriber with subscriberId: {request.subscriber_id} already exists",
            extra=to_response(existing).model_dump(by_alias=True),
        )
    if existing is None:
        created = await _insert(repository, request)
        if created is not None:
            return to_response(created), True
        existing = await repository.by_subscriber_id(request.subscriber_id)
        assert existing is not None, "a concurrent insert lost the race but left no row"
    _apply(existing, request, nulls_clear=nulls_clear)
    await session.flush()
    return to_response(existing), False


async def patch_subscriber(
    session: AsyncSession,
    scope: EnvironmentScope,
    subscriber_id: str,
    request: PatchSubscriberRequestDto,
    *,
    nulls_clear: bool = True,
) -> SubscriberResponseDto:
    subscriber = await find(session, scope, subscriber_id)
    _apply(subscriber, request, nulls_clear=nulls_clear)
    await session.flush()
    return to_response(subscriber)


async def delete_subscriber(session: AsyncSession, scope: EnvironmentScope, subscriber_id: str) -> None:
    """Delete the subscriber with its preferences and topic subscriptions."""
    subscriber = await find(session, scope, subscriber_id)
    await SubscriberRepository(session, scope).remove(subscriber)


async def search_subscribers(
    session: AsyncSession,
    scope: EnvironmentScope,
    params: CursorParams,
    *,
    email: str | None,
    name: str | None,
    phone: str | None,
    subscriber_id: str | None,
) -> CursorPage[SubscriberResponseDto]:
    page = await SubscriberRepository(session, scope).search(
        params, email=email, name=name, phone=phone, subscriber_id=subscriber_id
    )
    return page.map(lambda row: to_response(row[0]))


async def list_page(
    session: AsyncSession, scope: EnvironmentScope, page: int, page_size: int
) -> LegacySubscriberPageDto:
    rows, total = await SubscriberRepository(session, scope).page(page, page_size)
    return LegacySubscriberPageDto(
        page=page,
        page_size=page_size,
        total_count=total,
        has_more=(page + 1) * page_size < total,
        data=[to_response(row) for row in rows],
    )


async def bulk_create(
    session: AsyncSession, scope: EnvironmentScope, items: list[dict[str, Any]]
) -> BulkCreateSubscriberResponseDto:
    """Upsert up to 500 subscribers; each item is validated and reported on its own."""
    repository = SubscriberRepository(session, scope)
    failed: list[FailedOperationDto] = []
    requests: dict[str, CreateSubscriberRequestDto] = {}
    updates: list[CreateSubscriberRequestDto] = []
    for item in items:
        try:
            request = CreateSubscriberRequestDto.model_validate(item)
        except ValidationError as error:
            raw_id = item.get("subscriberId") if isinstance(item, dict) else None
            failed.append(
                FailedOperationDto(
                    message=_validation_message(error),
                    subscriber_id=raw_id if isinstance(raw_id, str) else None,
                )
            )
            continue
        if request.subscriber_id in requests:
            updates.append(request)
        else:
            requests[request.subscriber_id] = request

    existing = await repository.by_subscriber_ids(requests)
    new_rows = [_new_row(request) for key, request in requests.items() if key not in existing]
    try:
        async with session.begin_nested():
            repository.add_all(new_rows)
            await session.flush()
    except IntegrityError:
        # Another request created some of them meanwhile: fall back to one upsert each.
        new_rows = []
        for key in [key for key in requests if key not in existing]:
            row = await _insert(repository, requests[key])
            if row is None:
                updates.append(requests[key])
            else:
                new_rows.append(row)
        existing = (
            await repository.by_subscriber_ids(key for key in requests if key not in existing) | existing
        )
    for key, row in existing.items():
        _apply(row, requests[key])
    by_id = existing | {row.subscriber_id: row for row in new_rows}
    for request in updates:
        _apply(by_id[request.subscriber_id], request)
    await session.flush()
    created_ids = {row.subscriber_id for row in new_rows}
    return BulkCreateSubscriberResponseDto(
        created=[CreatedSubscriberDto(subscriber_id=key) for key in requests if key in created_ids],
        updated=[CreatedSubscriberDto(subscriber_id=key) for key in requests if key not in created_ids],
        failed=failed,
    )


async def update_credentials(
    session: AsyncSession,
    scope: EnvironmentScope,
    subscriber_id: str,
    request: UpdateSubscriberChannelRequestDto,
    *,
    append: bool,
) -> SubscriberResponseDto:
    """Set one provider's (and integration's) credentials; `append` adds device tokens instead of
    replacing them."""
    subscriber = await find(session, scope, subscriber_id)
    given = request.credentials.model_dump(by_alias=True, exclude_none=True)
    channels = [dict(channel) for channel in subscriber.channels or []]
    match = next(
        (
            channel
            for channel in channels
            if channel["providerId"] == request.provider_id
            and channel.get("integrationIdentifier") == request.integration_identifier
        ),
        None,
    )
    if match is None:
        match = {"providerId": request.provider_id, "credentials": {}}
        if request.integration_identifier is not None:
            match["integrationIdentifier"] = request.integration_identifier
        channels.append(match)
    integration = await IntegrationRepository(session, scope).find_for_provider(
        request.provider_id, request.integration_identifier
    )
    if integration is not None:
        match["_integrationId"] = integration.id
    credentials = {**match["credentials"], **given}
    if append and "deviceTokens" in given:
        previous = match["credentials"].get("deviceTokens") or []
        credentials["deviceTokens"] = list(dict.fromkeys([*previous, *given["deviceTokens"]]))
    match["credentials"] = credentials
    subscriber.channels = channels
    await session.flush()
    return to_response(subscriber)


async def delete_credentials(
    session: AsyncSession, scope: EnvironmentScope, subscriber_id: str, provider_id: str
) -> None:
    subscriber = await find(session, scope, subscriber_id)
    subscriber.channels = [
        channel for channel in subscriber.channels or [] if channel["providerId"] != provider_id
    ]
    await session.flush()


async def set_online(
    session: AsyncSession, scope: EnvironmentScope, subscriber_id: str, is_online: bool
) -> SubscriberResponseDto:
    subscriber = await find(session, scope, subscriber_id)
    subscriber.is_online = is_online
    subscriber.last_online_at = utc_now()
    await session.flush()
    return to_response(subscriber)


async def _insert(repository: SubscriberRepository, request: CreateSubscriberRequestDto) -> Subscriber | None:
    """Insert in a savepoint; None when a concurrent request inserted the same subscriberId first."""
    row = _new_row(request)
    try:
        async with repository.session.begin_nested():
            repository.add(row)
            await repository.session.flush()
    except IntegrityError:
        return None
    return row


def _new_row(request: CreateSubscriberRequestDto) -> Subscriber:
    row = Subscriber(subscriber_id=request.subscriber_id, channels=[])
    _apply(row, request)
    return row


_FIELDS = ("first_name", "last_name", "email", "phone", "avatar", "locale", "timezone", "data")


def _apply(subscriber: Subscriber, request: PatchSubscriberRequestDto, *, nulls_clear: bool = True) -> None:
    """Copy the fields the request carries. An explicit null clears a field, except for the
    legacy v1 routes, whose clients send every field and mean null as "leave it"."""
    for field in _FIELDS:
        if field in request.model_fields_set:
            value = getattr(request, field)
            if value is not None or nulls_clear:
                setattr(subscriber, field, value)


def _channel_response(channel: dict[str, Any]) -> ChannelSettingsDto:
    return ChannelSettingsDto(
        provider_id=channel["providerId"],
        integration_identifier=channel.get("integrationIdentifier"),
        credentials=channel.get("credentials") or {},
        integration_id=channel.get("_integrationId") or "",
    )


def _validation_message(error: ValidationError) -> str:
    problems = []
    for problem in error.errors():
        field = ".".join(str(part) for part in problem.get("loc", ())) or "body"
        problems.append(f"{field}: {problem.get('msg', 'invalid value')}")
    return "; ".join(problems)
