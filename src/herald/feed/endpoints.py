"""The server-side doors to a subscriber's in-app feed (secret key):
`/v2/subscribers/{subscriberId}/notifications...` and the legacy v1 feed routes."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from herald.auth.dependencies import CurrentEnvironment, Session
from herald.errors import BadRequestError
from herald.feed import service as feed
from herald.feed.filters import (
    FeedFilter,
    Scalar,
    filter_from_object,
    filter_from_query,
    filter_list,
    parse_data,
)
from herald.feed.schemas import (
    ActionType,
    FeedResponseDto,
    InboxNotificationDto,
    InboxNotificationsPageDto,
    MarkAllMessageAsRequestDto,
    MarkAsSeenDto,
    MarkMessageActionAsSeenDto,
    MessageDocumentDto,
    MessageMarkAsRequestDto,
    NotificationCountDto,
    SnoozeNotificationDto,
    UnseenCountResponse,
    UpdateAllNotificationsDto,
)
from herald.kit.schemas import ERROR_RESPONSES, Envelope
from herald.realtime.dependencies import Realtime

router = APIRouter(prefix="/v2/subscribers", tags=["Subscribers"], responses=ERROR_RESPONSES)
v1_router = APIRouter(prefix="/v1/subscribers", tags=["Subscribers"], responses=ERROR_RESPONSES)

SubscriberId = Annotated[str, Path(alias="subscriberId", min_length=1, max_length=255)]
NotificationId = Annotated[str, Path(alias="notificationId", min_length=1, max_length=64)]


@router.get("/{subscriberId}/notifications", operation_id="SubscribersController_getSubscriberNotifications")
async def list_notifications(
    request: Request,
    subscriber_id: SubscriberId,
    session: Session,
    scope: CurrentEnvironment,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    after: Annotated[str | None, Query(max_length=64)] = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> InboxNotificationsPageDto:
    """The subscriber's in-app notifications, newest first, with the Inbox's filters (`read`,
    `seen`, `archived`, `snoozed`, `tags[]`, `severity[]`, `data`, `createdGte`, `createdLte`)."""
    owner = await feed.owner_by_subscriber_id(session, scope, subscriber_id)
    feed_filter, echo = filter_from_query(request.query_params)
    items, has_more = await feed.list_notifications(
        session, scope, owner, feed_filter, limit=limit, after=after, offset=offset
    )
    return InboxNotificationsPageDto(data=items, has_more=has_more, filter=echo)


@router.get(
    "/{subscriberId}/notifications/count",
    operation_id="SubscribersController_getSubscriberNotificationsCount",
)
async def count_notifications(
    subscriber_id: SubscriberId,
    session: Session,
    scope: CurrentEnvironment,
    filters: Annotated[str, Query(max_length=8_000, description="A JSON list of filter objects.")],
) -> Envelope[list[NotificationCountDto]]:
    """How many notifications match each filter, in order, each filter echoed back."""
    raw = filter_list(filters)
    owner = await feed.owner_by_subscriber_id(session, scope, subscriber_id)
    counts = await feed.count(session, scope, owner, [filter_from_object(item) for item in raw])
    return Envelope(
        data=[NotificationCountDto(count=count, filter=item) for count, item in zip(counts, raw, strict=True)]
    )


def _one_change(change: feed.StateChange, operation_id: str, summary: str) -> None:
    async def endpoint(
        subscriber_id: SubscriberId,
        notification_id: NotificationId,
        session: Session,
        scope: CurrentEnvironment,
        realtime: Realtime,
    ) -> Envelope[InboxNotificationDto]:
        owner = await feed.owner_by_subscriber_id(session, scope, subscriber_id)
        await feed.change_state(session, scope, realtime, owner, notification_id, change)
        return Envelope(data=await feed.inbox_notification(session, scope, owner, notification_id))

    endpoint.__doc__ = summary
    router.patch(f"/{{subscriberId}}/notifications/{{notificationId}}/{change}", operation_id=operation_id)(
        endpoint
    )


_one_change("read", "SubscribersController_markNotificationAsRead", "Mark one notification read (and seen).")
_one_change("unread", "SubscribersController_markNotificationAsUnread", "Mark one notification unread.")
_one_change("archive", "SubscribersController_archiveNotification", "Archive one notification (read too).")
_one_change("unarchive", "SubscribersController_unarchiveNotification", "Bring one notification back.")
_one_change(
    "unsnooze", "SubscribersController_unsnoozeNotification", "Bring a snoozed notification back now."
)


@router.patch(
    "/{subscriberId}/notifications/{notificationId}/snooze",
    operation_id="SubscribersController_snoozeNotification",
)
async def snooze(
    subscriber_id: SubscriberId,
    notification_id: NotificationId,
    body: SnoozeNotificationDto,
    session: Session,
    scope: CurrentEnvironment,
    realtime: Realtime,
) -> Envelope[InboxNotificationDto]:
    """Hide one notification until `snoozeUntil` (in the future, at most 90 days ahead)."""
    owner = await feed.owner_by_subscriber_id(session, scope, subscriber_id)
    await feed.snooze(session, scope, realtime, owner, notification_id, body.snooze_until)
    return Envelope(data=await feed.inbox_notification(session, scope, owner, notification_id))


def _action(verb: Literal["complete", "revert"], operation_id: str, summary: str) -> None:
    async def endpoint(
        subscriber_id: SubscriberId,
        notification_id: NotificationId,
        action_type: Annotated[ActionType, Path(alias="actionType")],
        session: Session,
        scope: CurrentEnvironment,
        realtime: Realtime,
    ) -> Envelope[InboxNotificationDto]:
        owner = await feed.owner_by_subscriber_id(session, scope, subscriber_id)
        await feed.set_action(
            session, scope, realtime, owner, notification_id, action_type, done=verb == "complete"
        )
        return Envelope(data=await feed.inbox_notification(session, scope, owner, notification_id))

    endpoint.__doc__ = summary
    router.patch(
        f"/{{subscriberId}}/notifications/{{notificationId}}/actions/{{actionType}}/{verb}",
        operation_id=operation_id,
    )(endpoint)


_action(
    "complete",
    "SubscribersController_completeNotificationAction",
    "Mark the primary or secondary action done.",
)
_action(
    "revert",
    "SubscribersController_revertNotificationAction",
    "Set the primary or secondary action back to pending.",
)


@router.delete(
    "/{subscriberId}/notifications/{notificationId}",
    status_code=204,
    operation_id="SubscribersController_deleteNotification",
)
async def delete_notification(
    subscriber_id: SubscriberId,
    notification_id: NotificationId,
    session: Session,
    scope: CurrentEnvironment,
    realtime: Realtime,
) -> Response:
    """Delete one notification."""
    owner = await feed.owner_by_subscriber_id(session, scope, subscriber_id)
    await feed.delete_one(session, scope, realtime, owner, notification_id)
    return Response(status_code=204)


@router.post(
    "/{subscriberId}/notifications/seen",
    status_code=204,
    operation_id="SubscribersController_markNotificationsAsSeen",
)
async def mark_seen(
    subscriber_id: SubscriberId,
    body: MarkAsSeenDto,
    session: Session,
    scope: CurrentEnvironment,
    realtime: Realtime,
) -> Response:
    """Mark notifications seen: those in `notificationIds`, or all that match `tags`/`data`."""
    owner = await feed.owner_by_subscriber_id(session, scope, subscriber_id)
    feed_filter = filter_from_object({"tags": body.tags, "data": body.data})
    if body.notification_ids is not None:
        feed_filter = replace(feed_filter, message_ids=tuple(body.notification_ids))
    await feed.change_matching(session, scope, realtime, owner, feed_filter, "seen")
    return Response(status_code=204)


def _bulk(change: feed.BulkChange, operation_id: str, summary: str) -> None:
    async def endpoint(
        subscriber_id: SubscriberId,
        session: Session,
        scope: CurrentEnvironment,
        realtime: Realtime,
        body: UpdateAllNotificationsDto | None = None,
    ) -> Response:
        owner = await feed.owner_by_subscriber_id(session, scope, subscriber_id)
        body = body or UpdateAllNotificationsDto()
        feed_filter = filter_from_object({"tags": body.tags, "data": body.data})
        await feed.change_matching(session, scope, realtime, owner, feed_filter, change)
        return Response(status_code=204)

    endpoint.__doc__ = summary
    router.post(f"/{{subscriberId}}/notifications/{change}", status_code=204, operation_id=operation_id)(
        endpoint
    )


_bulk("read", "SubscribersController_markAllNotificationsAsRead", "Mark every notification read.")
_bulk("archive", "SubscribersController_archiveAllNotifications", "Archive every notification.")
_bulk("read-archive", "SubscribersController_archiveAllReadNotifications", "Archive every read notification.")
_bulk("delete", "SubscribersController_deleteAllNotifications", "Delete every notification.")


# The legacy v1 feed routes


@v1_router.get(
    "/{subscriberId}/notifications/feed", operation_id="SubscribersV1Controller_getNotificationsFeed"
)
async def legacy_feed(
    subscriber_id: SubscriberId,
    session: Session,
    scope: CurrentEnvironment,
    page: Annotated[int, Query(ge=0, le=10_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    read: bool | None = None,
    seen: bool | None = None,
    payload: Annotated[
        str | None,
        Query(max_length=10_000, description="Base64 of a JSON object the trigger payload matches."),
    ] = None,
) -> FeedResponseDto:
    """The subscriber's in-app messages as Novu's raw documents, a page at a time."""
    owner = await feed.owner_by_subscriber_id(session, scope, subscriber_id)
    feed_filter = FeedFilter(read=read, seen=seen, payload=_payload_filter(payload))
    items, has_more, total = await feed.legacy_page(
        session, scope, owner, feed_filter, page=page, limit=limit
    )
    return FeedResponseDto(total_count=total, has_more=has_more, data=items, page_size=limit, page=page)


def _payload_filter(encoded: str | None) -> dict[tuple[str, ...], Scalar | tuple[Scalar, ...]]:
    if not encoded:
        return {}
    try:
        text = base64.b64decode(encoded, validate=True).decode()
    except ValueError:  # not base64, not ASCII, or not UTF-8
        raise BadRequestError("payload must be base64 of a JSON object") from None
    return parse_data(text)


@v1_router.get("/{subscriberId}/notifications/unseen", operation_id="SubscribersV1Controller_getUnseenCount")
async def legacy_unseen_count(
    subscriber_id: SubscriberId,
    session: Session,
    scope: CurrentEnvironment,
    seen: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Envelope[UnseenCountResponse]:
    """How many in-app messages are unseen (or seen, with `seen=true`), counted up to `limit`."""
    owner = await feed.owner_by_subscriber_id(session, scope, subscriber_id)
    (count,) = await feed.count(session, scope, owner, [FeedFilter(seen=seen)])
    return Envelope(data=UnseenCountResponse(count=min(count, limit)))


@v1_router.post(
    "/{subscriberId}/messages/mark-as", status_code=201, operation_id="SubscribersV1Controller_markMessagesAs"
)
async def legacy_mark_as(
    subscriber_id: SubscriberId,
    body: MessageMarkAsRequestDto,
    session: Session,
    scope: CurrentEnvironment,
    realtime: Realtime,
) -> Envelope[list[MessageDocumentDto]]:
    """Mark one or more messages read, seen, unread or unseen; answers with the messages."""
    ids = [body.message_id] if isinstance(body.message_id, str) else body.message_id
    if not ids or len(ids) > 1000:
        raise BadRequestError("messageId must name between 1 and 1000 messages")
    owner = await feed.owner_by_subscriber_id(session, scope, subscriber_id)
    await feed.change_matching(
        session, scope, realtime, owner, FeedFilter(message_ids=tuple(ids)), body.mark_as
    )
    return Envelope(data=await feed.message_documents(session, scope, owner, ids))


@v1_router.post(
    "/{subscriberId}/messages/mark-all",
    status_code=201,
    operation_id="SubscribersV1Controller_markAllUnreadAsRead",
)
async def legacy_mark_all(
    subscriber_id: SubscriberId,
    body: MarkAllMessageAsRequestDto,
    session: Session,
    scope: CurrentEnvironment,
    realtime: Realtime,
) -> Envelope[int]:
    """Mark every in-app message read, seen, unread or unseen; answers how many changed.
    (`feedIdentifier` is accepted; Herald has no feeds.)"""
    owner = await feed.owner_by_subscriber_id(session, scope, subscriber_id)
    changed = await feed.change_matching(session, scope, realtime, owner, FeedFilter(), body.mark_as)
    return Envelope(data=changed)


@v1_router.post(
    "/{subscriberId}/messages/{messageId}/actions/{type}",
    status_code=201,
    operation_id="SubscribersV1Controller_markActionAsSeen",
)
async def legacy_mark_action(
    subscriber_id: SubscriberId,
    message_id: Annotated[str, Path(alias="messageId", min_length=1, max_length=64)],
    action_type: Annotated[ActionType, Path(alias="type")],
    body: MarkMessageActionAsSeenDto,
    session: Session,
    scope: CurrentEnvironment,
    realtime: Realtime,
) -> Envelope[MessageDocumentDto]:
    """Record the result of a message's primary or secondary button (`status`, `payload`)."""
    owner = await feed.owner_by_subscriber_id(session, scope, subscriber_id)
    await feed.set_action(
        session,
        scope,
        realtime,
        owner,
        message_id,
        action_type,
        done=body.status == "done",
        payload=body.payload,
        require_button=False,
    )
    (document,) = await feed.message_documents(session, scope, owner, [message_id])
    return Envelope(data=document)
