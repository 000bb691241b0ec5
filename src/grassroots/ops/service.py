"""Operations: health of the parts the platform depends on, and the test clock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import timedelta

from grassroots.kernel.clock import OffsetClock
from grassroots.kernel.errors import Invalid, NotFound
from grassroots.kernel.platform import Platform

log = logging.getLogger("grassroots.ops")

CHECK_TIMEOUT = 2.0


async def health(platform: Platform) -> dict[str, str]:
    """``ok`` or ``failed: <reason>`` for the database and (when configured) Redis."""
    checks: dict[str, str] = {}

    async def probe(name: str, check: Awaitable[None]) -> None:
        try:
            await asyncio.wait_for(check, CHECK_TIMEOUT)
            checks[name] = "ok"
        except Exception as exc:
            log.warning("health check %s failed: %r", name, exc)
            checks[name] = f"failed: {type(exc).__name__}"

    await probe("database", platform.db.ping())
    if platform.state.kind == "memory":
        checks["redis"] = "not_configured"
    else:
        await probe("redis", platform.state.ping())
    return checks


def test_clock(platform: Platform) -> OffsetClock:
    clock = platform.test_clock
    if clock is None or platform.settings.is_production:
        raise NotFound("Nothing lives at this address.", code="not_found")
    return clock


MAX_OFFSET = timedelta(days=100 * 366)  # keeps platform time far from datetime's year 9999


async def advance_clock(platform: Platform, seconds: int) -> OffsetClock:
    clock = test_clock(platform)
    if not await clock.advance(seconds, limit=MAX_OFFSET):
        raise Invalid(
            "The test clock cannot run more than 100 years ahead.",
            code="clock_out_of_range",
            fields={"advance_seconds": "too far"},
        )
    log.info("test clock advanced", extra={"advance_seconds": seconds, "offset_seconds": clock.offset.total_seconds()})
    return clock
