"""``grassroots worker``: background work in production, on arq (Redis), see ADR 0003.

Each worker process runs arq jobs (event deliveries and the periodic jobs as cron
jobs) and an outbox relay: it claims committed outbox events with
``FOR UPDATE SKIP LOCKED``, enqueues one delivery job per handler with a
deterministic job id and leases the event (``relay_once``); it marks an event dispatched
only once every handler has delivered it. The relay wakes on the pub/sub kick the app
sends after each commit with events, and polls as a fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from arq import Retry, cron
from arq.connections import ArqRedis, RedisSettings
from arq.cron import CronJob

from grassroots.config import Settings
from grassroots.kernel import events
from grassroots.kernel.jobs import Periodic
from grassroots.kernel.platform import EVENTS_CHANNEL, Platform

log = logging.getLogger("grassroots.worker")

# Each event's own attempt budget decides when a delivery is given up (the sandbox's
# webhooks ask for about three days); this is only arq's ceiling above all of them.
MAX_TRIES = 1000
QUEUE = "grassroots:queue"
DELIVERY_TIMEOUT = 240  # seconds one delivery may take (webhook calls time out far sooner)
JOB_TIMEOUT = DELIVERY_TIMEOUT + 60  # arq's, for any job: ours strikes first
# On SIGTERM, stop taking jobs and let those running finish this long (a webhook call
# times out well within it) rather than cancel them to be run again.
SHUTDOWN_WAIT = 30


# A queued event is looked at again this long after: marked dispatched once every handler
# has delivered, else its missing jobs are queued again. The queue is not the record (a
# Redis restart, or a job arq let expire, would otherwise lose a payment's webhook).
RELAY_LEASE = timedelta(minutes=10)


async def relay_once(platform: Platform, redis: ArqRedis) -> int:
    """Move due outbox events onto the queue; returns how many events it looked at.

    An event stays undispatched, leased for ``RELAY_LEASE``, until each of its handlers has
    a delivery row: then the next pass marks it dispatched. Until then every pass queues the
    handlers without one; arq's job ids make that a no-op for a job still queued, running or
    waiting to retry, and a new job for one that was lost."""
    async with platform.unit_of_work() as uow:
        batch = await events.claim_pending(uow)
        delivered = await events.delivered_handlers(uow, [e.id for e in batch])
        for event in batch:
            missing = [
                key
                for key in platform.events.handlers_for(event.name, event.payload)
                if key not in delivered.get(event.id, set())
            ]
            if not missing:
                event.dispatched_at = uow.now()
                continue
            # Kept in Redis for the whole attempt budget (arq drops a job a day after it was
            # due by default), and told whether the app already tried (a failed eager
            # delivery, the only try before the queue; the row's count may include other
            # handlers' failures, which must not eat into this one's budget).
            keep = events.delivery_span(platform.events.max_attempts(event.name))
            for key in missing:
                await redis.enqueue_job(
                    "deliver_event",
                    str(event.id),
                    key,
                    min(event.attempts, 1),
                    _job_id=f"evt:{event.id}:{key}",
                    _queue_name=QUEUE,
                    _expires=keep,
                )
            event.next_attempt_at = uow.now() + RELAY_LEASE
        return len(batch)


async def relay_loop(platform: Platform, redis: ArqRedis) -> None:
    poll = platform.settings.outbox_poll_seconds
    wake = asyncio.Event()

    async def listen() -> None:
        # Kicks arrive on pub/sub; a lost connection only means polling until it is back.
        while True:
            try:
                async with platform.state.pubsub.subscribe(EVENTS_CHANNEL) as sub:
                    async for _ in sub:
                        wake.set()
            except Exception:
                log.warning("outbox kick subscription lost; retrying", exc_info=True)
                await asyncio.sleep(poll)

    listener = asyncio.create_task(listen(), name="outbox-kicks")
    try:
        while True:
            wake.clear()
            try:
                while await relay_once(platform, redis) == events.BATCH:
                    pass
            except Exception:
                log.exception("outbox relay failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=poll)
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener


async def deliver_event(ctx: dict[str, Any], event_id: str, handler: str, earlier: int = 0) -> bool:
    """Deliver one event to one handler; ``earlier``: failed attempts made before it was
    queued (the app's eager try), so the handler's budget and backoff count them."""
    platform: Platform = ctx["platform"]
    try:
        # Our own deadline, inside arq's: a handler that hangs fails like any other (counted,
        # retried, given up at its budget) instead of being cancelled uncounted by arq.
        async with asyncio.timeout(DELIVERY_TIMEOUT):
            return await events.deliver(platform, uuid.UUID(event_id), handler)
    except Exception as exc:
        tries = earlier + int(ctx.get("job_try", 1))
        try:
            limit = await events.record_queued_failure(platform, uuid.UUID(event_id), f"{handler}: {exc!r}", tries)
        except Exception:  # the database is away too: retry later rather than end the job
            log.warning("could not record a failed delivery of %s to %s", event_id, handler, exc_info=True)
            raise Retry(defer=events.backoff(tries).total_seconds()) from exc
        if tries >= limit:
            raise
        raise Retry(defer=events.backoff(tries).total_seconds()) from exc


def _cron_for(job: Periodic) -> CronJob:
    async def run(ctx: dict[str, Any]) -> None:
        await job.fn(ctx["platform"])

    run.__qualname__ = run.__name__ = "periodic_" + job.name.replace(".", "_")
    s = job.every_seconds
    if s < 60:
        return cron(run, name=job.name, second=set(range(0, 60, s)), unique=True)
    minutes = s // 60
    return cron(run, name=job.name, minute=set(range(0, 60, minutes)), second={0}, unique=True)


def worker_settings(settings: Settings, platform: Platform | None = None) -> dict[str, Any]:
    """Keyword arguments for ``arq.Worker``. A given ``platform`` stays open after the worker stops."""
    if not settings.redis_url:
        raise RuntimeError("grassroots worker needs GRASSROOTS_REDIS_URL (embedded mode runs jobs in the app)")
    from grassroots.domains import load_tasks

    load_tasks()
    owns_platform = platform is None
    platform = platform or Platform(settings)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["platform"] = platform
        ctx["relay"] = asyncio.create_task(relay_loop(platform, ctx["redis"]), name="outbox-relay")

    async def shutdown(ctx: dict[str, Any]) -> None:
        relay: asyncio.Task[None] | None = ctx.get("relay")
        if relay is not None:
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay
        if owns_platform:
            await platform.close()

    functions: list[Callable[..., Awaitable[Any]]] = [deliver_event]
    return {
        "functions": functions,
        "cron_jobs": [_cron_for(j) for j in platform.jobs.all()],
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": QUEUE,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "max_tries": MAX_TRIES,
        "job_timeout": JOB_TIMEOUT,
        "job_completion_wait": SHUTDOWN_WAIT,
        "max_jobs": 50,  # deliveries mostly wait on I/O (webhook calls, the database)
        "handle_signals": True,
    }
