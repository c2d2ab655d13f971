"""Token-bucket arithmetic against an injectable clock, and the in-process limiter.

A bucket starts full (`burst` tokens). Every whole window since the last refill adds `limit`
tokens, capped at `burst`; a request takes `cost` tokens or, if fewer are left, is refused
without taking any. The same arithmetic runs in Redis (`redis_limiter.py`) for shared buckets.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from herald.ratelimit.policy import Policy

Clock = Callable[[], int]
"""Milliseconds since some fixed point."""


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    remaining: int
    reset_seconds: int
    """Seconds until a request of the same cost can pass (for `RateLimit-Reset` / `Retry-After`)."""


def take(tokens: int, refilled_at: int, now: int, policy: Policy, cost: int) -> tuple[int, int, Decision]:
    """The bucket's new (tokens, refilled_at) and the decision for one request at `now`."""
    window = policy.window_ms
    if now >= refilled_at + window:
        refills = (now - refilled_at) // window
        tokens = min(policy.burst, tokens + refills * policy.limit)
        refilled_at += refills * window
    if tokens < cost:
        windows_needed = max(1, math.ceil((cost - tokens) / policy.limit))
        ready_at = refilled_at + windows_needed * window
        return tokens, refilled_at, Decision(False, tokens, _seconds_until(ready_at, now))
    tokens -= cost
    return tokens, refilled_at, Decision(True, tokens, _seconds_until(refilled_at + window, now))


def _seconds_until(moment: int, now: int) -> int:
    return max(1, math.ceil((moment - now) / 1000))


class MemoryRateLimiter:
    """Buckets in this process's memory: one per environment and category."""

    def __init__(self, clock: Clock = wall_clock_ms) -> None:
        self._clock = clock
        self._buckets: dict[str, tuple[int, int]] = {}

    def consume(self, bucket: str, policy: Policy, cost: int) -> Decision:
        now = self._clock()
        tokens, refilled_at = self._buckets.get(bucket) or (policy.burst, now)
        tokens, refilled_at, decision = take(tokens, refilled_at, now, policy, cost)
        self._buckets[bucket] = (tokens, refilled_at)
        return decision

    async def take(self, bucket: str, policy: Policy, cost: int) -> Decision:
        return self.consume(bucket, policy, cost)
