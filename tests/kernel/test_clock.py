from __future__ import annotations

from datetime import UTC, datetime, timedelta

from grassroots.kernel.clock import FixedClock, OffsetClock, utcnow
from grassroots.kernel.state import MemoryState


async def test_offset_clock_moves_forward_and_is_shared_through_state() -> None:
    state = MemoryState()
    a, b = OffsetClock(state.kv), OffsetClock(state.kv)
    await a.advance(3600)
    assert a.offset == timedelta(hours=1)
    assert b.offset == timedelta(0)  # b has not refreshed yet
    await b.refresh()
    assert b.offset == timedelta(hours=1)
    assert abs((b.now() - utcnow()) - timedelta(hours=1)) < timedelta(seconds=5)
    await a.reset()
    await b.refresh()
    assert b.offset == timedelta(0)


async def test_offset_clock_on_redis_is_shared_between_instances(redis_url: str) -> None:
    from grassroots.kernel.state_redis import RedisState

    s1, s2 = RedisState(redis_url, prefix="clk:"), RedisState(redis_url, prefix="clk:")
    try:
        a, b = OffsetClock(s1.kv), OffsetClock(s2.kv)
        await a.reset()
        await a.advance(86400 * 7)
        await b.refresh()
        assert b.offset == timedelta(days=7)
        await a.reset()
    finally:
        await s1.close()
        await s2.close()


def test_fixed_clock() -> None:
    c = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    c.advance(timedelta(days=8))
    assert c.now() == datetime(2026, 1, 9, tzinfo=UTC)
