"""`/v1/integrations`: the providers each channel of the environment delivers through."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from herald.auth.dependencies import Box, CurrentEnvironment, Session
from herald.integrations import service
from herald.integrations.schemas import (
    CreateIntegrationRequestDto,
    IntegrationResponseDto,
    UpdateIntegrationRequestDto,
)
from herald.kit.schemas import ERROR_RESPONSES, Envelope

router = APIRouter(prefix="/v1/integrations", tags=["Integrations"], responses=ERROR_RESPONSES)

IntegrationId = Annotated[str, Path(alias="integrationId", max_length=64)]


@router.get(
    "",
    operation_id="IntegrationsController_listIntegrations",
    response_model_exclude_none=True,
)
async def list_integrations(
    session: Session, box: Box, scope: CurrentEnvironment
) -> Envelope[list[IntegrationResponseDto]]:
    """List the environment's integrations, active or not. Credentials are masked."""
    return Envelope(data=await service.list_integrations(session, box, scope))


@router.get(
    "/active",
    operation_id="IntegrationsController_getActiveIntegrations",
    response_model_exclude_none=True,
)
async def list_active_integrations(
    session: Session, box: Box, scope: CurrentEnvironment
) -> Envelope[list[IntegrationResponseDto]]:
    """List the environment's active integrations. Credentials are masked."""
    return Envelope(data=await service.list_integrations(session, box, scope, active_only=True))


@router.post(
    "",
    status_code=201,
    operation_id="IntegrationsController_createIntegration",
    response_model_exclude_none=True,
)
async def create_integration(
    body: CreateIntegrationRequestDto, session: Session, box: Box, scope: CurrentEnvironment
) -> Envelope[IntegrationResponseDto]:
    """Create an integration of a provider for one channel. Its credentials are stored sealed
    and answered masked. An active email or sms integration becomes the channel's primary
    when the channel has none. The identifier is generated from the name when absent."""
    return Envelope(data=await service.create_integration(session, box, scope, body))


@router.put(
    "/{integrationId}",
    operation_id="IntegrationsController_updateIntegrationById",
    response_model_exclude_none=True,
)
async def update_integration(
    integration_id: IntegrationId,
    body: UpdateIntegrationRequestDto,
    session: Session,
    box: Box,
    scope: CurrentEnvironment,
) -> Envelope[IntegrationResponseDto]:
    """Update an integration's name, identifier, credentials, conditions or active flag.
    Deactivating the primary integration, or giving it conditions, leaves the channel without
    a primary; no other integration is promoted."""
    return Envelope(data=await service.update_integration(session, box, scope, integration_id, body))


@router.delete(
    "/{integrationId}",
    operation_id="IntegrationsController_removeIntegration",
    response_model_exclude_none=True,
)
async def delete_integration(
    integration_id: IntegrationId, session: Session, box: Box, scope: CurrentEnvironment
) -> Envelope[list[IntegrationResponseDto]]:
    """Delete an integration. The answer lists the environment's remaining integrations.
    Deleting the primary integration promotes no other."""
    return Envelope(data=await service.delete_integration(session, box, scope, integration_id))


@router.post(
    "/{integrationId}/set-primary",
    operation_id="IntegrationsController_setIntegrationAsPrimary",
    response_model_exclude_none=True,
)
async def set_integration_as_primary(
    integration_id: IntegrationId, session: Session, box: Box, scope: CurrentEnvironment
) -> Envelope[IntegrationResponseDto]:
    """Make an email or sms integration its channel's primary: it is activated, its conditions
    are cleared, and the previous primary of the channel stops being primary."""
    return Envelope(data=await service.set_primary(session, box, scope, integration_id))
