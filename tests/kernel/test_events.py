"""The outbox: events exist only if their transaction committed; each handler's effects
commit once however often delivery is tried; failures are retried with backoff."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from grassroots.kernel import events
from grassroots.kernel.events import Event, EventRegistry
from grassroots.kernel.models import EventDelivery, OutboxEvent
from grassroots.kernel.platform import Platform
from grassroots.kernel.uow import UnitOfWork


async def drain(platform: Platform) -> int:
    assert platform.worker is not None
    return await platform.worker.drain()


@pytest.fixture
def registry(platform: Platform):
    original = platform.events
    reg = EventRegistry()
    platform.events = reg
    yield reg
    platform.events = original


async def _count(platform: Platform, model: type) -> int:
    async with platform.unit_of_work(write=False) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def test_handler_runs_after_commit(platform: Platform, registry: EventRegistry) -> None:
    seen: list[dict] = []

    @registry.on("demo.happened", key="t.record")
    async def record(uow: UnitOfWork, event: Event) -> None:
        seen.append(event.payload)

    async with platform.unit_of_work() as uow:
        uow.emit("demo.happened", {"n": 1})
        assert seen == []  # nothing runs inside the transaction
    await drain(platform)
    assert seen == [{"n": 1}]
    async with platform.unit_of_work(write=False) as uow:
        row = (await uow.session.scalars(select(OutboxEvent))).one()
        assert row.dispatched_at is not None


async def test_rolled_back_work_emits_nothing(platform: Platform, registry: EventRegistry) -> None:
    seen: list[Event] = []
    registry.on("demo.happened", key="t.record")(lambda uow, e: _append(seen, e))

    with pytest.raises(RuntimeError):
        async with platform.unit_of_work() as uow:
            uow.emit("demo.happened", {"n": 1})
            raise RuntimeError("boom")
    await drain(platform)
    assert seen == []
    assert await _count(platform, OutboxEvent) == 0


async def _append(seen: list[Event], e: Event) -> None:
    seen.append(e)


async def test_each_handler_commits_once_even_if_delivered_twice(platform: Platform, registry: EventRegistry) -> None:
    calls = {"a": 0, "b": 0}

    async def a(uow: UnitOfWork, e: Event) -> None:
        calls["a"] += 1

    async def b(uow: UnitOfWork, e: Event) -> None:
        calls["b"] += 1

    registry.on("x", key="a")(a)
    registry.on("x", key="b")(b)
    async with platform.unit_of_work() as uow:
        event_id = uow.emit("x", {})
    assert event_id is not None
    results = await asyncio.gather(*(events.deliver(platform, event_id, "a") for _ in range(5)), return_exceptions=True)
    assert results.count(True) == 1
    await drain(platform)
    assert calls == {"a": 1, "b": 1}
    assert await _count(platform, EventDelivery) == 2


async def test_failing_handler_is_retried_with_backoff_and_effects_roll_back(
    platform: Platform, registry: EventRegistry
) -> None:
    attempts = 0

    registry.on("side.effect", key="listener")(_noop)

    @registry.on("flaky", key="flaky")
    async def flaky(uow: UnitOfWork, e: Event) -> None:
        nonlocal attempts
        attempts += 1
        uow.emit("side.effect", {"attempt": attempts})  # must vanish when the handler fails
        if attempts < 3:
            raise ValueError("not yet")

    async with platform.unit_of_work() as uow:
        uow.emit("flaky", {})
    clock = platform.test_clock
    assert clock is not None
    await drain(platform)
    assert attempts == 1
    await drain(platform)  # not due yet: backoff
    assert attempts == 1
    async with platform.unit_of_work(write=False) as uow:
        row = (await uow.session.scalars(select(OutboxEvent).where(OutboxEvent.name == "flaky"))).one()
        assert row.attempts == 1 and "not yet" in (row.last_error or "")
        assert row.dispatched_at is None
    for _ in range(2):
        await clock.advance(int(events.backoff(attempts).total_seconds()) + 1)
        await drain(platform)
    assert attempts == 3
    async with platform.unit_of_work(write=False) as uow:
        side = (await uow.session.scalars(select(OutboxEvent).where(OutboxEvent.name == "side.effect"))).all()
        assert [s.payload["attempt"] for s in side] == [3]


async def test_handler_gives_up_after_max_attempts(platform: Platform, registry: EventRegistry) -> None:
    registry.on("doomed", key="doomed")(_always_fails)
    async with platform.unit_of_work() as uow:
        uow.emit("doomed", {})
    clock = platform.test_clock
    assert clock is not None
    for _ in range(events.MAX_ATTEMPTS + 2):
        await drain(platform)
        await clock.advance(3601)
    async with platform.unit_of_work(write=False) as uow:
        row = (await uow.session.scalars(select(OutboxEvent))).one()
        assert row.attempts == events.MAX_ATTEMPTS
        assert row.failed_at is not None and row.dispatched_at is None


async def _noop(uow: UnitOfWork, e: Event) -> None:
    return None


async def test_events_nobody_listens_to_are_not_written(platform: Platform, registry: EventRegistry) -> None:
    async with platform.unit_of_work() as uow:
        assert uow.emit("unheard.of", {"x": 1}) is None
    assert await _count(platform, OutboxEvent) == 0


async def _always_fails(uow: UnitOfWork, e: Event) -> None:
    raise RuntimeError("always")


async def test_in_process_worker_delivers_without_being_asked(platform: Platform, registry: EventRegistry) -> None:
    done = asyncio.Event()

    @registry.on("ping", key="ping")
    async def ping(uow: UnitOfWork, e: Event) -> None:
        done.set()

    async with platform.unit_of_work() as uow:
        uow.emit("ping", {})
    await asyncio.wait_for(done.wait(), timeout=5)


async def test_purge_drops_old_dispatched_events(platform: Platform, registry: EventRegistry) -> None:
    registry.on("old", key="listener")(_noop)
    async with platform.unit_of_work() as uow:
        uow.emit("old", {})
    await drain(platform)
    assert await events.purge_dispatched(platform) == 0
    assert platform.test_clock is not None
    await platform.test_clock.advance(int(timedelta(days=8).total_seconds()))
    assert await events.purge_dispatched(platform) == 1
    assert await _count(platform, OutboxEvent) == 0


def test_payload_must_be_json_safe() -> None:
    from grassroots.kernel.uow import _jsonable

    with pytest.raises(TypeError):
        _jsonable({"x": object()})
