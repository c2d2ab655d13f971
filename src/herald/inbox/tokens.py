"""Inbox session tokens: JWTs (HS256, `aud: widget_user`) for one subscriber of one environment.

A token is signed with a key derived from the environment's current secret key, so
regenerating the secret key ends every session of that environment at once, in every
process, with nothing to revoke. The environment named in the (unverified) claims only
chooses which key to verify with: a token that names another environment fails there.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from herald.kit.time import utc_now

AUDIENCE = "widget_user"
ALGORITHM = "HS256"
_KEY_CONTEXT = b"herald inbox session token v1"


class InvalidInboxToken(Exception):
    """The token is malformed, expired, for another audience, or its environment's key changed."""


@dataclass(frozen=True)
class TokenClaims:
    environment_id: str
    organization_id: str
    subscriber_pk: str
    subscriber_id: str


def signing_key(secret_key: str) -> bytes:
    return hmac.new(secret_key.encode(), _KEY_CONTEXT, hashlib.sha256).digest()


def issue(claims: TokenClaims, secret_key: str, lifetime: timedelta, now: datetime | None = None) -> str:
    issued = now or utc_now()
    body = {
        "_id": claims.subscriber_pk,
        "sub": claims.subscriber_pk,
        "subscriberId": claims.subscriber_id,
        "environmentId": claims.environment_id,
        "organizationId": claims.organization_id,
        "roles": ["subscriber"],
        "aud": AUDIENCE,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
    }
    return jwt.encode(body, signing_key(secret_key), algorithm=ALGORITHM)


def unverified_claims(token: str) -> TokenClaims:
    """Which environment and subscriber the token names; verify it with `verify` before use."""
    try:
        body = jwt.decode(token, options={"verify_signature": False})
        if jwt.get_unverified_header(token).get("alg") != ALGORITHM:
            raise InvalidInboxToken
        return _claims(body)
    except jwt.PyJWTError:
        raise InvalidInboxToken from None


def verify(token: str, secret_key: str) -> TokenClaims:
    try:
        body = jwt.decode(
            token,
            signing_key(secret_key),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            options={"require": ["exp", "aud", "sub"]},
        )
    except jwt.PyJWTError:
        raise InvalidInboxToken from None
    return _claims(body)


def _claims(body: dict[str, object]) -> TokenClaims:
    values = (
        body.get("environmentId"),
        body.get("organizationId"),
        body.get("sub"),
        body.get("subscriberId"),
    )
    if not all(isinstance(value, str) and value for value in values):
        raise InvalidInboxToken
    environment_id, organization_id, subscriber_pk, subscriber_id = (str(value) for value in values)
    return TokenClaims(environment_id, organization_id, subscriber_pk, subscriber_id)
