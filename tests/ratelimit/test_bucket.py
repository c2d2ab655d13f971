"""Bucket arithmetic against a fake clock, for the in-process limiter and the Redis script alike."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from redis.asyncio import Redis

from herald.ratelimit.bucket import Decision, MemoryRateLimiter
from herald.ratelimit.policy import Policy, classify, policies_for
from herald.ratelimit.redis_limiter import RedisRateLimiter
from tests.support import REDIS_URL


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000_000

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


Take = Callable[[Policy, int], Awaitable[Decision]]


_NEEDS_REDIS = pytest.mark.skipif(not REDIS_URL, reason="HERALD_TEST_REDIS_URL is not set")


@pytest.fixture(params=["memory", pytest.param("redis", marks=_NEEDS_REDIS)])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Take, FakeClock]]:
    """`take(policy, cost)` on one fresh bucket, and the fake clock it reads."""
    clock = FakeClock()
    bucket = f"test-{uuid.uuid4().hex}:global"
    if request.param == "memory":
        memory = MemoryRateLimiter(clock)
        yield (lambda policy, cost: memory.take(bucket, policy, cost)), clock
        return
    assert REDIS_URL
    redis = Redis.from_url(REDIS_URL)
    shared = RedisRateLimiter(redis, clock)
    try:
        yield (lambda policy, cost: shared.take(bucket, policy, cost)), clock
    finally:
        await redis.delete(f"herald:rl:{bucket}")
        await redis.aclose()


SMALL = Policy.of("global", "custom", 2)  # limit 10 per 5 s window, burst 11


async def test_full_bucket_then_refused_then_refilled_per_window(limiter: tuple[Take, FakeClock]) -> None:
    take, clock = limiter
    assert (SMALL.limit, SMALL.burst, SMALL.window_ms) == (10, 11, 5000)
    decisions = [await take(SMALL, 1) for _ in range(11)]
    assert [d.remaining for d in decisions] == list(range(10, -1, -1))
    assert all(d.allowed and d.reset_seconds == 5 for d in decisions)
    refused = await take(SMALL, 1)
    assert refused == Decision(False, 0, 5)
    clock.advance(3_200)
    assert await take(SMALL, 1) == Decision(False, 0, 2)
    clock.advance(1_800)  # one whole window since the bucket was filled: +limit tokens
    assert await take(SMALL, 1) == Decision(True, 9, 5)
    clock.advance(60_000)  # many windows: capped at burst
    assert await take(SMALL, 1) == Decision(True, 10, 5)


async def test_cost_is_taken_whole_or_not_at_all(limiter: tuple[Take, FakeClock]) -> None:
    take, clock = limiter
    policy = Policy.of("trigger", "custom", 30)  # limit 150, burst 165
    assert await take(policy, 100) == Decision(True, 65, 5)
    refused = await take(policy, 100)
    assert refused == Decision(False, 65, 5)  # nothing taken
    assert await take(policy, 1) == Decision(True, 64, 5)
    clock.advance(5_000)
    assert await take(policy, 100) == Decision(True, 65, 5)  # 64 + 150 capped at 165, minus 100


async def test_reset_counts_the_windows_a_large_cost_needs(limiter: tuple[Take, FakeClock]) -> None:
    take, clock = limiter
    for _ in range(11):
        await take(SMALL, 1)
    clock.advance(1_000)
    # 11 tokens are needed at 10 per window: two refills, 9 seconds from now.
    assert await take(SMALL, 11) == Decision(False, 0, 9)


def test_policy_header_and_figures_are_novus() -> None:
    free = policies_for("free", {})
    assert free["trigger"].header(1) == (
        '300;w=5;burst=330;comment="token bucket";category="trigger";cost="single";serviceLevel="free"'
    )
    business = policies_for("business", {})
    assert [business[c].limit for c in ("trigger", "configuration", "global")] == [3000, 1000, 1500]
    assert business["configuration"].burst == 1100
    assert 'cost="bulk"' in business["trigger"].header(100)
    assert policies_for("custom", {"global": 2})["global"].limit == 10
    assert policies_for("custom", {"global": 2})["trigger"].limit == 3000


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("POST", "/v1/events/trigger", ("trigger", 1)),
        ("POST", "/v1/events/trigger/bulk", ("trigger", 100)),
        ("POST", "/v1/events/trigger/broadcast", ("trigger", 100)),
        ("DELETE", "/v1/events/trigger/abc", ("trigger", 1)),
        ("POST", "/v1/subscribers/bulk", ("configuration", 100)),
        ("GET", "/v1/subscribers/bulk", ("configuration", 1)),
        ("PATCH", "/v2/subscribers/x/preferences", ("configuration", 1)),
        ("POST", "/v2/topics", ("configuration", 1)),
        ("GET", "/v1/topics/k", ("configuration", 1)),
        ("PUT", "/v2/workflows/w", ("configuration", 1)),
        ("POST", "/v1/integrations", ("configuration", 1)),
        ("GET", "/v1/integrations/active", ("configuration", 1)),
        ("GET", "/v1/environments", ("global", 1)),
        ("GET", "/v1/messages", ("global", 1)),
        ("GET", "/v1/subscribersx", ("global", 1)),
    ],
)
def test_category_and_cost_come_from_the_path(method: str, path: str, expected: tuple[str, int]) -> None:
    assert classify(method, path) == expected
