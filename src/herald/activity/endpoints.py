"""`/v1/notifications`: the activity feed of triggered events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from herald.activity import service
from herald.activity.repository import NotificationFilter
from herald.activity.schemas import (
    ActivitiesResponseDto,
    ActivityNotificationResponseDto,
    ChannelType,
    Severity,
)
from herald.auth.dependencies import CurrentEnvironment, Session
from herald.errors import FieldValidationError
from herald.kit.schemas import ERROR_RESPONSES, Envelope

router = APIRouter(prefix="/v1/notifications", tags=["Notifications"], responses=ERROR_RESPONSES)

MAX_PAGE = 1_000_000
_MOMENT: dict[str, Any] = {"max_length": 64, "examples": ["2026-01-31T12:00:00Z", "2026-01-31"]}
TextList = Annotated[list[Annotated[str, Query(max_length=255)]], Query(max_length=100)]


@router.get("", operation_id="NotificationsController_listNotifications", response_model_exclude_none=True)
async def list_notifications(
    session: Session,
    scope: CurrentEnvironment,
    channels: Annotated[list[ChannelType], Query(max_length=5)] = [],  # noqa: B006 (FastAPI copies defaults)
    templates: TextList = [],  # noqa: B006
    emails: TextList = [],  # noqa: B006
    subscriber_ids: Annotated[
        list[Annotated[str, Query(max_length=255)]], Query(alias="subscriberIds", max_length=100)
    ] = [],  # noqa: B006
    severity: Annotated[list[Severity], Query(max_length=4)] = [],  # noqa: B006
    transaction_id: Annotated[str | None, Query(alias="transactionId", max_length=255)] = None,
    search: Annotated[str | None, Query(max_length=255)] = None,
    after: Annotated[
        str | None, Query(description="Only events created at or after this time.", **_MOMENT)
    ] = None,
    before: Annotated[
        str | None, Query(description="Only events created at or before this time.", **_MOMENT)
    ] = None,
    page: Annotated[float, Query(ge=0, le=MAX_PAGE)] = 0,
    limit: Annotated[float, Query(ge=1, le=50)] = 10,
) -> ActivitiesResponseDto:
    """List the events triggered in this environment, newest first: one item per trigger and
    subscriber, with the subscriber, the workflow, and each step's job with its execution
    details. Filter by **channels** (events whose workflow has such a step), **templates**
    (workflow `_id`s or identifiers), subscriber **emails**, **subscriberIds**, **severity**,
    **transactionId**, a creation time range (**after** / **before**, ISO 8601), or
    **search** (a part of the transaction id, workflow name or identifier, subscriberId or
    email). Paged with **page** (from 0) and **limit** (at most 50)."""
    where = NotificationFilter(
        channels=channels,
        templates=templates,
        severities=severity,
        transaction_id=transaction_id,
        after=_moment("after", after),
        before=_moment("before", before),
        search=search or None,
    )
    return await service.list_notifications(
        session, scope, where, int(page), int(limit), subscriber_ids=subscriber_ids, emails=emails
    )


def _moment(name: str, value: str | None) -> datetime | None:
    """An ISO 8601 date or date-time (a time without offset is UTC)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.upper())
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):
        raise FieldValidationError(
            {name: f"{name} must be an ISO 8601 date or date-time"}, {name: value}
        ) from None


@router.get(
    "/{notificationId}",
    operation_id="NotificationsController_getNotification",
    response_model_exclude_none=True,
)
async def get_notification(
    notification_id: Annotated[str, Path(alias="notificationId", min_length=1, max_length=64)],
    session: Session,
    scope: CurrentEnvironment,
) -> Envelope[ActivityNotificationResponseDto]:
    """Retrieve one event (a notification) by its `_id`: its subscriber, workflow, and the job of
    each step with the step, its status and its execution log."""
    return Envelope(data=await service.get_notification(session, scope, notification_id))
