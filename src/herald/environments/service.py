"""Environments: the bootstrap of an installation, listing, custom environments, keys."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from herald.auth.keys import new_application_identifier
from herald.auth.service import issue_first_key, regenerate_key, reveal_key
from herald.environments.repository import EnvironmentRepository, InstallationRepository
from herald.environments.schemas import (
    ApiKeyDto,
    CreateEnvironmentRequestDto,
    EnvironmentResponseDto,
    UpdateEnvironmentRequestDto,
)
from herald.errors import BadRequestError, FieldValidationError, HeraldError, NotFoundError
from herald.integrations.service import create_default_integrations
from herald.kit.crypto import SecretBox
from herald.kit.scope import EnvironmentScope
from herald.kit.time import iso
from herald.models import Environment, Organization

DEVELOPMENT = "Development"
PRODUCTION = "Production"
PROTECTED_NAMES = (DEVELOPMENT, PRODUCTION)
_DEFAULT_COLORS = {DEVELOPMENT: "#ff8547", PRODUCTION: "#7e52f4"}
_CUSTOM_COLOR = "#3b82f6"


@dataclass(frozen=True)
class EnvironmentCredentials:
    id: str
    name: str
    identifier: str
    secret_key: str


@dataclass(frozen=True)
class InstallationCredentials:
    organization_id: str
    environments: list[EnvironmentCredentials]


def to_response(environment: Environment, secret_key: str | None = None) -> EnvironmentResponseDto:
    return EnvironmentResponseDto(
        id=environment.id,
        name=environment.name,
        organization_id=environment.organization_id,
        identifier=environment.identifier,
        type="dev" if environment.kind == "dev" else "prod",
        parent_id=environment.parent_id,
        slug=environment.slug,
        color=environment.color,
        created_at=iso(environment.created_at),
        updated_at=iso(environment.updated_at),
        api_keys=([ApiKeyDto(key=secret_key, user_id=environment.organization_id)] if secret_key else None),
    )


async def list_environments(session: AsyncSession, scope: EnvironmentScope) -> list[EnvironmentResponseDto]:
    return [to_response(env) for env in await EnvironmentRepository(session, scope).list_all()]


async def current_environment(session: AsyncSession, scope: EnvironmentScope) -> EnvironmentResponseDto:
    return to_response(await _get(EnvironmentRepository(session, scope), scope.environment_id))


async def create_environment(
    session: AsyncSession, box: SecretBox, scope: EnvironmentScope, request: CreateEnvironmentRequestDto
) -> EnvironmentResponseDto:
    repository = EnvironmentRepository(session, scope)
    name = _checked_new_name(request.name)
    if await repository.name_taken(name):
        raise BadRequestError("Environment name must be unique")
    parent_id = request.parent_id or await _development_id(repository)
    await _get(repository, parent_id, what="Parent environment")
    environment = Environment(
        name=name,
        identifier=new_application_identifier(),
        slug=_slug(name),
        kind="prod",
        color=request.color or _CUSTOM_COLOR,
        parent_id=parent_id,
    )
    repository.add(environment)
    await _flush_or_name_conflict(session)
    secret_key = issue_first_key(session, box, environment.id)
    await session.flush()
    new_scope = EnvironmentScope(environment.id, scope.organization_id)
    await create_default_integrations(session, new_scope, hmac=True)
    return to_response(environment, secret_key)


async def update_environment(
    session: AsyncSession,
    scope: EnvironmentScope,
    environment_id: str,
    request: UpdateEnvironmentRequestDto,
) -> EnvironmentResponseDto:
    repository = EnvironmentRepository(session, scope)
    environment = await _get_own(repository, scope, environment_id)
    if request.name is not None and request.name.strip() != environment.name:
        if environment.name in PROTECTED_NAMES:
            raise BadRequestError(f"The {environment.name} environment cannot be renamed")
        name = _checked_new_name(request.name)
        if await repository.name_taken(name, other_than=environment.id):
            raise BadRequestError("Environment name must be unique")
        environment.name, environment.slug = name, _slug(name)
    if request.identifier is not None and request.identifier != environment.identifier:
        if await repository.identifier_taken(request.identifier, other_than=environment.id):
            raise BadRequestError("Environment identifier is already in use")
        environment.identifier = request.identifier
    if request.parent_id is not None:
        if request.parent_id == environment.id:
            raise BadRequestError("An environment cannot be its own parent")
        await _get(repository, request.parent_id, what="Parent environment")
        environment.parent_id = request.parent_id
    if request.color is not None:
        environment.color = request.color
    await _flush_or_name_conflict(session)
    return to_response(environment)


async def delete_environment(session: AsyncSession, scope: EnvironmentScope, environment_id: str) -> None:
    repository = EnvironmentRepository(session, scope)
    environment = await _get_own(repository, scope, environment_id)
    if environment.name in PROTECTED_NAMES:
        raise BadRequestError(
            f"The {environment.name} environment is protected and cannot be deleted. "
            "Only custom environments can be deleted."
        )
    await repository.remove(environment)


async def regenerate_own_key(session: AsyncSession, box: SecretBox, scope: EnvironmentScope) -> str:
    return await regenerate_key(session, box, scope.environment_id)


async def regenerate_key_by_name(session: AsyncSession, box: SecretBox, name: str) -> EnvironmentCredentials:
    installation = InstallationRepository(session)
    organization = await installation.first_organization()
    environments = await installation.environments_of(organization.id) if organization else []
    for environment in environments:
        if environment.name.lower() == name.lower():
            secret_key = await regenerate_key(session, box, environment.id)
            return EnvironmentCredentials(
                environment.id, environment.name, environment.identifier, secret_key
            )
    known = ", ".join(env.name for env in environments) or "none"
    raise NotFoundError(f'No environment named "{name}" (environments: {known})')


async def bootstrap_installation(session: AsyncSession, box: SecretBox) -> bool:
    """Create the organization with Development and Production on first start; False if present."""
    installation = InstallationRepository(session)
    if await installation.first_organization() is not None:
        return False
    organization = Organization(name="Herald", slug="default")
    await installation.add_all(organization)
    development = _system_environment(organization, DEVELOPMENT, kind="dev", parent_id=None)
    await installation.add_all(development)
    production = _system_environment(organization, PRODUCTION, kind="prod", parent_id=development.id)
    await installation.add_all(production)
    for environment in (development, production):
        issue_first_key(session, box, environment.id)
    await session.flush()
    for environment in (development, production):
        scope = EnvironmentScope(environment.id, organization.id)
        await create_default_integrations(session, scope, hmac=environment is production)
    return True


async def installation_credentials(session: AsyncSession, box: SecretBox) -> InstallationCredentials:
    installation = InstallationRepository(session)
    organization = await installation.first_organization()
    if organization is None:
        raise HeraldError(503, "The installation has not been bootstrapped yet; run `herald migrate`")
    credentials = []
    for environment in await installation.environments_of(organization.id):
        secret_key = await reveal_key(session, box, environment.id) or ""
        credentials.append(
            EnvironmentCredentials(environment.id, environment.name, environment.identifier, secret_key)
        )
    return InstallationCredentials(organization.id, credentials)


def _system_environment(
    organization: Organization, name: str, *, kind: str, parent_id: str | None
) -> Environment:
    return Environment(
        organization_id=organization.id,
        name=name,
        identifier=new_application_identifier(),
        slug=_slug(name),
        kind=kind,
        color=_DEFAULT_COLORS[name],
        parent_id=parent_id,
    )


async def _get(
    repository: EnvironmentRepository, environment_id: str, what: str = "Environment"
) -> Environment:
    environment = await repository.get(environment_id)
    if environment is None:
        raise NotFoundError(f"{what} {environment_id} not found")
    return environment


async def _get_own(
    repository: EnvironmentRepository, scope: EnvironmentScope, environment_id: str
) -> Environment:
    environment = await _get(repository, environment_id)
    if environment.id != scope.environment_id:
        raise HeraldError(
            403,
            "A secret key can only change its own environment; use the secret key of "
            f"environment {environment_id}",
        )
    return environment


async def _development_id(repository: EnvironmentRepository) -> str:
    for environment in await repository.list_all():
        if environment.name == DEVELOPMENT:
            return environment.id
    return repository.scope.environment_id


def _checked_new_name(raw_name: str) -> str:
    name = raw_name.strip()
    if not name:
        raise FieldValidationError({"name": "name should not be empty"}, {"name": raw_name})
    if name.lower() in (protected.lower() for protected in PROTECTED_NAMES):
        raise FieldValidationError(
            {"name": "Environment name cannot be Development or Production"}, {"name": raw_name}
        )
    return name


async def _flush_or_name_conflict(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:
        raise BadRequestError("Environment name must be unique") from None


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "environment"
