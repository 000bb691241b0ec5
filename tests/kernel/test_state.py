"""The in-process and Redis implementations pass the same tests."""

from __future__ import annotations

import asyncio

import pytest

from grassroots.kernel.state import SharedState


async def test_key_value_basics(shared_state: SharedState) -> None:
    kv = shared_state.kv
    assert await kv.get("a") is None
    await kv.set("a", "1")
    assert await kv.get("a") == "1"
    assert await kv.set_if_absent("a", "2") is False
    assert await kv.set_if_absent("b", "2") is True
    await kv.delete("a")
    assert await kv.get("a") is None


async def test_ttl_expires(shared_state: SharedState) -> None:
    await shared_state.kv.set("t", "x", ttl_seconds=0.05)
    assert await shared_state.kv.get("t") == "x"
    await asyncio.sleep(0.12)
    assert await shared_state.kv.get("t") is None


async def test_incr_is_atomic_under_concurrency(shared_state: SharedState) -> None:
    results = await asyncio.gather(*(shared_state.kv.incr("n", 2) for _ in range(200)))
    assert sorted(results) == list(range(2, 401, 2))
    assert await shared_state.kv.get("n") == "400"


async def test_incr_ttl_applies_only_on_creation(shared_state: SharedState) -> None:
    await shared_state.kv.incr("w", 1, ttl_seconds=0.1)
    await shared_state.kv.incr("w", 1, ttl_seconds=100)
    await asyncio.sleep(0.2)
    assert await shared_state.kv.get("w") is None


async def test_incr_keeps_the_ttl_of_an_existing_key(shared_state: SharedState) -> None:
    await shared_state.kv.set("kept", "0")
    await shared_state.kv.incr("kept", 5, ttl_seconds=0.05)
    await asyncio.sleep(0.12)
    assert await shared_state.kv.get("kept") == "5"


async def test_conditional_decrement_takes_a_positive_amount(shared_state: SharedState) -> None:
    await shared_state.kv.set("s", "3")
    for bad in (0, -5):
        with pytest.raises(ValueError, match="positive"):
            await shared_state.kv.decr_if_at_least("s", bad)
    assert await shared_state.kv.get("s") == "3"


async def test_conditional_decrement_never_oversells(shared_state: SharedState) -> None:
    await shared_state.kv.set("stock", "50")
    results = await asyncio.gather(*(shared_state.kv.decr_if_at_least("stock", 1) for _ in range(120)))
    granted = [r for r in results if r is not None]
    assert len(granted) == 50
    assert sorted(granted) == list(range(50))
    assert await shared_state.kv.get("stock") == "0"
    assert await shared_state.kv.decr_if_at_least("stock", 1) is None
    assert await shared_state.kv.decr_if_at_least("missing", 1) is None


async def test_rate_limiter_allows_a_burst_then_refuses(shared_state: SharedState) -> None:
    lim = shared_state.limiter
    decisions = [await lim.hit("k", 5, 60) for _ in range(7)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False] * 2
    assert [d.remaining for d in decisions[:5]] == [4, 3, 2, 1, 0]
    assert 0 < decisions[5].retry_after <= 12.5  # one slot frees every 60/5 s
    other = await lim.hit("other", 5, 60)
    assert other.allowed
    await lim.reset("k")
    assert (await lim.hit("k", 5, 60)).allowed


async def test_rate_limiter_refills_over_time(shared_state: SharedState) -> None:
    lim = shared_state.limiter
    for _ in range(2):
        assert (await lim.hit("r", 2, 0.2)).allowed
    assert not (await lim.hit("r", 2, 0.2)).allowed
    await asyncio.sleep(0.12)
    assert (await lim.hit("r", 2, 0.2)).allowed


async def test_pubsub_delivers_to_every_subscriber(shared_state: SharedState) -> None:
    ps = shared_state.pubsub
    got: dict[str, list[str]] = {"a": [], "b": []}
    ready = asyncio.Event()
    ready_count = 0

    async def listen(name: str) -> None:
        nonlocal ready_count
        async with ps.subscribe("room:1") as sub:
            ready_count += 1
            if ready_count == 2:
                ready.set()
            async for msg in sub:
                got[name].append(msg)
                if len(got[name]) == 3:
                    return

    tasks = [asyncio.create_task(listen("a")), asyncio.create_task(listen("b"))]
    await asyncio.wait_for(ready.wait(), 2)
    await ps.publish("room:2", "elsewhere")
    for m in ("one", "两", "three"):
        await ps.publish("room:1", m)
    await asyncio.wait_for(asyncio.gather(*tasks), 3)
    assert got == {"a": ["one", "两", "three"], "b": ["one", "两", "three"]}


async def test_redis_state_is_shared_between_instances(redis_url: str) -> None:
    """Two app instances (two clients) see one counter, one limiter and one channel."""
    from grassroots.kernel.state_redis import RedisState

    a, b = RedisState(redis_url, prefix="shared:"), RedisState(redis_url, prefix="shared:")
    try:
        await a.kv.delete("c")
        await a.limiter.reset("l")
        await a.kv.incr("c", 3)
        assert await b.kv.incr("c", 4) == 7
        assert (await a.limiter.hit("l", 1, 60)).allowed
        assert not (await b.limiter.hit("l", 1, 60)).allowed
        async with b.pubsub.subscribe("x") as sub:
            await a.pubsub.publish("x", "hello")
            it = sub.__aiter__()
            assert await asyncio.wait_for(anext(it), 2) == "hello"
    finally:
        await a.kv.delete("c")
        await a.limiter.reset("l")
        await a.close()
        await b.close()


@pytest.mark.parametrize("limit", [0, -1])
async def test_zero_limit_refuses(shared_state: SharedState, limit: int) -> None:
    assert not (await shared_state.limiter.hit("z", limit, 10)).allowed


async def test_incr_if_at_most_never_passes_the_bound(shared_state: SharedState) -> None:
    results = await asyncio.gather(*(shared_state.kv.incr_if_at_most("offset", 7, 100) for _ in range(30)))
    assert sorted(r for r in results if r is not None) == list(range(7, 99, 7))  # 14 fit
    assert results.count(None) == 16
    assert await shared_state.kv.get("offset") == "98"
    assert await shared_state.kv.incr_if_at_most("offset", 2, 100) == 100
    assert await shared_state.kv.incr_if_at_most("offset", 1, 100) is None
    assert await shared_state.kv.incr_if_at_most("fresh", 5, 4) is None and await shared_state.kv.get("fresh") is None
