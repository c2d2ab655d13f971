"""`/v1/inbox/*`: the routes @novu/js calls from the browser (the `<Inbox />` component).

`POST /v1/inbox/session` is public (the application identifier names the environment, the
HMAC hash proves the subscriber); every other route needs the session token it returns.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from herald.auth.dependencies import Box, Session
from herald.feed import service as feed
from herald.feed.documents import FeedOwner
from herald.feed.filters import filter_from_object, filter_from_query, filter_list
from herald.feed.schemas import (
    ActionTypeDto,
    InboxNotificationDto,
    InboxNotificationsPageDto,
    MarkAsSeenDto,
    NotificationCountDto,
    SnoozeNotificationDto,
    UpdateAllNotificationsDto,
)
from herald.inbox import preferences, service
from herald.inbox.dependencies import Caller
from herald.inbox.schemas import (
    BulkInboxPreferencesDto,
    InboxPreferenceDto,
    SubscriberSessionRequestDto,
    SubscriberSessionResponseDto,
    UpdateInboxPreferenceDto,
)
from herald.kit.schemas import ERROR_RESPONSES, Envelope
from herald.realtime.dependencies import Realtime

PREFIX = "/v1/inbox"

session_router = APIRouter(prefix=PREFIX, tags=["Inbox"], responses=ERROR_RESPONSES)
router = APIRouter(prefix=PREFIX, tags=["Inbox"], responses=ERROR_RESPONSES)

NotificationId = Annotated[str, Path(alias="notificationId", min_length=1, max_length=64)]
OneChange = Literal["read", "unread", "archive", "unarchive", "unsnooze"]


async def feed_owner(caller: Caller, session: Session) -> FeedOwner:
    owner = await feed.owner_by_pk(session, caller.scope, caller.subscriber_pk)
    assert owner is not None, "the token guard checked that the subscriber exists"
    return owner


Owner = Annotated[FeedOwner, Depends(feed_owner)]


@session_router.post("/session", status_code=201, operation_id="InboxController_sessionInitialize")
async def start_session(
    request: Request, body: SubscriberSessionRequestDto, session: Session, box: Box
) -> Envelope[SubscriberSessionResponseDto]:
    """Start an Inbox session for a subscriber (created or updated from `subscriber`). When the
    environment's in-app integration has HMAC on (Production and custom environments by
    default), `subscriberHash` must be the hex HMAC-SHA256 of the subscriberId keyed by the
    environment's secret key; otherwise 400. The token expires and stops working when the
    environment's secret key is regenerated."""
    lifetime = timedelta(seconds=request.app.state.settings.inbox_token_ttl_seconds)
    return Envelope(data=await service.start_session(session, box, body, lifetime))


@router.get("/notifications", operation_id="InboxController_getNotifications")
async def list_notifications(
    request: Request,
    session: Session,
    caller: Caller,
    owner: Owner,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
    after: Annotated[str | None, Query(max_length=64)] = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> InboxNotificationsPageDto:
    """The subscriber's in-app notifications, newest first. Filters: `read`, `seen`, `archived`,
    `snoozed`, `tags[]` (any of) or `tags[0][]`, `tags[1][]` (all groups), `severity[]`, `data`
    (a JSON object the notification's data matches), `createdGte` / `createdLte` (ms);
    `after` (the last id of the previous page) or `offset`."""
    feed_filter, echo = filter_from_query(request.query_params)
    items, has_more = await feed.list_notifications(
        session, caller.scope, owner, feed_filter, limit=limit, after=after, offset=offset
    )
    return InboxNotificationsPageDto(data=items, has_more=has_more, filter=echo)


@router.get("/notifications/count", operation_id="InboxController_getNotificationsCount")
async def count_notifications(
    session: Session,
    caller: Caller,
    owner: Owner,
    filters: Annotated[str, Query(max_length=8_000, description="A JSON list of filter objects.")],
) -> Envelope[list[NotificationCountDto]]:
    """How many notifications match each filter, in order, each filter echoed back."""
    raw = filter_list(filters)
    counts = await feed.count(session, caller.scope, owner, [filter_from_object(item) for item in raw])
    return Envelope(
        data=[NotificationCountDto(count=count, filter=item) for count, item in zip(counts, raw, strict=True)]
    )


async def _changed(
    session: Session,
    caller: Caller,
    owner: FeedOwner,
    realtime: Realtime,
    notification_id: str,
    change: OneChange,
) -> Envelope[InboxNotificationDto]:
    await feed.change_state(session, caller.scope, realtime, owner, notification_id, change)
    return Envelope(data=await feed.inbox_notification(session, caller.scope, owner, notification_id))


@router.patch("/notifications/{notificationId}/read", operation_id="InboxController_markNotificationAsRead")
async def mark_read(
    notification_id: NotificationId, session: Session, caller: Caller, owner: Owner, realtime: Realtime
) -> Envelope[InboxNotificationDto]:
    """Mark one notification read (and seen)."""
    return await _changed(session, caller, owner, realtime, notification_id, "read")


@router.patch(
    "/notifications/{notificationId}/unread", operation_id="InboxController_markNotificationAsUnread"
)
async def mark_unread(
    notification_id: NotificationId, session: Session, caller: Caller, owner: Owner, realtime: Realtime
) -> Envelope[InboxNotificationDto]:
    """Mark one notification unread."""
    return await _changed(session, caller, owner, realtime, notification_id, "unread")


@router.patch(
    "/notifications/{notificationId}/archive", operation_id="InboxController_markNotificationAsArchived"
)
async def archive(
    notification_id: NotificationId, session: Session, caller: Caller, owner: Owner, realtime: Realtime
) -> Envelope[InboxNotificationDto]:
    """Archive one notification (it is read too)."""
    return await _changed(session, caller, owner, realtime, notification_id, "archive")


@router.patch(
    "/notifications/{notificationId}/unarchive", operation_id="InboxController_markNotificationAsUnarchived"
)
async def unarchive(
    notification_id: NotificationId, session: Session, caller: Caller, owner: Owner, realtime: Realtime
) -> Envelope[InboxNotificationDto]:
    """Bring one notification back from the archive."""
    return await _changed(session, caller, owner, realtime, notification_id, "unarchive")


@router.patch("/notifications/{notificationId}/snooze", operation_id="InboxController_snoozeNotification")
async def snooze(
    notification_id: NotificationId,
    body: SnoozeNotificationDto,
    session: Session,
    caller: Caller,
    owner: Owner,
    realtime: Realtime,
) -> Envelope[InboxNotificationDto]:
    """Hide one notification until `snoozeUntil` (in the future, at most 90 days ahead)."""
    await feed.snooze(session, caller.scope, realtime, owner, notification_id, body.snooze_until)
    return Envelope(data=await feed.inbox_notification(session, caller.scope, owner, notification_id))


@router.patch("/notifications/{notificationId}/unsnooze", operation_id="InboxController_unsnoozeNotification")
async def unsnooze(
    notification_id: NotificationId, session: Session, caller: Caller, owner: Owner, realtime: Realtime
) -> Envelope[InboxNotificationDto]:
    """Bring a snoozed notification back now."""
    return await _changed(session, caller, owner, realtime, notification_id, "unsnooze")


@router.patch("/notifications/{notificationId}/complete", operation_id="InboxController_completeAction")
async def complete_action(
    notification_id: NotificationId,
    body: ActionTypeDto,
    session: Session,
    caller: Caller,
    owner: Owner,
    realtime: Realtime,
) -> Envelope[InboxNotificationDto]:
    """Mark the notification's primary or secondary action done."""
    await feed.set_action(
        session, caller.scope, realtime, owner, notification_id, body.action_type, done=True
    )
    return Envelope(data=await feed.inbox_notification(session, caller.scope, owner, notification_id))


@router.patch("/notifications/{notificationId}/revert", operation_id="InboxController_revertAction")
async def revert_action(
    notification_id: NotificationId,
    body: ActionTypeDto,
    session: Session,
    caller: Caller,
    owner: Owner,
    realtime: Realtime,
) -> Envelope[InboxNotificationDto]:
    """Set the notification's primary or secondary action back to pending."""
    await feed.set_action(
        session, caller.scope, realtime, owner, notification_id, body.action_type, done=False
    )
    return Envelope(data=await feed.inbox_notification(session, caller.scope, owner, notification_id))


@router.delete(
    "/notifications/{notificationId}/delete",
    status_code=204,
    operation_id="InboxController_deleteNotification",
)
async def delete_notification(
    notification_id: NotificationId, session: Session, caller: Caller, owner: Owner, realtime: Realtime
) -> Response:
    """Delete one notification."""
    await feed.delete_one(session, caller.scope, realtime, owner, notification_id)
    return Response(status_code=204)


@router.post("/notifications/seen", status_code=204, operation_id="InboxController_markNotificationsAsSeen")
async def mark_seen(
    body: MarkAsSeenDto, session: Session, caller: Caller, owner: Owner, realtime: Realtime
) -> Response:
    """Mark notifications seen: those listed in `notificationIds`, or all that match `tags`/`data`."""
    feed_filter = filter_from_object({"tags": body.tags, "data": body.data})
    if body.notification_ids is not None:
        feed_filter = replace(feed_filter, message_ids=tuple(body.notification_ids))
    await feed.change_matching(session, caller.scope, realtime, owner, feed_filter, "seen")
    return Response(status_code=204)


async def _bulk(
    body: UpdateAllNotificationsDto,
    session: Session,
    caller: Caller,
    owner: FeedOwner,
    realtime: Realtime,
    change: feed.BulkChange,
) -> Response:
    feed_filter = filter_from_object({"tags": body.tags, "data": body.data})
    await feed.change_matching(session, caller.scope, realtime, owner, feed_filter, change)
    return Response(status_code=204)


@router.post("/notifications/read", status_code=204, operation_id="InboxController_readAll")
async def read_all(
    body: UpdateAllNotificationsDto, session: Session, caller: Caller, owner: Owner, realtime: Realtime
) -> Response:
    """Mark every notification (matching `tags`/`data`, when given) read."""
    return await _bulk(body, session, caller, owner, realtime, "read")


@router.post("/notifications/archive", status_code=204, operation_id="InboxController_archiveAll")
async def archive_all(
    body: UpdateAllNotificationsDto, session: Session, caller: Caller, owner: Owner, realtime: Realtime
) -> Response:
    """Archive every notification (matching `tags`/`data`, when given)."""
    return await _bulk(body, session, caller, owner, realtime, "archive")


@router.post("/notifications/read-archive", status_code=204, operation_id="InboxController_archiveAllRead")
async def archive_all_read(
    body: UpdateAllNotificationsDto, session: Session, caller: Caller, owner: Owner, realtime: Realtime
) -> Response:
    """Archive every read notification (matching `tags`/`data`, when given)."""
    return await _bulk(body, session, caller, owner, realtime, "read-archive")


@router.post("/notifications/delete", status_code=204, operation_id="InboxController_deleteAllNotifications")
async def delete_all(
    body: UpdateAllNotificationsDto, session: Session, caller: Caller, owner: Owner, realtime: Realtime
) -> Response:
    """Delete every notification (matching `tags`/`data`, when given)."""
    return await _bulk(body, session, caller, owner, realtime, "delete")


@router.get("/preferences", operation_id="InboxController_getAllPreferences")
async def list_preferences(
    session: Session,
    caller: Caller,
    criticality: preferences.Criticality = "nonCritical",
    tags: Annotated[list[str] | None, Query(alias="tags[]", max_length=100)] = None,
    severity: Annotated[list[str] | None, Query(alias="severity[]", max_length=4)] = None,
) -> Envelope[list[InboxPreferenceDto]]:
    """The global preference, then one per active workflow (`criticality`: nonCritical by
    default, critical or all; `tags[]` and `severity[]` narrow the workflows)."""
    return Envelope(
        data=await preferences.list_preferences(
            session,
            caller.scope,
            caller.subscriber_pk,
            criticality=criticality,
            tags=tags or (),
            severity=severity or (),
        )
    )


@router.get("/preferences/global", operation_id="InboxController_getGlobalPreferences")
async def global_preference(session: Session, caller: Caller) -> Envelope[InboxPreferenceDto]:
    """The subscriber's global channel switches."""
    return Envelope(data=await preferences.global_preference(session, caller.scope, caller.subscriber_pk))


@router.patch("/preferences", operation_id="InboxController_updateGlobalPreference")
async def update_global_preference(
    body: UpdateInboxPreferenceDto, session: Session, caller: Caller
) -> Envelope[InboxPreferenceDto]:
    """Switch channels for every workflow (`{email: false, ...}`)."""
    return Envelope(data=await preferences.update_global(session, caller.scope, caller.subscriber_pk, body))


@router.patch("/preferences/bulk", operation_id="InboxController_bulkUpdatePreferences")
async def bulk_update_preferences(
    body: BulkInboxPreferencesDto, session: Session, caller: Caller
) -> Envelope[list[InboxPreferenceDto]]:
    """Switch channels for up to 100 workflows at once (critical workflows: 400)."""
    return Envelope(
        data=await preferences.bulk_update(session, caller.scope, caller.subscriber_pk, body.preferences)
    )


@router.patch("/preferences/{workflowId}", operation_id="InboxController_updateWorkflowPreference")
async def update_workflow_preference(
    workflow_id: Annotated[str, Path(alias="workflowId", min_length=1, max_length=255)],
    body: UpdateInboxPreferenceDto,
    session: Session,
    caller: Caller,
) -> Envelope[InboxPreferenceDto]:
    """Switch channels for one workflow (its id or identifier). Critical workflows: 400."""
    return Envelope(
        data=await preferences.update_workflow(session, caller.scope, caller.subscriber_pk, workflow_id, body)
    )
