"""Redis implementation of the shared-state interfaces (see ``state.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from redis.asyncio import Redis
from redis.asyncio.client import PubSub as RedisPubSubClient

from grassroots.kernel.state import RateDecision, Subscription

_INCR = """
local existed = redis.call('EXISTS', KEYS[1])
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if ARGV[2] ~= '' and existed == 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return v
"""

_DECR_IF_AT_LEAST = """
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
local n = tonumber(ARGV[1])
if v < n then return nil end
return redis.call('DECRBY', KEYS[1], n)
"""

_INCR_IF_AT_MOST = """
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if v + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return nil end
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""

# GCRA with times in microseconds taken from the Redis server, so every instance
# agrees on "now". Returns {allowed, remaining, retry_after_us}.
_GCRA = """
local limit = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat + interval - limit * interval
if now < allow_at then
  return {0, 0, allow_at - now}
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], new_tat, 'PX', math.ceil((new_tat - now) / 1000) + 1)
return {1, math.floor((now - allow_at) / interval), 0}
"""


class RedisKeyValue:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._r = redis
        self._p = prefix
        self._incr = redis.register_script(_INCR)
        self._decr = redis.register_script(_DECR_IF_AT_LEAST)
        self._incr_at_most = redis.register_script(_INCR_IF_AT_MOST)

    async def get(self, key: str) -> str | None:
        return cast(str | None, await self._r.get(self._p + key))

    async def set(self, key: str, value: str, ttl_seconds: float | None = None) -> None:
        px = None if ttl_seconds is None else max(1, int(ttl_seconds * 1000))
        await self._r.set(self._p + key, value, px=px)

    async def set_if_absent(self, key: str, value: str, ttl_seconds: float | None = None) -> bool:
        px = None if ttl_seconds is None else max(1, int(ttl_seconds * 1000))
        return bool(await self._r.set(self._p + key, value, px=px, nx=True))

    async def delete(self, key: str) -> None:
        await self._r.delete(self._p + key)

    async def incr(self, key: str, amount: int = 1, ttl_seconds: float | None = None) -> int:
        ttl = "" if ttl_seconds is None else str(max(1, int(ttl_seconds * 1000)))
        return int(await self._incr(keys=[self._p + key], args=[amount, ttl]))

    async def decr_if_at_least(self, key: str, amount: int) -> int | None:
        if amount <= 0:
            raise ValueError("decr_if_at_least takes a positive amount")
        v = await self._decr(keys=[self._p + key], args=[amount])
        return None if v is None else int(v)

    async def incr_if_at_most(self, key: str, amount: int, maximum: int) -> int | None:
        v = await self._incr_at_most(keys=[self._p + key], args=[amount, maximum])
        return None if v is None else int(v)


class RedisRateLimiter:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._r = redis
        self._p = prefix + "rl:"
        self._gcra = redis.register_script(_GCRA)

    async def hit(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        if limit <= 0:
            return RateDecision(False, 0, window_seconds)
        interval_us = max(1, int(window_seconds * 1_000_000 / limit))
        allowed, remaining, retry_us = await self._gcra(keys=[self._p + key], args=[limit, interval_us])
        return RateDecision(bool(allowed), int(remaining), int(retry_us) / 1_000_000)

    async def reset(self, key: str) -> None:
        await self._r.delete(self._p + key)


class _RedisSubscription:
    def __init__(self, ps: RedisPubSubClient) -> None:
        self._ps = ps

    async def __aiter__(self) -> AsyncIterator[str]:
        async for msg in self._ps.listen():
            if msg.get("type") == "message":
                yield cast(str, msg["data"])


class RedisPubSub:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self._r = redis
        self._p = prefix + "ps:"

    async def publish(self, channel: str, message: str) -> int:
        return int(await self._r.publish(self._p + channel, message))

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        ps = self._r.pubsub()
        await ps.subscribe(self._p + channel)
        try:
            yield _RedisSubscription(ps)
        finally:
            await ps.unsubscribe()
            await ps.aclose()  # type: ignore[no-untyped-call]


class RedisState:
    kind = "redis"

    def __init__(self, url: str, prefix: str = "gr:") -> None:
        self.redis: Redis = Redis.from_url(url, decode_responses=True)
        self.kv = RedisKeyValue(self.redis, prefix)
        self.limiter = RedisRateLimiter(self.redis, prefix)
        self.pubsub = RedisPubSub(self.redis, prefix)

    async def ping(self) -> None:
        await cast(Any, self.redis.ping())

    async def close(self) -> None:
        await self.redis.aclose()
