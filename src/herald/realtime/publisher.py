"""The one path from the engine (and the Inbox actions) to connected Inbox clients.

The engine calls `message_delivered` after the transaction that stored an in-app message has
committed (queue it with `herald.kit.after_commit.after_commit`); state changes (read, seen,
archived, ...) call `counts_changed`. The app and the worker hold one `RealtimePublisher` in
`app.state.realtime`; until the socket server is mounted it is `NullPublisher`, which drops
events.
"""

from __future__ import annotations

from typing import Protocol


class RealtimePublisher(Protocol):
    async def message_delivered(self, environment_id: str, subscriber_id: str, message_id: str) -> None:
        """A new in-app message (`subscriber_id` is the subscriber row's `id`, not subscriberId)."""

    async def counts_changed(self, environment_id: str, subscriber_id: str) -> None:
        """A subscriber's unread/unseen counts may have changed."""


class NullPublisher:
    async def message_delivered(self, environment_id: str, subscriber_id: str, message_id: str) -> None:
        return None

    async def counts_changed(self, environment_id: str, subscriber_id: str) -> None:
        return None
