"""The one Redis client of a process, when `HERALD_REDIS_URL` is set."""

from __future__ import annotations

from redis.asyncio import Redis

from herald.config import Settings

_TIMEOUT_SECONDS = 0.5


def redis_client(settings: Settings) -> Redis | None:
    """Short timeouts: a request must not hang on an unreachable Redis (rate limits fail open)."""
    if settings.redis_url is None:
        return None
    return Redis.from_url(
        settings.redis_url.get_secret_value(),
        socket_timeout=_TIMEOUT_SECONDS,
        socket_connect_timeout=_TIMEOUT_SECONDS,
    )
