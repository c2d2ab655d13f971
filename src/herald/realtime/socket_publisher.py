"""`RealtimePublisher` over socket.io: what the engine and the feed call after their commits.

The API process emits through its own socket server (in-process, or through Redis to every
API process). A worker process has no sockets: `worker_publisher` gives it a write-only Redis
manager that reaches the API processes' sockets, or, without Redis, a publisher that drops
events (a single `herald serve` process shares the API's publisher instead).
"""

from __future__ import annotations

from typing import Any, Protocol

import socketio
from socketio.async_pubsub_manager import AsyncPubSubManager

from herald.config import Settings
from herald.db import Database
from herald.feed import service as feed
from herald.inbox.repository import InboxScopeRepository
from herald.kit.scope import EnvironmentScope
from herald.realtime.publisher import NullPublisher, RealtimePublisher
from herald.realtime.server import NAMESPACE, redis_manager, subscriber_room

NOTIFICATION_RECEIVED = "notification_received"
UNSEEN_COUNT_CHANGED = "unseen_count_changed"
UNREAD_COUNT_CHANGED = "unread_count_changed"


class Emitter(Protocol):
    """`socketio.AsyncServer` and `socketio.AsyncRedisManager` both fit."""

    async def emit(
        self, event: str, data: Any, *, room: str | None = ..., namespace: str | None = ...
    ) -> Any: ...


class SocketPublisher:
    def __init__(self, emitter: Emitter, database: Database) -> None:
        self.emitter = emitter
        self.database = database

    async def message_delivered(self, environment_id: str, subscriber_id: str, message_id: str) -> None:
        if not self._may_be_listening(environment_id, subscriber_id):
            return
        async with self.database.session(write=False) as session:
            scope = await InboxScopeRepository(session).scope_of(environment_id)
            if scope is None:
                return
            document = await feed.delivered_document(session, scope, subscriber_id, message_id)
            if document is None:
                return
            events = await _count_events(session, scope, subscriber_id)
        room = subscriber_room(environment_id, subscriber_id)
        await self._emit(
            NOTIFICATION_RECEIVED, {"message": document.model_dump(by_alias=True, mode="json")}, room
        )
        for event, data in events:
            await self._emit(event, data, room)

    async def counts_changed(self, environment_id: str, subscriber_id: str) -> None:
        if not self._may_be_listening(environment_id, subscriber_id):
            return
        async with self.database.session(write=False) as session:
            scope = await InboxScopeRepository(session).scope_of(environment_id)
            if scope is None:
                return
            events = await _count_events(session, scope, subscriber_id)
        room = subscriber_room(environment_id, subscriber_id)
        for event, data in events:
            await self._emit(event, data, room)

    def _may_be_listening(self, environment_id: str, subscriber_id: str) -> bool:
        """False only when no socket anywhere is in the subscriber's room: the server keeps
        every socket in this process (no Redis), and none of them joined it. Then the event
        is not built at all (a 100,000-member topic trigger to offline subscribers costs no
        feed queries)."""
        manager = getattr(self.emitter, "manager", None)
        if not isinstance(manager, socketio.AsyncManager) or isinstance(manager, AsyncPubSubManager):
            return True
        room = subscriber_room(environment_id, subscriber_id)
        return bool(manager.rooms.get(NAMESPACE, {}).get(room))

    async def _emit(self, event: str, data: dict[str, Any], room: str) -> None:
        await self.emitter.emit(event, data, room=room, namespace=NAMESPACE)


async def _count_events(
    session: Any, scope: EnvironmentScope, subscriber_pk: str
) -> list[tuple[str, dict[str, Any]]]:
    unseen = await feed.unseen_count(session, scope, subscriber_pk)
    unread = await feed.unread_counts(session, scope, subscriber_pk)
    return [
        (UNSEEN_COUNT_CHANGED, {"unseenCount": unseen, "hasMore": False}),
        (
            UNREAD_COUNT_CHANGED,
            {"unreadCount": unread.total, "counts": unread.model_dump(by_alias=True, mode="json")},
        ),
    ]


def worker_publisher(settings: Settings, database: Database) -> RealtimePublisher:
    """The publisher of a process without sockets (`herald worker`)."""
    manager = redis_manager(settings, write_only=True)
    if manager is None:
        return NullPublisher()
    return SocketPublisher(manager, database)
