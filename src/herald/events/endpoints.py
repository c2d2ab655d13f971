"""`/v1/events/trigger`: single, bulk and broadcast triggers, and cancel by transactionId."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from herald.auth.dependencies import CurrentEnvironment, Session
from herald.events import service
from herald.events.intake import TriggerIntake
from herald.events.schemas import (
    BulkTriggerEventDto,
    TriggerEventRequestDto,
    TriggerEventResponseDto,
    TriggerEventToAllRequestDto,
)
from herald.kit.schemas import ERROR_RESPONSES, Envelope
from herald.kit.time import utc_now

router = APIRouter(prefix="/v1/events", tags=["Events"], responses=ERROR_RESPONSES)


def _intake(request: Request) -> TriggerIntake:
    intake: TriggerIntake = request.app.state.trigger_intake
    return intake


@router.post(
    "/trigger",
    status_code=201,
    operation_id="EventsController_trigger",
    response_model_exclude_none=True,
)
async def trigger(
    body: TriggerEventRequestDto, request: Request, session: Session, scope: CurrentEnvironment
) -> Envelope[TriggerEventResponseDto]:
    """Trigger a workflow (`name` is its identifier) for `to`: a subscriberId, a subscriber
    (created or updated), a topic (`{type: "Topic", topicKey, exclude?}`), or a list of up to
    100 of them. The event is stored and processed asynchronously. A `transactionId` already
    used in this environment is not processed again (`status: "error"`)."""
    [answer] = await _intake(request).accept(
        session, scope, lambda checks: service.check_trigger(checks, body)
    )
    return Envelope(data=answer.as_dto())


@router.post(
    "/trigger/bulk",
    status_code=201,
    operation_id="EventsController_triggerBulk",
    response_model_exclude_none=True,
)
async def trigger_bulk(
    body: BulkTriggerEventDto, request: Request, session: Session, scope: CurrentEnvironment
) -> Envelope[list[TriggerEventResponseDto]]:
    """Trigger up to 100 events in one request; the answer lists one trigger response per
    event, in order. An event that is invalid gets `status: "error"` without failing the others."""
    answers = await _intake(request).accept(
        session, scope, lambda checks: service.check_bulk(checks, body.events)
    )
    return Envelope(data=[answer.as_dto() for answer in answers])


@router.post(
    "/trigger/broadcast",
    status_code=201,
    operation_id="EventsController_broadcastEventToAll",
    response_model_exclude_none=True,
)
async def trigger_broadcast(
    body: TriggerEventToAllRequestDto, request: Request, session: Session, scope: CurrentEnvironment
) -> Envelope[TriggerEventResponseDto]:
    """Trigger a workflow for every subscriber of the environment (except the actor)."""
    [answer] = await _intake(request).accept(
        session, scope, lambda checks: service.check_trigger(checks, body)
    )
    return Envelope(data=answer.as_dto())


@router.delete("/trigger/{transactionId}", operation_id="EventsController_cancel")
async def cancel(
    transaction_id: Annotated[str, Path(alias="transactionId", min_length=1, max_length=255)],
    session: Session,
    scope: CurrentEnvironment,
) -> Envelope[bool]:
    """Cancel what is still pending of a transaction: delayed and waiting step jobs, fan-out
    not yet done, and notifications not yet completed. `true` when something was canceled."""
    return Envelope(data=await service.cancel_transaction(session, scope, transaction_id, utc_now()))
