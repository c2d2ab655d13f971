"""The secret-key guard: parse `Authorization: ApiKey <key>`, find the environment, or 401."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from herald.auth.keys import looks_like_secret_key, new_secret_key
from herald.auth.repository import ApiKeyRepository, find_scope_by_hash
from herald.db import Database
from herald.errors import HeraldError
from herald.kit.crypto import SecretBox, lookup_hash
from herald.kit.scope import EnvironmentScope

API_KEY_SCHEME = "ApiKey"
MISSING_HEADER = "Missing authorization header"
KEY_NOT_FOUND = "API Key not found"
_SCHEME_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,19}$")
MALFORMED_HEADER = 'Malformed authorization header: expected "Authorization: ApiKey <secret key>"'


class UnauthorizedError(HeraldError):
    def __init__(self, message: str) -> None:
        super().__init__(401, message)


def secret_key_from_header(authorization: str | None) -> str:
    """The secret key in an `Authorization` header value, or the 401 that explains what is wrong."""
    if authorization is None or not authorization.strip():
        raise UnauthorizedError(MISSING_HEADER)
    scheme, _, credential = authorization.strip().partition(" ")
    if scheme.lower() != API_KEY_SCHEME.lower():
        if not credential or not _SCHEME_NAME.match(scheme) or looks_like_secret_key(scheme):
            raise UnauthorizedError(MALFORMED_HEADER)
        raise UnauthorizedError(
            f'Invalid authentication scheme: "{scheme}". '
            'Send the secret key as "Authorization: ApiKey <secret key>".'
        )
    credential = credential.strip()
    if not credential or " " in credential:
        raise UnauthorizedError(MALFORMED_HEADER)
    return credential


async def authenticate(database: Database, authorization: str | None) -> EnvironmentScope:
    secret_key = secret_key_from_header(authorization)
    if not looks_like_secret_key(secret_key):
        raise UnauthorizedError(KEY_NOT_FOUND)
    scope = await find_scope_by_hash(database, lookup_hash(secret_key))
    if scope is None:
        raise UnauthorizedError(KEY_NOT_FOUND)
    return scope


def issue_first_key(session: AsyncSession, box: SecretBox, environment_id: str) -> str:
    secret_key = new_secret_key()
    ApiKeyRepository(session).add(environment_id, lookup_hash(secret_key), box.encrypt(secret_key))
    return secret_key


async def regenerate_key(session: AsyncSession, box: SecretBox, environment_id: str) -> str:
    secret_key = new_secret_key()
    replaced = await ApiKeyRepository(session).replace(
        environment_id, lookup_hash(secret_key), box.encrypt(secret_key)
    )
    if not replaced:
        ApiKeyRepository(session).add(environment_id, lookup_hash(secret_key), box.encrypt(secret_key))
    return secret_key


async def reveal_key(session: AsyncSession, box: SecretBox, environment_id: str) -> str | None:
    sealed = await ApiKeyRepository(session).sealed_key_for(environment_id)
    return box.decrypt(sealed) if sealed else None
