"""The rate-limit guard of every secret-key route (after the key is checked, before the work)."""

from __future__ import annotations

from fastapi import Request

from herald.auth.dependencies import CurrentEnvironment
from herald.db import Database
from herald.errors import HeraldError
from herald.kit.response_headers import add_response_headers
from herald.ratelimit.service import RateLimiterUnavailable, RateLimitService

RATE_LIMIT_EXCEEDED = "API rate limit exceeded"


async def enforce_rate_limit(request: Request, scope: CurrentEnvironment) -> None:
    """Take the request's cost from its environment's bucket; 429 when the bucket is short.

    Every response of a limited request carries `RateLimit-*`; a refused one adds `Retry-After`.
    """
    service: RateLimitService | None = request.app.state.rate_limits
    if service is None:
        return
    database: Database = request.app.state.database
    try:
        async with database.session(write=False) as session:
            verdict = await service.check(session, scope, request.method, request.scope["path"])
    except RateLimiterUnavailable:
        raise HeraldError(
            503, "Rate limiting is unavailable; retry shortly", headers={"Retry-After": "1"}
        ) from None
    if verdict is None:
        return
    decision = verdict.decision
    reset = str(decision.reset_seconds).encode()
    add_response_headers(
        request,
        [
            (b"ratelimit-limit", str(verdict.policy.limit).encode()),
            (b"ratelimit-remaining", str(decision.remaining).encode()),
            (b"ratelimit-reset", reset),
            (b"ratelimit-policy", verdict.policy.header(verdict.cost).encode()),
        ],
    )
    if not decision.allowed:
        raise HeraldError(429, RATE_LIMIT_EXCEEDED, headers={"Retry-After": reset.decode()})
