"""The one implementation of a subscriber's in-app feed: list, count, and every state change
(seen, read, archived, snoozed, actions, delete). Three doors use it: the Inbox routes
(`/v1/inbox/*`, subscriber token), the v2 server routes and the legacy v1 feed routes
(secret key). Every change that touched a row tells the realtime publisher, after commit.

State rules (Novu's): reading marks seen; archiving marks read and seen; a snoozed
notification is one whose `snoozedUntil` is in the future, so it comes back by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal

from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession

from herald.errors import BadRequestError, NotFoundError
from herald.feed.documents import (
    FeedOwner,
    aware,
    is_snoozed,
    normalized_cta,
    to_inbox_notification,
    to_message_document,
)
from herald.feed.filters import UNREAD, UNSEEN, FeedFilter
from herald.feed.repository import FeedRepository
from herald.feed.schemas import (
    InboxNotificationDto,
    MessageDocumentDto,
    SeverityCountsDto,
    UnreadCountsDto,
)
from herald.kit.after_commit import after_commit
from herald.kit.scope import EnvironmentScope
from herald.kit.time import iso, utc_now
from herald.models import Message, Subscriber
from herald.realtime.publisher import RealtimePublisher
from herald.subscribers.repository import SubscriberRepository

MAX_SNOOZE = timedelta(days=90)
MAX_SNOOZE_HOURS = int(MAX_SNOOZE.total_seconds() // 3600)
StateChange = Literal["read", "unread", "seen", "unseen", "archive", "unarchive", "unsnooze"]
BulkChange = Literal["read", "seen", "archive", "read-archive", "delete"]


def _owner(row: Subscriber) -> FeedOwner:
    return FeedOwner(
        row.id,
        row.subscriber_id,
        row.first_name,
        row.last_name,
        row.avatar,
        iso(row.created_at),
        iso(row.updated_at),
    )


async def owner_by_subscriber_id(
    session: AsyncSession, scope: EnvironmentScope, subscriber_id: str
) -> FeedOwner:
    row = await SubscriberRepository(session, scope).by_subscriber_id(subscriber_id)
    if row is None:
        raise NotFoundError(f"Subscriber: {subscriber_id} was not found")
    return _owner(row)


async def owner_by_pk(session: AsyncSession, scope: EnvironmentScope, subscriber_pk: str) -> FeedOwner | None:
    row = await SubscriberRepository(session, scope).get(subscriber_pk)
    return _owner(row) if row is not None else None


# Reading


async def list_notifications(
    session: AsyncSession,
    scope: EnvironmentScope,
    owner: FeedOwner,
    feed_filter: FeedFilter,
    *,
    limit: int,
    after: str | None = None,
    offset: int = 0,
) -> tuple[list[InboxNotificationDto], bool]:
    now = utc_now()
    repository = FeedRepository(session, scope)
    rows, has_more = await repository.page(
        owner.pk, feed_filter, now, limit=limit, after=after, offset=offset
    )
    names = await repository.workflow_names({row.notification_id for row in rows})
    return [to_inbox_notification(row, owner, names.get(row.notification_id), now) for row in rows], has_more


async def legacy_page(
    session: AsyncSession,
    scope: EnvironmentScope,
    owner: FeedOwner,
    feed_filter: FeedFilter,
    *,
    page: int,
    limit: int,
) -> tuple[list[MessageDocumentDto], bool, int]:
    """The v1 feed: a page of raw message documents, newest first, and the total."""
    now = utc_now()
    repository = FeedRepository(session, scope)
    rows, has_more = await repository.page(owner.pk, feed_filter, now, limit=limit, offset=page * limit)
    total = await repository.count(owner.pk, feed_filter, now)
    return await _documents(repository, owner, rows, now), has_more, total


async def count(
    session: AsyncSession, scope: EnvironmentScope, owner: FeedOwner, filters: Sequence[FeedFilter]
) -> list[int]:
    now = utc_now()
    repository = FeedRepository(session, scope)
    return [await repository.count(owner.pk, feed_filter, now) for feed_filter in filters]


async def unread_counts(
    session: AsyncSession, scope: EnvironmentScope, subscriber_pk: str
) -> UnreadCountsDto:
    """Unread, not archived, not snoozed: what the bell shows, by severity."""
    by_severity = await FeedRepository(session, scope).count_by_severity(subscriber_pk, UNREAD, utc_now())
    return UnreadCountsDto(
        total=sum(by_severity.values()), severity=SeverityCountsDto.model_validate(by_severity)
    )


async def unseen_count(session: AsyncSession, scope: EnvironmentScope, subscriber_pk: str) -> int:
    return await FeedRepository(session, scope).count(subscriber_pk, UNSEEN, utc_now())


async def inbox_notification(
    session: AsyncSession, scope: EnvironmentScope, owner: FeedOwner, message_id: str
) -> InboxNotificationDto:
    repository = FeedRepository(session, scope)
    row = await _find(repository, owner, message_id)
    names = await repository.workflow_names({row.notification_id})
    return to_inbox_notification(row, owner, names.get(row.notification_id), utc_now())


async def message_documents(
    session: AsyncSession, scope: EnvironmentScope, owner: FeedOwner, message_ids: Sequence[str]
) -> list[MessageDocumentDto]:
    repository = FeedRepository(session, scope)
    rows = await repository.many(owner.pk, message_ids)
    return await _documents(repository, owner, rows, utc_now())


async def delivered_document(
    session: AsyncSession, scope: EnvironmentScope, subscriber_pk: str, message_id: str
) -> MessageDocumentDto | None:
    """The raw document of a newly delivered message (the `notification_received` event)."""
    owner = await owner_by_pk(session, scope, subscriber_pk)
    if owner is None:
        return None
    repository = FeedRepository(session, scope)
    row = await repository.one(owner.pk, message_id)
    if row is None:
        return None
    return (await _documents(repository, owner, [row], utc_now()))[0]


async def _documents(
    repository: FeedRepository, owner: FeedOwner, rows: Sequence[Message], now: datetime
) -> list[MessageDocumentDto]:
    notification_ids = {row.notification_id for row in rows}
    names = await repository.workflow_names(notification_ids)
    payloads = await repository.payloads(notification_ids)
    return [
        to_message_document(
            row, owner, names.get(row.notification_id), now, payloads.get(row.notification_id)
        )
        for row in rows
    ]


# Changing


def _values(change: StateChange | BulkChange, now: datetime) -> dict[str, Any]:
    seen = {"seen": True, "first_seen_at": func.coalesce(Message.first_seen_at, now)}
    read = {**seen, "read": True, "last_read_at": func.coalesce(Message.last_read_at, now)}
    if change == "read":
        return {**seen, "read": True, "last_read_at": now}
    if change == "unread":
        return {"read": False, "last_read_at": None}
    if change == "seen":
        return seen
    if change == "unseen":
        return {"seen": False}
    if change in ("archive", "read-archive"):
        return {**read, "archived": True, "archived_at": now}
    if change == "unarchive":
        return {"archived": False, "archived_at": None}
    return {"snoozed_until": None, "delivered_at": now}  # unsnooze: delivered again, now


def _notify(
    session: AsyncSession, scope: EnvironmentScope, realtime: RealtimePublisher, owner: FeedOwner
) -> None:
    after_commit(session, partial(realtime.counts_changed, scope.environment_id, owner.pk))


async def change_state(
    session: AsyncSession,
    scope: EnvironmentScope,
    realtime: RealtimePublisher,
    owner: FeedOwner,
    message_id: str,
    change: StateChange,
) -> None:
    """read / unread / seen / unseen / archive / unarchive / unsnooze one notification (404 when
    it is not this subscriber's)."""
    repository = FeedRepository(session, scope)
    row = await _find(repository, owner, message_id)
    now = utc_now()
    if change == "unsnooze" and not is_snoozed(row, now):
        raise BadRequestError(f"Notification with id: {message_id} is not snoozed.")
    await repository.update_where(owner.pk, FeedFilter(message_ids=(row.id,)), now, _values(change, now))
    await session.refresh(row)
    _notify(session, scope, realtime, owner)


async def snooze(
    session: AsyncSession,
    scope: EnvironmentScope,
    realtime: RealtimePublisher,
    owner: FeedOwner,
    message_id: str,
    until: datetime,
) -> None:
    repository = FeedRepository(session, scope)
    row = await _find(repository, owner, message_id)
    now = utc_now()
    until = aware(until) or until
    if until <= now:
        raise BadRequestError("snoozeUntil must be in the future.")
    if until - now > MAX_SNOOZE:
        raise BadRequestError(f"snoozeUntil must be within {MAX_SNOOZE_HOURS} hours.")
    await repository.update_where(owner.pk, FeedFilter(message_ids=(row.id,)), now, {"snoozed_until": until})
    await session.refresh(row)
    _notify(session, scope, realtime, owner)


async def set_action(
    session: AsyncSession,
    scope: EnvironmentScope,
    realtime: RealtimePublisher,
    owner: FeedOwner,
    message_id: str,
    action_type: str,
    *,
    done: bool,
    payload: dict[str, Any] | None = None,
    require_button: bool = True,
) -> None:
    """Complete (`done`) or revert a notification's primary or secondary action."""
    repository = FeedRepository(session, scope)
    row = await _find(repository, owner, message_id)
    cta = normalized_cta(row.cta)
    if require_button and not any(button.get("type") == action_type for button in cta["action"]["buttons"]):
        raise BadRequestError(f"Notification with id: {message_id} has no {action_type} action.")
    cta["action"]["status"] = "done" if done else "pending"
    cta["action"]["result"] = {"type": action_type, "payload": payload or {}}
    row.cta = cta
    await session.flush()
    _notify(session, scope, realtime, owner)


async def change_matching(
    session: AsyncSession,
    scope: EnvironmentScope,
    realtime: RealtimePublisher,
    owner: FeedOwner,
    feed_filter: FeedFilter,
    change: StateChange | BulkChange,
) -> int:
    """Change (or delete) every notification of the subscriber that `feed_filter` matches; how
    many changed. `read-archive` archives the read ones."""
    now = utc_now()
    repository = FeedRepository(session, scope)
    if change == "delete":
        changed = await repository.delete_where(owner.pk, feed_filter, now)
    else:
        if change == "read-archive":
            feed_filter = replace(feed_filter, read=True, archived=False)
        changed = await repository.update_where(owner.pk, feed_filter, now, _values(change, now))
    if changed:
        _notify(session, scope, realtime, owner)
    return changed


async def delete_one(
    session: AsyncSession,
    scope: EnvironmentScope,
    realtime: RealtimePublisher,
    owner: FeedOwner,
    message_id: str,
) -> None:
    repository = FeedRepository(session, scope)
    row = await _find(repository, owner, message_id)
    await repository.delete_where(owner.pk, FeedFilter(message_ids=(row.id,)), utc_now())
    _notify(session, scope, realtime, owner)


async def _find(repository: FeedRepository, owner: FeedOwner, message_id: str) -> Message:
    row = await repository.one(owner.pk, message_id)
    if row is None:
        raise NotFoundError(f"Notification with id: {message_id} is not found.")
    return row
