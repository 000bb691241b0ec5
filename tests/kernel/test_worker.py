"""Production background work: the outbox relay puts events on arq (Redis) and
``grassroots worker`` processes deliver them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.worker import Worker
from sqlalchemy import select

from grassroots.kernel import events, worker
from grassroots.kernel.events import Event, EventRegistry
from grassroots.kernel.jobs import Periodic
from grassroots.kernel.models import EventDelivery, OutboxEvent
from grassroots.kernel.platform import Platform
from grassroots.kernel.uow import UnitOfWork
from grassroots.kernel.worker import RELAY_LEASE, _cron_for, relay_once, worker_settings
from tests.conftest import Stack


async def work_until_idle(stack: Stack, seconds: float) -> None:
    """Run a burst arq worker (no cron jobs) on the stack's platform until the queue is empty."""
    kwargs = worker_settings(stack.settings, stack.platform)
    kwargs.update(burst=True, handle_signals=False, poll_delay=0.05, cron_jobs=[])
    worker = Worker(**kwargs)
    await asyncio.wait_for(worker.main(), seconds)
    await worker.close()


@asynccontextmanager
async def arq_pool(stack: Stack) -> AsyncIterator[ArqRedis]:
    assert stack.settings.redis_url
    pool = await create_pool(RedisSettings.from_dsn(stack.settings.redis_url))
    try:
        yield pool
    finally:
        await pool.aclose()


async def the_event(platform: Platform) -> OutboxEvent:
    """The one outbox row a test emitted, as stored now."""
    async with platform.unit_of_work(write=False) as uow:
        return (await uow.session.scalars(select(OutboxEvent))).one()


@pytest.fixture
async def production(stack: Stack) -> AsyncIterator[Stack]:
    platform = stack.platform
    assert platform.worker is not None
    await platform.worker.stop()  # the arq worker, not the in-process one, must deliver
    platform.worker = None
    original = platform.events
    yield stack
    platform.events = original
    await platform.start(in_process_worker=True)


@pytest.mark.parametrize("stack_session", ["production"], indirect=True)
async def test_relay_and_arq_worker_deliver_events_once(production: Stack) -> None:
    platform: Platform = production.platform
    reg = platform.events = EventRegistry()
    calls: list[dict] = []

    @reg.on("worker.ping", key="t.worker")
    async def handle(uow: UnitOfWork, event: Event) -> None:
        calls.append(event.payload)

    @reg.on("worker.ping", key="t.worker2")
    async def handle2(uow: UnitOfWork, event: Event) -> None:
        calls.append({"second": True})

    async with platform.unit_of_work() as uow:
        uow.emit("worker.ping", {"n": 7})

    async with arq_pool(production) as pool:
        assert await relay_once(platform, pool) == 1
        assert await relay_once(platform, pool) == 0  # already dispatched
        await work_until_idle(production, 20)
    assert sorted(map(str, calls)) == sorted(map(str, [{"n": 7}, {"second": True}]))
    async with platform.unit_of_work(write=False) as uow:
        assert len((await uow.session.scalars(select(EventDelivery))).all()) == 2
        assert (await uow.session.scalars(select(OutboxEvent))).one().dispatched_at is None  # leased
    # the next look, once the lease is over, finds every handler delivered: dispatched
    assert platform.test_clock is not None
    await platform.test_clock.advance(int(RELAY_LEASE.total_seconds()) + 1)
    async with arq_pool(production) as pool:
        assert await relay_once(platform, pool) == 1
    assert (await the_event(platform)).dispatched_at is not None


@pytest.mark.parametrize("stack_session", ["production"], indirect=True)
async def test_a_queued_delivery_lost_with_redis_is_queued_again(production: Stack) -> None:
    """The queue is not the record: a job lost from Redis (a restart without persistence)
    is queued again when the relay looks at its event after the lease, and delivered once."""
    platform: Platform = production.platform
    reg = platform.events = EventRegistry()
    calls: list[int] = []

    @reg.on("worker.lost", key="t.lost")
    async def handle(uow: UnitOfWork, event: Event) -> None:
        calls.append(1)

    async with platform.unit_of_work() as uow:
        uow.emit("worker.lost", {})
    assert platform.test_clock is not None
    async with arq_pool(production) as pool:
        assert await relay_once(platform, pool) == 1
        await pool.flushdb()  # Redis restarted empty: the queued job is gone
        assert await relay_once(platform, pool) == 0  # leased: not looked at again yet
        await platform.test_clock.advance(int(RELAY_LEASE.total_seconds()) + 1)
        assert await relay_once(platform, pool) == 1  # queued again
        assert await relay_once(platform, pool) == 0
        await work_until_idle(production, 20)
        await platform.test_clock.advance(int(RELAY_LEASE.total_seconds()) + 1)
        assert await relay_once(platform, pool) == 1  # every handler delivered: dispatched
        await platform.test_clock.advance(int(RELAY_LEASE.total_seconds()) + 1)
        assert await relay_once(platform, pool) == 0
    assert calls == [1]


@pytest.mark.parametrize("stack_session", ["production"], indirect=True)
async def test_the_worker_keeps_to_each_events_attempt_budget_and_records_failures(
    production: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queued deliveries that fail are counted on the event, retried until the event's own
    budget (not a fixed ten), then marked failed with the last error, never lost."""
    platform: Platform = production.platform
    reg = platform.events = EventRegistry()
    tried: list[int] = []

    @reg.on_external("worker.flaky", key="t.flaky", max_attempts=4)
    async def flaky(_platform: Platform, event: Event) -> None:
        tried.append(1)
        raise RuntimeError(f"receiver down ({len(tried)})")

    monkeypatch.setattr(events, "backoff", lambda attempts: timedelta(0))
    async with platform.unit_of_work() as uow:
        uow.emit("worker.flaky", {"n": 1})
    async with arq_pool(production) as pool:
        assert await relay_once(platform, pool) == 1
        await work_until_idle(production, 30)
    assert len(tried) == 4
    row = await the_event(platform)
    assert row.attempts == 4 and row.failed_at is not None and "receiver down (4)" in (row.last_error or "")


@pytest.mark.parametrize("stack_session", ["production"], indirect=True)
async def test_each_handler_has_the_whole_budget_and_jobs_outlive_it(
    production: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform: Platform = production.platform
    reg = platform.events = EventRegistry()
    tried: dict[str, int] = {"a": 0, "b": 0}

    @reg.on_external("worker.two", key="t.a", max_attempts=80)
    async def a(_platform: Platform, event: Event) -> None:
        tried["a"] += 1
        raise RuntimeError("a down")

    @reg.on("worker.two", key="t.b")
    async def b(uow: UnitOfWork, event: Event) -> None:
        tried["b"] += 1
        if tried["b"] < 3:
            raise RuntimeError("b briefly down")

    async with platform.unit_of_work() as uow:
        uow.emit("worker.two", {})
    async with arq_pool(production) as pool:
        assert await relay_once(platform, pool) == 1
        event_id = (await the_event(platform)).id
        ttl = await pool.pttl(f"arq:job:evt:{event_id}:t.a")
        assert ttl > events.delivery_span(80).total_seconds() * 1000 - 60_000  # kept for all 80 tries
        monkeypatch.setattr(events, "backoff", lambda attempts: timedelta(0))
        await work_until_idle(production, 60)
    # b's two failures did not eat into a's budget, nor a's into b's
    assert tried == {"a": 80, "b": 3}


def test_a_stopping_worker_lets_a_webhook_call_finish(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from grassroots.kernel.platform import WEBHOOK_TIMEOUT
    from tests.conftest import make_settings

    settings = make_settings(tmp_path, redis_url="redis://127.0.0.1:6379/15")
    kwargs = worker_settings(settings, Platform(settings))
    assert kwargs["job_completion_wait"] > WEBHOOK_TIMEOUT
    assert kwargs["job_timeout"] > worker.DELIVERY_TIMEOUT


def test_periodic_jobs_become_cron_jobs() -> None:
    async def job(platform: Platform) -> None:
        return None

    every_minute = _cron_for(Periodic("a", 60, job))
    every_hour = _cron_for(Periodic("b", 3600, job))
    every_10s = _cron_for(Periodic("c", 10, job))
    assert every_minute.minute == set(range(60)) and every_minute.second == {0}
    assert every_hour.minute == {0}
    assert every_10s.second == {0, 10, 20, 30, 40, 50}


@pytest.mark.parametrize("stack_session", ["production"], indirect=True)
async def test_a_hanging_delivery_counts_as_a_failed_attempt(
    production: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform: Platform = production.platform
    reg = platform.events = EventRegistry()

    @reg.on_external("worker.hang", key="t.hang", max_attempts=2)
    async def hang(_platform: Platform, event: Event) -> None:
        await asyncio.sleep(30)

    monkeypatch.setattr(worker, "DELIVERY_TIMEOUT", 0.2)
    monkeypatch.setattr(events, "backoff", lambda attempts: timedelta(0))
    async with platform.unit_of_work() as uow:
        uow.emit("worker.hang", {})
    async with arq_pool(production) as pool:
        assert await relay_once(platform, pool) == 1
        await work_until_idle(production, 20)
    row = await the_event(platform)
    assert row.attempts == 2 and row.failed_at is not None and "TimeoutError" in (row.last_error or "")
