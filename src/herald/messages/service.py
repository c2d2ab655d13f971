"""Messages through the secret-key API: list them, delete one, or delete a transaction's.

Deleting in-app messages changes their subscribers' Inbox counts: the realtime publisher is
told once the deletion has committed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from herald.errors import NotFoundError
from herald.kit.after_commit import after_commit
from herald.kit.scope import EnvironmentScope
from herald.kit.time import iso
from herald.messages.repository import MessageFilter, MessageRepository, RemovedMessage
from herald.messages.schemas import (
    MessageActionDto,
    MessageActionResultDto,
    MessageButtonDto,
    MessageCtaDataDto,
    MessageCtaDto,
    MessageResponseDto,
    MessagesResponseDto,
)
from herald.models import Message, Subscriber
from herald.realtime.publisher import RealtimePublisher
from herald.subscribers import service as subscribers

_STATUSES = frozenset({"sent", "error", "warning"})
_BUTTON_TYPES = frozenset({"primary", "secondary"})
IN_APP = "in_app"


async def list_messages(
    session: AsyncSession,
    scope: EnvironmentScope,
    *,
    channel: str | None,
    subscriber_id: str | None,
    transaction_ids: list[str],
    page: int,
    limit: int,
) -> MessagesResponseDto:
    subscriber_row_id = None
    if subscriber_id is not None:
        subscriber_row_id = (await subscribers.find(session, scope, subscriber_id)).id
    where = MessageFilter(
        channel=channel, subscriber_row_id=subscriber_row_id, transaction_ids=transaction_ids
    )
    repository = MessageRepository(session, scope)
    rows = await repository.page(where, page * limit, limit + 1)
    return MessagesResponseDto(
        data=[to_response(message, subscriber) for message, subscriber in rows[:limit]],
        page=page,
        page_size=limit,
        has_more=len(rows) > limit,
        total_count=await repository.count(where),
    )


async def delete_message(
    session: AsyncSession, scope: EnvironmentScope, realtime: RealtimePublisher, message_id: str
) -> None:
    removed = await MessageRepository(session, scope).remove(MessageFilter(), message_id)
    if not removed:
        raise NotFoundError(f"Message with id {message_id} not found")
    _announce_counts(session, scope, realtime, removed)


async def delete_transaction_messages(
    session: AsyncSession,
    scope: EnvironmentScope,
    realtime: RealtimePublisher,
    transaction_id: str,
    channel: str | None,
) -> None:
    where = MessageFilter(channel=channel, transaction_ids=[transaction_id])
    removed = await MessageRepository(session, scope).remove(where)
    if not removed:
        raise NotFoundError(f"Invalid transactionId: {transaction_id}")
    _announce_counts(session, scope, realtime, removed)


def _announce_counts(
    session: AsyncSession, scope: EnvironmentScope, realtime: RealtimePublisher, removed: list[RemovedMessage]
) -> None:
    for subscriber_row_id in sorted({item.subscriber_row_id for item in removed if item.channel == IN_APP}):

        async def announce(subscriber_row_id: str = subscriber_row_id) -> None:
            await realtime.counts_changed(scope.environment_id, subscriber_row_id)

        after_commit(session, announce)


def to_response(message: Message, subscriber: Subscriber) -> MessageResponseDto:
    destination = message.destination
    return MessageResponseDto(
        id=message.id,
        template_id=message.workflow_id,
        environment_id=message.environment_id,
        organization_id=message.organization_id,
        notification_id=message.notification_id,
        subscriber_id=message.subscriber_id,
        subscriber=subscribers.to_response(subscriber),
        template_identifier=message.workflow_identifier,
        step_id=message.step_id,
        created_at=iso(message.created_at),
        delivered_at=[iso(message.delivered_at)] if message.delivered_at else [],
        last_seen_date=iso(message.first_seen_at) if message.first_seen_at else None,
        last_read_date=iso(message.last_read_at) if message.last_read_at else None,
        content=message.content,
        transaction_id=message.transaction_id,
        subject=message.subject,
        channel=message.channel,
        read=bool(message.read),
        seen=bool(message.seen),
        archived=bool(message.archived),
        snoozed_until=iso(message.snoozed_until) if message.snoozed_until else None,
        email=destination if message.channel == "email" else None,
        phone=destination if message.channel == "sms" else None,
        direct_webhook_url=destination if message.channel == "chat" else None,
        provider_id=message.provider_id,
        cta=message_cta(message.cta or {}),
        status=_status(message),
        error_text=message.error_text,
        tags=message.tags or [],
        data=message.data,
    )


def _status(message: Message) -> str:
    """One of the three statuses the clients know."""
    if message.status in _STATUSES:
        return message.status
    return "error" if message.error_text else "sent"


def message_cta(stored: Mapping[str, Any]) -> MessageCtaDto:
    """The stored call to action, keeping only values the clients' closed enumerations accept."""
    data = _mapping(stored.get("data"))
    action = _mapping(stored.get("action"))
    result = _mapping(action.get("result"))
    buttons = [
        MessageButtonDto(
            type=button["type"],
            content=button["content"],
            result_content=_text(button.get("resultContent")),
            url=_text(button.get("url")),
            target=_text(button.get("target")),
        )
        for button in (_mapping(item) for item in _list(action.get("buttons")))
        if button.get("type") in _BUTTON_TYPES and isinstance(button.get("content"), str)
    ]
    return MessageCtaDto(
        type="redirect" if stored.get("type") == "redirect" or data.get("url") else None,
        data=MessageCtaDataDto(url=_text(data.get("url")), target=_text(data.get("target")))
        if data
        else None,
        action=MessageActionDto(
            status=action["status"] if action.get("status") in ("pending", "done") else None,
            buttons=buttons,
            result=MessageActionResultDto(
                type=result["type"] if result.get("type") in _BUTTON_TYPES else None,
                payload=result["payload"] if isinstance(result.get("payload"), dict) else None,
            )
            if result
            else None,
        )
        if action
        else None,
    )


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
