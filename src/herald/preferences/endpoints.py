"""`/v2/subscribers/{subscriberId}/preferences`: global and per-workflow channel switches."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from herald.auth.dependencies import CurrentEnvironment, Session
from herald.kit.schemas import ERROR_RESPONSES, Envelope
from herald.preferences import service
from herald.preferences.schemas import (
    BulkUpdateSubscriberPreferencesDto,
    GetPreferencesResponseDto,
    GetSubscriberPreferencesDto,
    PatchSubscriberPreferencesDto,
)

router = APIRouter(prefix="/v2/subscribers", tags=["Subscribers"], responses=ERROR_RESPONSES)

SubscriberIdPath = Annotated[str, Path(alias="subscriberId", min_length=1, max_length=255)]


@router.get("/{subscriberId}/preferences", operation_id="SubscribersController_getSubscriberPreferences")
async def get_preferences(
    subscriber_id: SubscriberIdPath,
    session: Session,
    scope: CurrentEnvironment,
    criticality: Literal["critical", "nonCritical", "all"] = "nonCritical",
    context_keys: Annotated[list[str] | None, Query(alias="contextKeys", max_length=20)] = None,
) -> Envelope[GetSubscriberPreferencesDto]:
    """The subscriber's global channel switches and those it set for each workflow (keyed by
    workflow identifier). Channels not switched off are enabled. `criticality` and
    `contextKeys` are accepted; until workflows exist every listed workflow is non-critical
    and preferences are not split by context."""
    return Envelope(data=await service.get_preferences(session, scope, subscriber_id))


@router.patch("/{subscriberId}/preferences", operation_id="SubscribersController_updateSubscriberPreferences")
async def update_preferences(
    subscriber_id: SubscriberIdPath,
    body: PatchSubscriberPreferencesDto,
    session: Session,
    scope: CurrentEnvironment,
) -> Envelope[GetSubscriberPreferencesDto]:
    """Switch channels for one workflow (`workflowId`) or, without it, globally; answers with
    all the subscriber's preferences."""
    return Envelope(data=await service.update_preferences(session, scope, subscriber_id, body))


@router.patch(
    "/{subscriberId}/preferences/bulk", operation_id="SubscribersController_bulkUpdateSubscriberPreferences"
)
async def bulk_update_preferences(
    subscriber_id: SubscriberIdPath,
    body: BulkUpdateSubscriberPreferencesDto,
    session: Session,
    scope: CurrentEnvironment,
) -> Envelope[list[GetPreferencesResponseDto]]:
    """Switch channels for up to 100 workflows at once."""
    return Envelope(
        data=await service.bulk_update_preferences(session, scope, subscriber_id, body.preferences)
    )
