"""Message rows as the clients read them: the Inbox's notification and Novu's raw document.

`Message.cta` holds Novu's call-to-action document:
`{type: "redirect", data: {url, target}, action: {status: "pending"|"done",
buttons: [{type: "primary"|"secondary", content, url, target}], result: {type, payload}}}`.
Every part may be missing in the row; what leaves Herald always has `cta`, `cta.data` and
`cta.action` (@novu/js reads `cta.action` without a check).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from herald.feed.schemas import (
    InboxActionDto,
    InboxNotificationDto,
    InboxSubscriberDto,
    MessageDocumentDto,
    MessageSubscriberDto,
    NotificationWorkflowDto,
    RedirectDto,
)
from herald.kit.time import iso
from herald.models import Message

_TARGETS = ("_self", "_blank", "_parent", "_top", "_unfencedTop")


@dataclass(frozen=True)
class FeedOwner:
    """The subscriber whose feed a call reads or changes."""

    pk: str
    subscriber_id: str
    first_name: str | None = None
    last_name: str | None = None
    avatar: str | None = None
    created_at: str = ""
    updated_at: str = ""


def aware(moment: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; Herald stores UTC."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def is_snoozed(message: Message, now: datetime) -> bool:
    until = aware(message.snoozed_until)
    return until is not None and until > now


def normalized_cta(cta: dict[str, Any] | None) -> dict[str, Any]:
    cta = cta or {}
    action = cta.get("action") or {}
    return {
        "type": cta.get("type") or "redirect",
        "data": dict(cta.get("data") or {}),
        "action": {
            "status": action.get("status") or "pending",
            "buttons": list(action.get("buttons") or []),
            "result": dict(action.get("result") or {"type": None, "payload": {}}),
        },
    }


def _redirect(url: Any, target: Any) -> RedirectDto | None:
    if not isinstance(url, str) or not url:
        return None
    return RedirectDto(url=url, target=target if target in _TARGETS else None)


def _workflow(message: Message, workflow_name: str | None) -> NotificationWorkflowDto:
    return NotificationWorkflowDto(
        id=message.workflow_id or message.workflow_identifier,
        identifier=message.workflow_identifier,
        name=workflow_name or message.workflow_identifier,
        critical=message.critical,
        tags=list(message.tags or []),
        severity=message.severity,
    )


def _when(moment: datetime | None) -> str | None:
    return iso(moment) if moment is not None else None


def to_inbox_notification(
    message: Message, owner: FeedOwner, workflow_name: str | None, now: datetime
) -> InboxNotificationDto:
    cta = normalized_cta(message.cta)
    action = cta["action"]
    result_type = action["result"].get("type")
    done = action["status"] == "done"

    def button(kind: str) -> InboxActionDto | None:
        found = next((item for item in action["buttons"] if item.get("type") == kind), None)
        if found is None:
            return None
        return InboxActionDto(
            label=str(found.get("content") or ""),
            is_completed=done and result_type == kind,
            redirect=_redirect(found.get("url"), found.get("target")),
        )

    snoozed = is_snoozed(message, now)
    return InboxNotificationDto(
        id=message.id,
        transaction_id=message.transaction_id,
        subject=message.subject,
        body=message.content,
        to=InboxSubscriberDto(
            id=owner.pk,
            subscriber_id=owner.subscriber_id,
            first_name=owner.first_name,
            last_name=owner.last_name,
            avatar=owner.avatar,
        ),
        is_read=message.read,
        is_seen=message.seen,
        is_archived=message.archived,
        is_snoozed=snoozed,
        snoozed_until=_when(message.snoozed_until) if snoozed else None,
        delivered_at=[iso(message.delivered_at)] if message.delivered_at else None,
        created_at=iso(message.created_at),
        read_at=_when(message.last_read_at),
        first_seen_at=_when(message.first_seen_at),
        archived_at=_when(message.archived_at),
        avatar=message.avatar,
        primary_action=button("primary"),
        secondary_action=button("secondary"),
        channel_type=message.channel,
        tags=list(message.tags or []),
        data=message.data,
        redirect=_redirect(cta["data"].get("url"), cta["data"].get("target")),
        workflow=_workflow(message, workflow_name),
        severity=message.severity,
    )


def to_message_document(
    message: Message,
    owner: FeedOwner,
    workflow_name: str | None,
    now: datetime,
    payload: dict[str, Any] | None = None,
) -> MessageDocumentDto:
    snoozed = is_snoozed(message, now)
    return MessageDocumentDto(
        id=message.id,
        template_id=message.workflow_id or "",
        environment_id=message.environment_id,
        organization_id=message.organization_id,
        notification_id=message.notification_id,
        subscriber_id=owner.pk,
        job_id=message.job_id or "",
        transaction_id=message.transaction_id,
        template_identifier=message.workflow_identifier,
        provider_id=message.provider_id,
        channel=message.channel,
        subject=message.subject,
        content=message.content,
        avatar=message.avatar,
        read=message.read,
        seen=message.seen,
        archived=message.archived,
        snoozed_until=_when(message.snoozed_until) if snoozed else None,
        delivered_at=[iso(message.delivered_at)] if message.delivered_at else [],
        created_at=iso(message.created_at),
        updated_at=iso(message.updated_at),
        last_read_date=_when(message.last_read_at),
        first_seen_date=_when(message.first_seen_at),
        last_seen_date=_when(message.first_seen_at),
        archived_at=_when(message.archived_at),
        cta=normalized_cta(message.cta),
        status=message.status,
        error_text=message.error_text,
        tags=list(message.tags or []),
        data=message.data,
        payload=payload or {},
        severity=message.severity,
        critical=message.critical,
        subscriber=MessageSubscriberDto(
            id=owner.pk,
            subscriber_id=owner.subscriber_id,
            organization_id=message.organization_id,
            environment_id=message.environment_id,
            created_at=owner.created_at,
            updated_at=owner.updated_at,
            first_name=owner.first_name,
            last_name=owner.last_name,
            avatar=owner.avatar,
        ),
        workflow=_workflow(message, workflow_name),
    )
