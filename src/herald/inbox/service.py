"""Inbox sessions: find the environment by its application identifier, check the subscriber's
HMAC when the environment's in-app integration asks for it, upsert the subscriber, and hand
out a session token; and the reverse, a token back to the subscriber it was issued for."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from herald.auth.service import reveal_key
from herald.errors import BadRequestError
from herald.feed import service as feed
from herald.inbox import tokens
from herald.inbox.repository import InboxScopeRepository
from herald.inbox.schemas import SubscriberSessionRequestDto, SubscriberSessionResponseDto
from herald.integrations.service import inbox_hmac_required
from herald.kit.crypto import SecretBox
from herald.kit.scope import EnvironmentScope
from herald.subscribers import service as subscribers
from herald.subscribers.schemas import CreateSubscriberRequestDto

INVALID_APPLICATION = "Please provide a valid application identifier"
INVALID_HMAC = "Please provide a valid HMAC hash"
MISSING_SUBSCRIBER = "subscriber.subscriberId is required"


@dataclass(frozen=True)
class InboxCaller:
    """Who an Inbox request acts for: one subscriber of one environment."""

    scope: EnvironmentScope
    subscriber_pk: str
    subscriber_id: str


def subscriber_hash(secret_key: str, subscriber_id: str) -> str:
    """What the customer's backend computes for the Inbox: hex HMAC-SHA256 keyed by the secret key."""
    return hmac.new(secret_key.encode(), subscriber_id.encode(), hashlib.sha256).hexdigest()


async def start_session(
    session: AsyncSession, box: SecretBox, request: SubscriberSessionRequestDto, token_lifetime: timedelta
) -> SubscriberSessionResponseDto:
    environment = await InboxScopeRepository(session).by_application_identifier(
        request.application_identifier
    )
    if environment is None:
        raise BadRequestError(INVALID_APPLICATION)
    scope = EnvironmentScope(environment.environment_id, environment.organization_id)
    subscriber = _requested_subscriber(request)
    secret_key = await reveal_key(session, box, scope.environment_id)
    if secret_key is None:
        raise BadRequestError(INVALID_APPLICATION)
    if await inbox_hmac_required(session, scope.environment_id):
        expected = subscriber_hash(secret_key, subscriber.subscriber_id)
        if not hmac.compare_digest(expected.encode(), (request.subscriber_hash or "").encode()):
            raise BadRequestError(INVALID_HMAC)
    stored, _ = await subscribers.upsert_subscriber(session, scope, subscriber, nulls_clear=False)
    counts = await feed.unread_counts(session, scope, stored.id)
    token = tokens.issue(
        tokens.TokenClaims(scope.environment_id, scope.organization_id, stored.id, stored.subscriber_id),
        secret_key,
        token_lifetime,
    )
    return SubscriberSessionResponseDto(
        token=token,
        total_unread_count=counts.total,
        unread_count=counts,
        is_development_mode=environment.kind == "dev",
        max_snooze_duration_hours=feed.MAX_SNOOZE_HOURS,
    )


def _requested_subscriber(request: SubscriberSessionRequestDto) -> CreateSubscriberRequestDto:
    if isinstance(request.subscriber, CreateSubscriberRequestDto):
        return request.subscriber
    subscriber_id = request.subscriber if isinstance(request.subscriber, str) else request.subscriber_id
    if not subscriber_id or len(subscriber_id) > 255:
        raise BadRequestError(MISSING_SUBSCRIBER)
    return CreateSubscriberRequestDto(subscriber_id=subscriber_id)


async def caller_for_token(session: AsyncSession, box: SecretBox, token: str) -> InboxCaller | None:
    """The subscriber a valid token was issued for; None for any invalid, expired or revoked
    token (the environment's key changed, or the subscriber was deleted)."""
    try:
        named = tokens.unverified_claims(token)
        sealed = await InboxScopeRepository(session).sealed_key_for_subscriber(
            named.environment_id, named.subscriber_pk
        )
        if sealed is None:
            return None
        claims = tokens.verify(token, box.decrypt(sealed))
    except tokens.InvalidInboxToken:
        return None
    return InboxCaller(
        EnvironmentScope(claims.environment_id, claims.organization_id),
        claims.subscriber_pk,
        claims.subscriber_id,
    )
