"""Time comes from an injectable clock, never from ``datetime.now()`` in domain code.

``SystemClock`` is the wall clock. ``OffsetClock`` adds an offset kept in the shared
state, so every app instance and worker sees the same moved time: the test clock that
lets return windows and settlement run end to end without sleeping. It only exists
outside production.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Protocol

from grassroots.kernel.state import KeyValue

OFFSET_KEY = "clock:offset_us"
log = logging.getLogger("grassroots.clock")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def refresh(self) -> None:
        """Reload any shared state the clock depends on (called at each request/task)."""


class SystemClock:
    def now(self) -> datetime:
        return utcnow()

    async def refresh(self) -> None:
        return None


class FixedClock:
    """A clock that only moves when told to; for unit tests of domain rules."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        return self._at

    def advance(self, delta: timedelta) -> None:
        self._at += delta

    def set(self, at: datetime) -> None:
        self._at = at

    async def refresh(self) -> None:
        return None


class OffsetClock:
    """Wall clock plus a shared offset (microseconds) that only moves forward."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv
        self._offset_us = 0

    @property
    def offset(self) -> timedelta:
        return timedelta(microseconds=self._offset_us)

    def now(self) -> datetime:
        return utcnow() + self.offset

    async def refresh(self) -> None:
        try:
            raw = await self._kv.get(OFFSET_KEY)
        except Exception:  # shared state down: keep the last known offset; health reports it
            log.warning("could not refresh the test clock offset", exc_info=True)
            return
        self._offset_us = int(raw) if raw else 0

    async def advance(self, seconds: int, *, limit: timedelta | None = None) -> bool:
        """Move forward by ``seconds``; with ``limit``, only if the offset stays within it
        (False, and nothing moved, otherwise), checked and added in one step in shared
        state, so advances at once never pass it and nobody sees an offset taken back."""
        amount = seconds * 1_000_000
        if limit is None:
            self._offset_us = await self._kv.incr(OFFSET_KEY, amount)
            return True
        moved = await self._kv.incr_if_at_most(OFFSET_KEY, amount, limit // timedelta(microseconds=1))
        if moved is None:
            await self.refresh()
            return False
        self._offset_us = moved
        return True

    async def reset(self) -> None:
        await self._kv.delete(OFFSET_KEY)
        self._offset_us = 0
