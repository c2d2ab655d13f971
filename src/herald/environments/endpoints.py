"""`/v1/environments`: the organization's environments and the caller's own secret key."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from herald.auth.dependencies import Box, CurrentEnvironment, Session
from herald.environments import service
from herald.environments.schemas import (
    ApiKeyDto,
    CreateEnvironmentRequestDto,
    DeleteEnvironmentResponseDto,
    EnvironmentResponseDto,
    UpdateEnvironmentRequestDto,
)
from herald.kit.schemas import ERROR_RESPONSES, Envelope

router = APIRouter(prefix="/v1/environments", tags=["Environments"], responses=ERROR_RESPONSES)


@router.get(
    "",
    operation_id="EnvironmentsControllerV1_listMyEnvironments",
    response_model_exclude_none=True,
)
async def list_environments(
    session: Session, scope: CurrentEnvironment
) -> Envelope[list[EnvironmentResponseDto]]:
    """List the organization's environments. Secret keys are never listed."""
    return Envelope(data=await service.list_environments(session, scope))


@router.get(
    "/me",
    operation_id="EnvironmentsControllerV1_getCurrentEnvironment",
    response_model_exclude_none=True,
)
async def get_current_environment(
    session: Session, scope: CurrentEnvironment
) -> Envelope[EnvironmentResponseDto]:
    """The environment that the secret key of this request belongs to."""
    return Envelope(data=await service.current_environment(session, scope))


@router.post(
    "",
    status_code=201,
    operation_id="EnvironmentsControllerV1_createEnvironment",
    response_model_exclude_none=True,
)
async def create_environment(
    body: CreateEnvironmentRequestDto, session: Session, box: Box, scope: CurrentEnvironment
) -> Envelope[EnvironmentResponseDto]:
    """Create a custom environment. The answer carries its new secret key in `apiKeys`:
    the one time the API shows it (`herald keys` shows it again)."""
    return Envelope(data=await service.create_environment(session, box, scope, body))


@router.post(
    "/api-keys/regenerate",
    status_code=201,
    operation_id="EnvironmentsControllerV1_regenerateOrganizationApiKeys",
)
async def regenerate_api_key(
    session: Session, box: Box, scope: CurrentEnvironment
) -> Envelope[list[ApiKeyDto]]:
    """Replace the calling environment's secret key. The key used for this call stops working
    as soon as this answer is sent, in every Herald process."""
    secret_key = await service.regenerate_own_key(session, box, scope)
    return Envelope(data=[ApiKeyDto(key=secret_key, user_id=scope.organization_id)])


@router.put(
    "/{environmentId}",
    operation_id="EnvironmentsControllerV1_updateMyEnvironment",
    response_model_exclude_none=True,
)
async def update_environment(
    environment_id: Annotated[str, Path(alias="environmentId", max_length=64)],
    body: UpdateEnvironmentRequestDto,
    session: Session,
    scope: CurrentEnvironment,
) -> Envelope[EnvironmentResponseDto]:
    """Update the calling environment's name, identifier, parent or color."""
    return Envelope(data=await service.update_environment(session, scope, environment_id, body))


@router.delete("/{environmentId}", operation_id="EnvironmentsControllerV1_deleteEnvironment")
async def delete_environment(
    environment_id: Annotated[str, Path(alias="environmentId", max_length=64)],
    session: Session,
    scope: CurrentEnvironment,
) -> Envelope[DeleteEnvironmentResponseDto]:
    """Delete the calling custom environment and everything in it. Development and
    Production cannot be deleted."""
    await service.delete_environment(session, scope, environment_id)
    return Envelope(data=DeleteEnvironmentResponseDto(acknowledged=True, status="deleted"))
