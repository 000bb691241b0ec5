"""The outbox: events exist only if their transaction committed; each handler's effects
commit once however often delivery is tried; failures are retried with backoff."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
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


async def _unreachable(platform: Platform, e: Event) -> None:
    raise ConnectionError("the other side is down")


@pytest.mark.parametrize("extra", [0, 3])
async def test_handler_gives_up_after_max_attempts(platform: Platform, registry: EventRegistry, extra: int) -> None:
    """Ten attempts by default; an external handler may ask for more (``extra``)."""
    if extra:
        registry.on_external("doomed", key="doomed", max_attempts=events.MAX_ATTEMPTS + extra)(_unreachable)
    else:
        registry.on("doomed", key="doomed")(_always_fails)
    async with platform.unit_of_work() as uow:
        uow.emit("doomed", {})
    clock = platform.test_clock
    assert clock is not None
    for n in range(events.MAX_ATTEMPTS + extra + 2):
        await drain(platform)
        await clock.advance(3601)
        if extra and n == events.MAX_ATTEMPTS:  # past the default, still being tried
            async with platform.unit_of_work(write=False) as uow:
                assert (await uow.session.scalars(select(OutboxEvent))).one().failed_at is None
    async with platform.unit_of_work(write=False) as uow:
        row = (await uow.session.scalars(select(OutboxEvent))).one()
        assert row.attempts == events.MAX_ATTEMPTS + extra
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


async def test_a_handler_runs_only_for_payloads_it_wants(platform: Platform, registry: EventRegistry) -> None:
    big: list[int] = []
    every: list[int] = []

    @registry.on("sale", key="t.big", when=lambda p: p["amount"] > 100)
    async def on_big(uow: UnitOfWork, e: Event) -> None:
        big.append(e.payload["amount"])

    async with platform.unit_of_work() as uow:
        assert uow.emit("sale", {"amount": 5}) is None  # no handler wants it: not written
        assert uow.emit("sale", {"amount": 500}) is not None
    await drain(platform)
    assert big == [500]
    assert await _count(platform, OutboxEvent) == 1

    @registry.on("sale", key="t.every")
    async def on_every(uow: UnitOfWork, e: Event) -> None:
        every.append(e.payload["amount"])

    async with platform.unit_of_work() as uow:
        uow.emit("sale", {"amount": 7})
    await drain(platform)
    assert (big, every) == ([500], [7])
    assert await _count(platform, EventDelivery) == 2  # t.big once, t.every once


@pytest.fixture
async def eager(platform: Platform) -> AsyncIterator[events.EagerDeliveries]:
    """Eager delivery on, and the background dispatcher off: only the eager path delivers,
    unless a test drains."""
    worker = platform.worker
    assert worker is not None
    await worker.stop()
    platform.eager = events.EagerDeliveries(platform)
    yield platform.eager
    await worker.start()


async def _outbox_row(platform: Platform, name: str) -> OutboxEvent:
    async with platform.unit_of_work(write=False) as uow:
        return (await uow.session.scalars(select(OutboxEvent).where(OutboxEvent.name == name))).one()


def _eager_hook(registry: EventRegistry, *, fail_first: bool = False) -> list[dict]:
    """An eager handler for ``hook`` events; returns the payloads of its calls."""
    calls: list[dict] = []

    @registry.on_external("hook", key="t.hook", eager=True)
    async def hook(p: Platform, e: Event) -> None:
        calls.append(e.payload)
        if fail_first and len(calls) == 1:
            raise RuntimeError("receiver down")

    return calls


async def test_eager_handlers_run_right_after_the_commit(
    platform: Platform, registry: EventRegistry, eager: events.EagerDeliveries
) -> None:
    calls: list[dict] = []
    arrived = asyncio.Event()

    @registry.on_external("hook", key="t.hook", eager=True)
    async def hook(p: Platform, e: Event) -> None:
        calls.append(e.payload)
        arrived.set()

    async with platform.unit_of_work() as uow:
        uow.emit("hook", {"n": 1})
        await asyncio.sleep(0.05)
        assert calls == []  # not before the commit
    await asyncio.wait_for(arrived.wait(), timeout=5)  # nobody drained: the committing process delivered
    await eager.settle()
    row = await _outbox_row(platform, "hook")
    assert row.dispatched_at is not None and row.attempts == 0
    assert row.next_attempt_at == row.created_at + events.EAGER_LEASE  # the dispatcher was kept off it
    await drain(platform)
    assert calls == [{"n": 1}]  # and the dispatcher does not deliver it again


async def test_a_failed_eager_delivery_is_retried_by_the_dispatcher(
    platform: Platform, registry: EventRegistry, eager: events.EagerDeliveries
) -> None:
    calls = _eager_hook(registry, fail_first=True)
    async with platform.unit_of_work() as uow:
        uow.emit("hook", {})
    await eager.settle()
    row = await _outbox_row(platform, "hook")
    assert len(calls) == 1 and row.attempts == 1 and "receiver down" in (row.last_error or "")
    assert row.dispatched_at is None
    clock = platform.test_clock
    assert clock is not None
    await clock.advance(int(events.backoff(1).total_seconds()) + 1)
    await drain(platform)
    assert len(calls) == 2
    assert (await _outbox_row(platform, "hook")).dispatched_at is not None


async def test_an_eager_event_nobody_delivered_is_taken_over_after_its_lease(
    platform: Platform, registry: EventRegistry, eager: events.EagerDeliveries
) -> None:
    calls = _eager_hook(registry)
    async with platform.unit_of_work() as uow:
        uow.emit("hook", {})
        uow._after_commit.clear()  # the process dies right after the commit
    await drain(platform)
    assert calls == []  # leased: the dispatcher leaves it to the process that wrote it
    clock = platform.test_clock
    assert clock is not None
    await clock.advance(int(events.EAGER_LEASE.total_seconds()) + 1)
    await drain(platform)
    assert len(calls) == 1


async def test_an_eager_event_undone_by_a_savepoint_is_never_delivered(
    platform: Platform, registry: EventRegistry, eager: events.EagerDeliveries
) -> None:
    calls = _eager_hook(registry)
    async with platform.unit_of_work() as uow:
        with pytest.raises(RuntimeError):
            async with uow.attempt():
                uow.emit("hook", {})
                raise RuntimeError("the block fails")
    await eager.settle()
    assert calls == []
    assert await _count(platform, OutboxEvent) == 0


async def test_a_broken_predicate_does_not_stop_delivery(platform: Platform, registry: EventRegistry) -> None:
    seen: list[dict] = []

    def broken(payload: dict) -> bool:
        raise KeyError("amount")

    @registry.on("sale", key="t.sale", when=broken)
    async def on_sale(uow: UnitOfWork, e: Event) -> None:
        seen.append(e.payload)

    async with platform.unit_of_work() as uow:
        uow.emit("sale", {"n": 1})
    await drain(platform)
    assert seen == [{"n": 1}]  # the handler decides; the dispatcher carries on


async def test_settle_records_deliveries_without_waiting_out_the_batching_delay(
    platform: Platform, registry: EventRegistry, eager: events.EagerDeliveries, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "FLUSH_DELAY", 3600)
    calls = _eager_hook(registry)
    for n in range(3):
        async with platform.unit_of_work() as uow:
            uow.emit("hook", {"n": n})
    async with asyncio.timeout(10):
        await eager.settle()
    assert sorted(c["n"] for c in calls) == [0, 1, 2]
    async with platform.unit_of_work(write=False) as uow:
        rows = (await uow.session.scalars(select(OutboxEvent).where(OutboxEvent.name == "hook"))).all()
    assert len(rows) == 3 and all(r.dispatched_at is not None for r in rows)


async def test_events_are_written_at_commit_minus_those_of_a_failed_attempt(
    platform: Platform, registry: EventRegistry
) -> None:
    @registry.on("demo.happened", key="t.record")
    async def record(uow: UnitOfWork, e: Event) -> None:
        pass

    async with platform.unit_of_work() as uow:
        uow.emit("demo.happened", {"n": 1})
        with pytest.raises(RuntimeError):
            async with uow.attempt():
                uow.emit("demo.happened", {"n": 2})
                raise RuntimeError("the block fails")
        async with uow.attempt():
            uow.emit("demo.happened", {"n": 3})
        uow.emit("nobody.listens", {"n": 4})
    async with platform.unit_of_work(write=False) as uow:
        rows = (await uow.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))).all()
    assert [(r.name, r.payload, r.attempts, r.dispatched_at) for r in rows] == [
        ("demo.happened", {"n": 1}, 0, None),
        ("demo.happened", {"n": 3}, 0, None),
    ]
