"""Fast shared state: key-value with atomic counters, a rate limiter and pub/sub.

Two implementations of the same interfaces: in-process (embedded mode: one process)
and Redis (production: shared by every app instance and worker). Both pass the same
test suite (``tests/kernel/test_state.py``).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    remaining: int
    retry_after: float  # seconds until the next hit would be allowed (0 when allowed)


class KeyValue(Protocol):
    async def get(self, key: str) -> str | None: ...
    async def set(self, key: str, value: str, ttl_seconds: float | None = None) -> None: ...
    async def set_if_absent(self, key: str, value: str, ttl_seconds: float | None = None) -> bool: ...
    async def delete(self, key: str) -> None: ...
    async def incr(self, key: str, amount: int = 1, ttl_seconds: float | None = None) -> int:
        """Add ``amount`` atomically and return the new value (a missing key counts as 0).
        ``ttl_seconds`` is applied when the key is created by this call."""
        ...

    async def decr_if_at_least(self, key: str, amount: int) -> int | None:
        """Subtract ``amount`` only if the value is at least ``amount``; the new value, or
        None when there was not enough (nothing changes). Flash-sale stock uses this."""
        ...

    async def incr_if_at_most(self, key: str, amount: int, maximum: int) -> int | None:
        """Add ``amount`` only if the result is at most ``maximum``, in one step; the new
        value, or None (nothing changes). The test clock's bound uses this."""
        ...


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        """Count one hit against ``limit`` hits per ``window_seconds`` (GCRA: a burst of
        ``limit`` then one per ``window/limit``)."""
        ...

    async def reset(self, key: str) -> None: ...


class Subscription(Protocol):
    def __aiter__(self) -> AsyncIterator[str]: ...


class PubSub(Protocol):
    async def publish(self, channel: str, message: str) -> int: ...
    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """Use as ``async with pubsub.subscribe(ch) as sub: async for msg in sub``."""
        ...


class SharedState(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def kv(self) -> KeyValue: ...
    @property
    def limiter(self) -> RateLimiter: ...
    @property
    def pubsub(self) -> PubSub: ...

    async def ping(self) -> None: ...
    async def close(self) -> None: ...


# ---------------------------------------------------------------- in-process


class MemoryKeyValue:
    def __init__(self) -> None:
        self._data: dict[str, str] = {}
        self._expires: dict[str, float] = {}

    def _live(self, key: str) -> str | None:
        exp = self._expires.get(key)
        if exp is not None and exp <= time.monotonic():
            self._data.pop(key, None)
            self._expires.pop(key, None)
        return self._data.get(key)

    def _put(self, key: str, value: str, ttl_seconds: float | None) -> None:
        self._data[key] = value
        if ttl_seconds is None:
            self._expires.pop(key, None)
        else:
            self._expires[key] = time.monotonic() + ttl_seconds

    # Each method runs without an await in between, so it is atomic on the event loop.
    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def set(self, key: str, value: str, ttl_seconds: float | None = None) -> None:
        self._put(key, value, ttl_seconds)

    async def set_if_absent(self, key: str, value: str, ttl_seconds: float | None = None) -> bool:
        if self._live(key) is not None:
            return False
        self._put(key, value, ttl_seconds)
        return True

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)
        self._expires.pop(key, None)

    async def incr(self, key: str, amount: int = 1, ttl_seconds: float | None = None) -> int:
        current = self._live(key)
        value = int(current or 0) + amount
        if current is None:
            self._put(key, str(value), ttl_seconds)
        else:
            self._data[key] = str(value)
        return value

    async def decr_if_at_least(self, key: str, amount: int) -> int | None:
        if amount <= 0:
            raise ValueError("decr_if_at_least takes a positive amount")
        current = int(self._live(key) or 0)
        if current < amount:
            return None
        self._data[key] = str(current - amount)
        return current - amount

    async def incr_if_at_most(self, key: str, amount: int, maximum: int) -> int | None:
        current = self._live(key)
        value = int(current or 0) + amount
        if value > maximum:
            return None
        if current is None:
            self._put(key, str(value), None)
        else:
            self._data[key] = str(value)
        return value


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._tat: dict[str, float] = {}

    async def hit(self, key: str, limit: int, window_seconds: float) -> RateDecision:
        return gcra(self._tat, key, limit, window_seconds, time.monotonic())

    async def reset(self, key: str) -> None:
        self._tat.pop(key, None)


def gcra(tats: dict[str, float], key: str, limit: int, window: float, now: float) -> RateDecision:
    if limit <= 0:
        return RateDecision(False, 0, window)
    interval = window / limit
    tat = max(tats.get(key, now), now)
    allow_at = tat + interval - limit * interval
    if now < allow_at:
        return RateDecision(False, 0, allow_at - now)
    tats[key] = tat + interval
    remaining = math.floor((now - allow_at) / interval + 1e-9)
    return RateDecision(True, remaining, 0.0)


class _MemorySubscription:
    def __init__(self, queue: asyncio.Queue[str]) -> None:
        self._queue = queue

    async def __aiter__(self) -> AsyncIterator[str]:
        while True:
            yield await self._queue.get()


class MemoryPubSub:
    def __init__(self) -> None:
        self._subs: dict[str, set[asyncio.Queue[str]]] = defaultdict(set)

    async def publish(self, channel: str, message: str) -> int:
        queues = list(self._subs.get(channel, ()))
        for q in queues:
            q.put_nowait(message)
        return len(queues)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self._subs[channel].add(queue)
        try:
            yield _MemorySubscription(queue)
        finally:
            self._subs[channel].discard(queue)
            if not self._subs[channel]:
                del self._subs[channel]


class MemoryState:
    kind = "memory"

    def __init__(self) -> None:
        self.kv = MemoryKeyValue()
        self.limiter = MemoryRateLimiter()
        self.pubsub = MemoryPubSub()

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


def create_state(redis_url: str | None, prefix: str = "gr:") -> SharedState:
    if not redis_url:
        return MemoryState()
    from grassroots.kernel.state_redis import RedisState

    return RedisState(redis_url, prefix=prefix)
