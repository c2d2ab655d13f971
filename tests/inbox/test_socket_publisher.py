"""The socket publisher builds a delivery's events only when someone may be listening."""

from __future__ import annotations

from typing import Any, cast

import socketio

from herald.db import Database
from herald.realtime.server import NAMESPACE, subscriber_room
from herald.realtime.socket_publisher import SocketPublisher


class Unreachable:
    """A database that must not be asked: any session raises."""

    def session(self, **_: Any) -> Any:
        raise AssertionError("the publisher queried the database")


async def test_no_socket_in_the_room_means_no_queries_and_no_emits() -> None:
    server = socketio.AsyncServer(async_mode="asgi")
    emitted: list[str] = []

    async def emit(event: str, *_: Any, **__: Any) -> None:
        emitted.append(event)

    server.emit = emit  # type: ignore[method-assign]
    publisher = SocketPublisher(server, cast(Database, Unreachable()))
    await publisher.message_delivered("environment", "subscriber", "message")
    await publisher.counts_changed("environment", "subscriber")
    assert emitted == []


async def test_a_socket_in_the_room_or_a_shared_manager_means_the_events_are_built() -> None:
    server = socketio.AsyncServer(async_mode="asgi")
    publisher = SocketPublisher(server, cast(Database, Unreachable()))
    assert not publisher._may_be_listening("environment", "subscriber")
    server.manager.rooms.setdefault(NAMESPACE, {})[subscriber_room("environment", "subscriber")] = {
        "sid": "eio-sid"
    }
    assert publisher._may_be_listening("environment", "subscriber")
    shared = socketio.AsyncRedisManager("redis://127.0.0.1:1/0", write_only=True)
    assert SocketPublisher(shared, cast(Database, Unreachable()))._may_be_listening("environment", "other")
