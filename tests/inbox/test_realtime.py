"""The socket.io server: token handshake, events on delivery and state changes, Redis fan-out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import socketio

from herald.db import Database
from herald.inbox import tokens
from herald.realtime.socket_publisher import worker_publisher
from tests.inbox.fixtures import deliver, inbox, session_token
from tests.support import POSTGRES_URL, REDIS_URL, DatabaseFactory, RunningServer, running, start_server

CTA = {"data": {"url": "/x"}, "action": {"buttons": [{"type": "primary", "content": "Open"}]}}


class Listener:
    """A socket.io client that records every event it receives."""

    def __init__(self) -> None:
        self.client = socketio.AsyncClient(reconnection=False)
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

        @self.client.on("*")
        async def record(event: str, data: Any) -> None:
            await self.events.put((event, data))

    async def connect(self, url: str, token: str | None = None, auth: dict[str, str] | None = None) -> None:
        query = f"?token={token}" if token else ""
        await self.client.connect(f"{url}{query}", transports=["websocket"], auth=auth, wait_timeout=10)

    async def next(self, name: str) -> Any:
        while True:
            event, data = await asyncio.wait_for(self.events.get(), timeout=10)
            if event == name:
                return data


async def test_delivery_and_state_changes_reach_the_subscriber(server: RunningServer) -> None:
    token = session_token(server, "sam")
    other = session_token(server, "tom")
    listener, bystander = Listener(), Listener()
    await listener.connect(server.url, token)
    await bystander.connect(server.url, auth={"token": other})
    try:
        message_id = await asyncio.to_thread(
            deliver, server, "sam", content="Hello Sam", cta=CTA, severity="high"
        )
        received = await listener.next("notification_received")
        message = received["message"]
        assert message["_id"] == message_id and message["content"] == "Hello Sam"
        assert message["read"] is False and message["seen"] is False and message["archived"] is False
        assert message["subscriber"]["subscriberId"] == "sam"
        assert message["cta"]["action"]["buttons"][0]["content"] == "Open"
        assert message["channel"] == "in_app" and message["severity"] == "high"
        for key in (
            "transactionId",
            "deliveredAt",
            "createdAt",
            "lastReadDate",
            "firstSeenDate",
            "archivedAt",
            "snoozedUntil",
            "subject",
            "avatar",
            "tags",
            "data",
            "workflow",
        ):
            assert key in message
        assert (await listener.next("unseen_count_changed")) == {"unseenCount": 1, "hasMore": False}
        unread = await listener.next("unread_count_changed")
        assert unread == {
            "unreadCount": 1,
            "counts": {"total": 1, "severity": {"high": 1, "medium": 0, "low": 0, "none": 0}},
        }

        # A message without any cta still carries one.
        await asyncio.to_thread(deliver, server, "sam", content="bare")
        bare = (await listener.next("notification_received"))["message"]
        assert bare["cta"]["action"] == {
            "status": "pending",
            "buttons": [],
            "result": {"type": None, "payload": {}},
        }
        assert (await listener.next("unread_count_changed"))["unreadCount"] == 2

        with inbox(server, token) as client:
            assert (
                await asyncio.to_thread(client.patch, f"/notifications/{message_id}/read")
            ).status_code == 200
        changed = await listener.next("unread_count_changed")
        assert changed["unreadCount"] == 1 and changed["counts"]["severity"]["high"] == 0
        # The server-side doors publish too.
        await asyncio.to_thread(
            httpx.post,
            f"{server.url}/v2/subscribers/sam/notifications/read",
            json={},
            headers=server.headers(),
        )
        assert (await listener.next("unread_count_changed"))["unreadCount"] == 0
        assert bystander.events.empty()
    finally:
        await listener.client.disconnect()
        await bystander.client.disconnect()


async def test_bad_tokens_are_refused(server: RunningServer) -> None:
    token = session_token(server, "uma")
    claims = tokens.unverified_claims(token)
    expired = tokens.issue(
        claims, server.keys["Development"], timedelta(seconds=1), now=tokens.utc_now() - timedelta(days=1)
    )
    foreign = tokens.issue(claims, server.keys["Production"], timedelta(hours=1))
    for bad in (None, "garbage", expired, foreign, token + "x"):
        listener = Listener()
        with pytest.raises(socketio.exceptions.ConnectionError):
            await listener.connect(server.url, bad)
    listener = Listener()
    await listener.connect(server.url, token)
    assert listener.client.connected
    await listener.client.disconnect()


@pytest.fixture
def redis_servers(
    database_factory: DatabaseFactory, tmp_path: Path
) -> Iterator[tuple[RunningServer, RunningServer]]:
    if not REDIS_URL:
        pytest.skip("HERALD_TEST_REDIS_URL is not set")
    overrides: dict[str, object] = {} if POSTGRES_URL else {"redis_url": REDIS_URL}
    settings = database_factory.settings_for(tmp_path / "data", **overrides)
    try:
        for first in running(settings):
            second = start_server(settings)
            try:
                yield first, second
            finally:
                second.stop()
    finally:
        database_factory.drop(settings)


async def test_emits_reach_sockets_on_another_process_through_redis(
    redis_servers: tuple[RunningServer, RunningServer],
) -> None:
    first, second = redis_servers
    token = session_token(first, "vic")
    listener = Listener()
    await listener.connect(second.url, token)
    try:
        await asyncio.sleep(0.5)  # the second server's Redis listener subscribes on the first connection
        message_id = await asyncio.to_thread(deliver, first, "vic", content="across")
        assert (await listener.next("notification_received"))["message"]["_id"] == message_id

        # A worker process: no sockets, a write-only Redis manager.
        database = Database(first.settings)
        try:
            publisher = worker_publisher(first.settings, database)
            await publisher.counts_changed(
                first.environment_ids["Development"], tokens.unverified_claims(token).subscriber_pk
            )
            assert (await listener.next("unread_count_changed"))["unreadCount"] == 1
        finally:
            await database.dispose()
    finally:
        await listener.client.disconnect()
