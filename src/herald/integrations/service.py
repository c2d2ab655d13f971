"""Integrations: providers configured per environment and channel, and the primary rules.

Primary (as Novu): only email and sms have a primary integration; at most one per environment
and channel (a unique index holds it). An active integration becomes primary when it is
created or activated while its channel has none and it carries no conditions. Set-primary
moves the flag (and activates the integration, clearing its conditions). Deactivating or
deleting the primary, or giving it conditions, leaves the channel without one: no other
integration is promoted silently, the caller picks the next with set-primary.
"""

from __future__ import annotations

import re
import secrets
import string

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.errors import BadRequestError, HeraldError, NotFoundError
from herald.integrations import credentials as creds
from herald.integrations.repository import (
    IN_APP,
    NOVU_PROVIDER_ID,
    InboxIntegrationRepository,
    IntegrationRepository,
)
from herald.integrations.schemas import (
    CreateIntegrationRequestDto,
    CredentialsDto,
    IntegrationResponseDto,
    StepFilterDto,
    UpdateIntegrationRequestDto,
)
from herald.kit.crypto import SecretBox
from herald.kit.scope import EnvironmentScope
from herald.kit.time import iso
from herald.models import Integration

CHANNELS_WITH_PRIMARY = frozenset({"email", "sms"})
NOVU_INBOX_NAME = "Novu Inbox"
_SHORT_ID_ALPHABET = string.ascii_letters + string.digits
_PRIMARY_INDEX = "ix_integrations_one_primary"


def to_response(box: SecretBox, integration: Integration) -> IntegrationResponseDto:
    shown = creds.masked(creds.unseal(box, _stored(integration)))
    return IntegrationResponseDto(
        id=integration.id,
        environment_id=integration.environment_id,
        organization_id=integration.organization_id,
        name=integration.name,
        identifier=integration.identifier,
        provider_id=integration.provider_id,
        channel=integration.channel,
        credentials=CredentialsDto.model_validate(shown),
        active=integration.active,
        primary=integration.is_primary,
        conditions=[StepFilterDto.model_validate(condition) for condition in integration.conditions],
        created_at=iso(integration.created_at),
        updated_at=iso(integration.updated_at),
    )


async def list_integrations(
    session: AsyncSession, box: SecretBox, scope: EnvironmentScope, *, active_only: bool = False
) -> list[IntegrationResponseDto]:
    integrations = await IntegrationRepository(session, scope).list_all(active_only=active_only)
    return [to_response(box, integration) for integration in integrations]


async def create_integration(
    session: AsyncSession, box: SecretBox, scope: EnvironmentScope, request: CreateIntegrationRequestDto
) -> IntegrationResponseDto:
    _check_environment(scope, request.environment_id)
    repository = IntegrationRepository(session, scope)
    if (
        request.provider_id == NOVU_PROVIDER_ID
        and request.channel == IN_APP
        and await repository.has_provider(NOVU_PROVIDER_ID, IN_APP)
    ):
        raise BadRequestError("One environment can only have one In app provider")
    name = request.name or _default_name(request.provider_id)
    if request.identifier is not None and await repository.identifier_taken(request.identifier):
        raise BadRequestError("Integration with identifier already exists")
    identifier = request.identifier or await _new_identifier(repository, name)
    conditions = _conditions(request.conditions)
    primary = request.active and not conditions and await _channel_lacks_primary(repository, request.channel)
    stored = creds.seal(box, request.credentials.to_wire() if request.credentials else {})
    integration = Integration(
        provider_id=request.provider_id,
        channel=request.channel,
        name=name,
        identifier=identifier,
        active=request.active,
        is_primary=primary,
        credentials_public=stored.public,
        credentials_sealed=stored.sealed,
        conditions=conditions,
    )
    repository.add(integration)
    await _flush(session)
    return to_response(box, integration)


async def update_integration(
    session: AsyncSession,
    box: SecretBox,
    scope: EnvironmentScope,
    integration_id: str,
    request: UpdateIntegrationRequestDto,
) -> IntegrationResponseDto:
    _check_environment(scope, request.environment_id)
    repository = IntegrationRepository(session, scope)
    integration = await _get(repository, integration_id)
    changes = (request.name, request.identifier, request.active, request.credentials, request.conditions)
    if all(change is None for change in changes):
        raise BadRequestError("No properties found for update")
    activated = request.active is True and not integration.active
    becomes_primary = activated and await _channel_lacks_primary(repository, integration.channel)
    if request.name is not None:
        integration.name = request.name
    if request.identifier is not None and request.identifier != integration.identifier:
        if await repository.identifier_taken(request.identifier, other_than=integration.id):
            raise BadRequestError("Integration with identifier already exists")
        integration.identifier = request.identifier
    if request.credentials is not None:
        current = creds.unseal(box, _stored(integration))
        stored = creds.seal(box, creds.keep_unchanged_secrets(request.credentials.to_wire(), current))
        integration.credentials_public, integration.credentials_sealed = stored.public, stored.sealed
    if request.conditions is not None:
        integration.conditions = _conditions(request.conditions)
    if request.active is not None and request.active != integration.active:
        integration.active, integration.is_primary = request.active, becomes_primary
    if integration.conditions:
        integration.is_primary = False
    await _flush(session)
    return to_response(box, integration)


async def delete_integration(
    session: AsyncSession, box: SecretBox, scope: EnvironmentScope, integration_id: str
) -> list[IntegrationResponseDto]:
    """Delete the integration; the answer lists the environment's remaining integrations."""
    repository = IntegrationRepository(session, scope)
    await repository.remove(await _get(repository, integration_id))
    return await list_integrations(session, box, scope)


async def set_primary(
    session: AsyncSession, box: SecretBox, scope: EnvironmentScope, integration_id: str
) -> IntegrationResponseDto:
    repository = IntegrationRepository(session, scope)
    integration = await _get(repository, integration_id)
    if integration.channel not in CHANNELS_WITH_PRIMARY:
        raise BadRequestError(f"Channel {integration.channel} does not support primary")
    if not integration.is_primary:
        await repository.clear_primary(integration.channel)
        integration.active, integration.is_primary, integration.conditions = True, True, []
        await _flush(session)
    return to_response(box, integration)


async def create_default_integrations(session: AsyncSession, scope: EnvironmentScope, *, hmac: bool) -> None:
    """Give a new environment the active in-app (Novu Inbox) integration, as Novu does.

    `hmac` is whether the Inbox must present the subscriber's HMAC hash: true for Production
    and custom environments, false for Development.
    """
    repository = IntegrationRepository(session, scope)
    if await repository.has_provider(NOVU_PROVIDER_ID, IN_APP):
        return
    repository.add(
        Integration(
            provider_id=NOVU_PROVIDER_ID,
            channel=IN_APP,
            name=NOVU_INBOX_NAME,
            identifier=await _new_identifier(repository, NOVU_INBOX_NAME),
            active=True,
            is_primary=False,
            credentials_public={"hmac": hmac},
            credentials_sealed=None,
            conditions=[],
        )
    )
    await session.flush()


async def inbox_hmac_required(session: AsyncSession, environment_id: str) -> bool:
    """Whether the Inbox of this environment must check the subscriber's HMAC hash: the `hmac`
    credential of its in-app (`novu`) integration. Without that integration the answer is
    true, so a deleted integration never opens the Inbox to unsigned subscribers."""
    integration = await InboxIntegrationRepository(session, environment_id).novu_in_app()
    if integration is None:
        return True
    return integration.credentials_public.get("hmac") is True


def _stored(integration: Integration) -> creds.StoredCredentials:
    return creds.StoredCredentials(integration.credentials_public, integration.credentials_sealed)


async def _get(repository: IntegrationRepository, integration_id: str) -> Integration:
    integration = await repository.get(integration_id)
    if integration is None:
        raise NotFoundError(f"Integration with id {integration_id} not found")
    return integration


async def _channel_lacks_primary(repository: IntegrationRepository, channel: str) -> bool:
    return channel in CHANNELS_WITH_PRIMARY and not await repository.has_primary(channel)


def _check_environment(scope: EnvironmentScope, environment_id: str | None) -> None:
    if environment_id is not None and environment_id != scope.environment_id:
        raise BadRequestError("Integrations can only be managed in the environment of the secret key")


def _conditions(conditions: list[StepFilterDto] | None) -> list[dict[str, object]]:
    return [condition.model_dump(by_alias=True) for condition in conditions or []]


def _default_name(provider_id: str) -> str:
    return provider_id[:1].upper() + provider_id[1:]


async def _new_identifier(repository: IntegrationRepository, name: str) -> str:
    """`<slug of the name>-<short random id>`, as Novu generates them."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "integration"
    while True:
        identifier = f"{slug[:80]}-{''.join(secrets.choice(_SHORT_ID_ALPHABET) for _ in range(8))}"
        if not await repository.identifier_taken(identifier):
            return identifier


async def _flush(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        # PostgreSQL names the constraint; SQLite names its columns.
        message = str(error.orig)
        if "identifier" in message:
            raise BadRequestError("Integration with identifier already exists") from None
        if _PRIMARY_INDEX in message or "integrations.channel" in message:
            # A concurrent request made another integration primary first: a retry decides again.
            raise HeraldError(409, "Another integration of this channel became primary meanwhile") from None
        raise
