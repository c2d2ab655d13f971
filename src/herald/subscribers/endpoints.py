"""`/v2/subscribers` and the `/v1/subscribers` routes that clients still call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from herald.auth.dependencies import CurrentEnvironment, Session
from herald.kit.pagination import Cursor
from herald.kit.schemas import ERROR_RESPONSES, Envelope
from herald.subscribers import service
from herald.subscribers.schemas import (
    BulkCreateSubscriberResponseDto,
    BulkSubscriberCreateDto,
    CreateSubscriberRequestDto,
    LegacySubscriberPageDto,
    ListSubscribersResponseDto,
    PatchSubscriberRequestDto,
    RemoveSubscriberResponseDto,
    SubscriberResponseDto,
    UpdateSubscriberChannelRequestDto,
    UpdateSubscriberOnlineFlagRequestDto,
    UpdateSubscriberRequestDto,
)

router = APIRouter(prefix="/v2/subscribers", tags=["Subscribers"], responses=ERROR_RESPONSES)
v1_router = APIRouter(prefix="/v1/subscribers", tags=["Subscribers"], responses=ERROR_RESPONSES)

SubscriberIdPath = Annotated[str, Path(alias="subscriberId", min_length=1, max_length=255)]
SearchText = Annotated[str | None, Query(max_length=320)]


@router.get("", operation_id="SubscribersController_searchSubscribers")
async def search_subscribers(
    session: Session,
    scope: CurrentEnvironment,
    cursor: Cursor,
    email: SearchText = None,
    name: SearchText = None,
    phone: SearchText = None,
    subscriber_id: Annotated[str | None, Query(alias="subscriberId", max_length=255)] = None,
) -> ListSubscribersResponseDto:
    """Search subscribers by the start of their **email**, **phone** or **subscriberId**, or by a
    part of their **name** (first and last). Email and name match case-insensitively. Pages
    with `after` / `before` cursors (subscriber `_id`s); `orderBy` is one of `_id`, `createdAt`,
    `updatedAt`, `subscriberId`."""
    page = await service.search_subscribers(
        session, scope, cursor, email=email, name=name, phone=phone, subscriber_id=subscriber_id
    )
    return ListSubscribersResponseDto(
        data=page.items,
        next=page.next,
        previous=page.previous,
        total_count=page.total_count,
        total_count_capped=page.total_count_capped,
    )


@router.post("", status_code=201, operation_id="SubscribersController_createSubscriber")
async def create_subscriber(
    body: CreateSubscriberRequestDto,
    session: Session,
    scope: CurrentEnvironment,
    fail_if_exists: Annotated[bool, Query(alias="failIfExists")] = False,
) -> Envelope[SubscriberResponseDto]:
    """Create a subscriber, or update the given fields of the existing one with this
    **subscriberId**. With `failIfExists=true` an existing subscriber gives 409, and the body of
    that answer is the existing subscriber."""
    subscriber, _ = await service.upsert_subscriber(session, scope, body, fail_if_exists=fail_if_exists)
    return Envelope(data=subscriber)


@router.get("/{subscriberId}", operation_id="SubscribersController_getSubscriber")
async def get_subscriber(
    subscriber_id: SubscriberIdPath, session: Session, scope: CurrentEnvironment
) -> Envelope[SubscriberResponseDto]:
    """Retrieve a subscriber by its **subscriberId**."""
    return Envelope(data=await service.get_subscriber(session, scope, subscriber_id))


@router.patch("/{subscriberId}", operation_id="SubscribersController_patchSubscriber")
async def patch_subscriber(
    subscriber_id: SubscriberIdPath,
    body: PatchSubscriberRequestDto,
    session: Session,
    scope: CurrentEnvironment,
) -> Envelope[SubscriberResponseDto]:
    """Update the fields the body carries; an explicit null clears a field."""
    return Envelope(data=await service.patch_subscriber(session, scope, subscriber_id, body))


@router.delete("/{subscriberId}", operation_id="SubscribersController_removeSubscriber")
async def delete_subscriber(
    subscriber_id: SubscriberIdPath, session: Session, scope: CurrentEnvironment
) -> Envelope[RemoveSubscriberResponseDto]:
    """Delete a subscriber with its preferences and topic subscriptions."""
    await service.delete_subscriber(session, scope, subscriber_id)
    return Envelope(data=RemoveSubscriberResponseDto(acknowledged=True, status="deleted"))


@v1_router.post("/bulk", status_code=201, operation_id="SubscribersV1Controller_bulkCreateSubscribers")
async def bulk_create_subscribers(
    body: BulkSubscriberCreateDto, session: Session, scope: CurrentEnvironment
) -> Envelope[BulkCreateSubscriberResponseDto]:
    """Create or update up to 500 subscribers at once. Each one lands in `created`, `updated`
    or `failed` (with the reason); a bad item never fails the others."""
    return Envelope(data=await service.bulk_create(session, scope, body.subscribers))


@v1_router.put("/{subscriberId}/credentials", operation_id="SubscribersV1Controller_updateSubscriberChannel")
async def replace_credentials(
    subscriber_id: SubscriberIdPath,
    body: UpdateSubscriberChannelRequestDto,
    session: Session,
    scope: CurrentEnvironment,
) -> Envelope[SubscriberResponseDto]:
    """Set a chat or push provider's credentials (per integration identifier); the given
    **deviceTokens** replace the stored ones."""
    return Envelope(data=await service.update_credentials(session, scope, subscriber_id, body, append=False))


@v1_router.patch(
    "/{subscriberId}/credentials", operation_id="SubscribersV1Controller_modifySubscriberChannel"
)
async def append_credentials(
    subscriber_id: SubscriberIdPath,
    body: UpdateSubscriberChannelRequestDto,
    session: Session,
    scope: CurrentEnvironment,
) -> Envelope[SubscriberResponseDto]:
    """Upsert a chat or push provider's credentials; the given **deviceTokens** are added to the
    stored ones."""
    return Envelope(data=await service.update_credentials(session, scope, subscriber_id, body, append=True))


@v1_router.delete(
    "/{subscriberId}/credentials/{providerId}",
    status_code=204,
    response_class=Response,
    operation_id="SubscribersV1Controller_deleteSubscriberCredentials",
)
async def delete_credentials(
    subscriber_id: SubscriberIdPath,
    provider_id: Annotated[str, Path(alias="providerId", max_length=64)],
    session: Session,
    scope: CurrentEnvironment,
) -> None:
    """Remove every credential the subscriber holds for this provider."""
    await service.delete_credentials(session, scope, subscriber_id, provider_id)


@v1_router.patch(
    "/{subscriberId}/online-status", operation_id="SubscribersV1Controller_updateSubscriberOnlineFlag"
)
async def update_online_flag(
    subscriber_id: SubscriberIdPath,
    body: UpdateSubscriberOnlineFlagRequestDto,
    session: Session,
    scope: CurrentEnvironment,
) -> Envelope[SubscriberResponseDto]:
    """Set the subscriber's `isOnline` flag; `lastOnlineAt` becomes now."""
    return Envelope(data=await service.set_online(session, scope, subscriber_id, body.is_online))


@v1_router.get("", operation_id="SubscribersV1Controller_listSubscribers")
async def list_subscribers_v1(
    session: Session,
    scope: CurrentEnvironment,
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> LegacySubscriberPageDto:
    """Legacy page-based list (newest first) used by older clients."""
    return await service.list_page(session, scope, page, limit)


@v1_router.post("", status_code=201, operation_id="SubscribersV1Controller_createSubscriber")
async def create_subscriber_v1(
    body: CreateSubscriberRequestDto, session: Session, scope: CurrentEnvironment
) -> Envelope[SubscriberResponseDto]:
    """Legacy create: creates the subscriber or updates the existing one (nulls leave fields as
    they are)."""
    subscriber, _ = await service.upsert_subscriber(session, scope, body, nulls_clear=False)
    return Envelope(data=subscriber)


@v1_router.get("/{subscriberId}", operation_id="SubscribersV1Controller_getSubscriber")
async def get_subscriber_v1(
    subscriber_id: SubscriberIdPath, session: Session, scope: CurrentEnvironment
) -> Envelope[SubscriberResponseDto]:
    """Legacy retrieve by **subscriberId**."""
    return Envelope(data=await service.get_subscriber(session, scope, subscriber_id))


@v1_router.put("/{subscriberId}", operation_id="SubscribersV1Controller_updateSubscriber")
async def update_subscriber_v1(
    subscriber_id: SubscriberIdPath,
    body: UpdateSubscriberRequestDto,
    session: Session,
    scope: CurrentEnvironment,
) -> Envelope[SubscriberResponseDto]:
    """Legacy update of the fields the body carries with a value (nulls leave fields as they are)."""
    return Envelope(
        data=await service.patch_subscriber(session, scope, subscriber_id, body, nulls_clear=False)
    )


@v1_router.delete("/{subscriberId}", operation_id="SubscribersV1Controller_removeSubscriber")
async def delete_subscriber_v1(
    subscriber_id: SubscriberIdPath, session: Session, scope: CurrentEnvironment
) -> Envelope[RemoveSubscriberResponseDto]:
    """Legacy delete."""
    await service.delete_subscriber(session, scope, subscriber_id)
    return Envelope(data=RemoveSubscriberResponseDto(acknowledged=True, status="deleted"))
