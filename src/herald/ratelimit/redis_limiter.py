"""Buckets shared by every API process through Redis: one Lua script, one round trip.

The script does the same arithmetic as `bucket.take`. It reads the time from Redis itself
(`TIME`) so that processes on machines with skewed clocks share one clock; a test may pass
`now` instead.
"""

from __future__ import annotations

from redis.asyncio import Redis

from herald.ratelimit.bucket import Clock, Decision
from herald.ratelimit.policy import Policy

KEY_PREFIX = "herald:rl:"

TOKEN_BUCKET_SCRIPT = """
local key = KEYS[1]
local burst = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
if now == nil then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local bucket = redis.call('HMGET', key, 't', 'r')
local tokens = tonumber(bucket[1])
local refilled_at = tonumber(bucket[2])
if tokens == nil or refilled_at == nil then
  tokens = burst
  refilled_at = now
end
if now >= refilled_at + window then
  local refills = math.floor((now - refilled_at) / window)
  tokens = math.min(burst, tokens + refills * refill)
  refilled_at = refilled_at + refills * window
end
local allowed = 0
local ready_at
if tokens < cost then
  ready_at = refilled_at + math.max(1, math.ceil((cost - tokens) / refill)) * window
else
  tokens = tokens - cost
  allowed = 1
  ready_at = refilled_at + window
end
redis.call('HSET', key, 't', tokens, 'r', refilled_at)
redis.call('PEXPIRE', key, (math.ceil((burst - tokens) / refill) + 1) * window)
return {allowed, tokens, math.max(1, math.ceil((ready_at - now) / 1000))}
"""


class RedisRateLimiter:
    def __init__(self, redis: Redis, clock: Clock | None = None) -> None:
        """`clock` replaces Redis's own clock (tests)."""
        self._script = redis.register_script(TOKEN_BUCKET_SCRIPT)
        self._clock = clock

    async def take(self, bucket: str, policy: Policy, cost: int) -> Decision:
        now = "" if self._clock is None else str(self._clock())
        allowed, remaining, reset = await self._script(
            keys=[KEY_PREFIX + bucket], args=[policy.burst, policy.limit, policy.window_ms, cost, now]
        )
        return Decision(bool(allowed), int(remaining), int(reset))
