"""`/v1/messages`: the messages each workflow step sent, for the secret-key API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from herald.auth.dependencies import CurrentEnvironment, Session
from herald.kit.schemas import ERROR_RESPONSES, Envelope
from herald.messages import service
from herald.messages.schemas import ChannelType, DeleteMessageResponseDto, MessagesResponseDto
from herald.realtime.publisher import RealtimePublisher

router = APIRouter(prefix="/v1/messages", tags=["Messages"], responses=ERROR_RESPONSES)

MAX_PAGE = 1_000_000
MAX_LIMIT = 1_000


def realtime_publisher(request: Request) -> RealtimePublisher:
    publisher: RealtimePublisher = request.app.state.realtime
    return publisher


Realtime = Annotated[RealtimePublisher, Depends(realtime_publisher)]


@router.get("", operation_id="MessagesController_getMessages", response_model_exclude_none=True)
async def list_messages(
    session: Session,
    scope: CurrentEnvironment,
    channel: ChannelType | None = None,
    subscriber_id: Annotated[str | None, Query(alias="subscriberId", min_length=1, max_length=255)] = None,
    transaction_id: Annotated[
        list[Annotated[str, Query(max_length=255)]], Query(alias="transactionId", max_length=100)
    ] = [],  # noqa: B006 (FastAPI copies defaults)
    page: Annotated[float, Query(ge=0, le=MAX_PAGE)] = 0,
    limit: Annotated[float, Query(ge=1, le=MAX_LIMIT)] = 10,
) -> MessagesResponseDto:
    """List the messages sent in this environment, newest first, filtered by **channel**,
    **subscriberId** (404 when there is no such subscriber) and **transactionId** (one or
    more). Paged with **page** (from 0) and **limit**; `totalCount` counts every match."""
    return await service.list_messages(
        session,
        scope,
        channel=channel,
        subscriber_id=subscriber_id,
        transaction_ids=transaction_id,
        page=int(page),
        limit=int(limit),
    )


@router.delete("/{messageId}", operation_id="MessagesController_deleteMessage")
async def delete_message(
    message_id: Annotated[str, Path(alias="messageId", min_length=1, max_length=64)],
    session: Session,
    scope: CurrentEnvironment,
    realtime: Realtime,
) -> Envelope[DeleteMessageResponseDto]:
    """Delete one message by its `_id`. This cannot be undone."""
    await service.delete_message(session, scope, realtime, message_id)
    return Envelope(data=DeleteMessageResponseDto(acknowledged=True, status="deleted"))


@router.delete(
    "/transaction/{transactionId}",
    status_code=204,
    response_class=Response,
    operation_id="MessagesController_deleteMessagesByTransactionId",
)
async def delete_transaction_messages(
    transaction_id: Annotated[str, Path(alias="transactionId", min_length=1, max_length=255)],
    session: Session,
    scope: CurrentEnvironment,
    realtime: Realtime,
    channel: ChannelType | None = None,
) -> None:
    """Delete every message of one triggered event (its **transactionId**), or only those of
    one **channel**. 404 when there is none."""
    await service.delete_transaction_messages(session, scope, realtime, transaction_id, channel)
