"""The process's realtime publisher, for endpoints whose changes the Inbox must hear about."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from herald.realtime.publisher import RealtimePublisher


def realtime_publisher(request: Request) -> RealtimePublisher:
    publisher: RealtimePublisher = request.app.state.realtime
    return publisher


Realtime = Annotated[RealtimePublisher, Depends(realtime_publisher)]
