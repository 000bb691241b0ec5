"""Domain events through a transactional outbox.

``uow.emit(name, payload)`` records an ``outbox_events`` row in the caller's
transaction (written with the unit of work's other events just before it commits), so an
event exists if and only if the change that caused it committed.
After commit a dispatcher delivers each event to every handler registered for its
name, each delivery in its own transaction together with an ``event_deliveries`` row:
a handler's effects commit once, however many times delivery is attempted. Failed
deliveries are retried with exponential backoff and given up after ``MAX_ATTEMPTS``.

A handler may say ``when`` it has work to do (a predicate on the payload): an event no
handler wants is never written, and a handler is never run for a payload it does not
want. An *eager* external handler (a webhook call) is run by the process that committed
the event, right after the commit, instead of waiting for a dispatcher; the event is
leased for ``EAGER_LEASE`` meanwhile, and the dispatcher takes it over only if that
process fails or dies before it is done (ADR 0014).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Update, bindparam, delete, select, update

from grassroots.kernel.db import in_param, insert_if_absent
from grassroots.kernel.models import EventDelivery, OutboxEvent

if TYPE_CHECKING:
    from grassroots.kernel.platform import Platform
    from grassroots.kernel.uow import UnitOfWork

log = logging.getLogger("grassroots.events")

MAX_ATTEMPTS = 10
BATCH = 100
CONCURRENCY = 16  # events delivered at once by the in-process dispatcher
EAGER_LEASE = timedelta(seconds=60)  # how long an eager delivery holds its event


@dataclass(frozen=True, slots=True)
class Event:
    id: uuid.UUID
    name: str
    payload: dict[str, Any]
    created_at: datetime


Handler = Callable[["UnitOfWork", Event], Awaitable[None]]
ExternalHandler = Callable[["Platform", Event], Awaitable[None]]
Wants = Callable[[dict[str, Any]], bool]


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    fn: Handler | ExternalHandler
    transactional: bool
    when: Wants | None = None
    eager: bool = False

    def wants(self, payload: dict[str, Any]) -> bool:
        if self.when is None:
            return True
        try:
            return bool(self.when(payload))
        except Exception:  # a broken predicate must not stop dispatch: let the handler decide
            log.exception("event predicate of %s failed; delivering anyway", self.fn)
            return True


class EventRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, dict[str, HandlerSpec]] = {}
        self._max_attempts: dict[str, int] = {}

    def _register(self, name: str, key: str | None, fn: Any, spec: HandlerSpec) -> None:
        handler_key = key or f"{fn.__module__}.{fn.__qualname__}"
        self._handlers.setdefault(name, {})[handler_key] = spec

    def on(self, name: str, *, key: str | None = None, when: Wants | None = None) -> Callable[[Handler], Handler]:
        """Register ``fn(uow, event)`` for events called ``name``; it runs in its own
        transaction and its effects commit once. ``key`` names the handler in the delivery
        log; keep it stable across releases (default: module and function). ``when(payload)``
        false means the handler has nothing to do for that event: it is not run."""

        def register(fn: Handler) -> Handler:
            self._register(name, key, fn, HandlerSpec(fn, True, when))
            return fn

        return register

    def on_external(
        self,
        name: str,
        *,
        key: str | None = None,
        when: Wants | None = None,
        eager: bool = False,
        max_attempts: int | None = None,
    ) -> Callable[[ExternalHandler], ExternalHandler]:
        """Register ``fn(platform, event)`` for effects outside our database (an HTTP call).
        It runs with no transaction open, at least once; the receiver must deduplicate.
        ``eager``: the committing process runs it at once (see the module docstring).
        ``max_attempts``: how often the event is tried before it is given up (default
        ``MAX_ATTEMPTS``); the largest any handler of the event asks for wins."""

        def register(fn: ExternalHandler) -> ExternalHandler:
            self._register(name, key, fn, HandlerSpec(fn, False, when, eager))
            if max_attempts is not None:
                self._max_attempts[name] = max(max_attempts, self._max_attempts.get(name, 0))
            return fn

        return register

    def max_attempts(self, name: str) -> int:
        return self._max_attempts.get(name, MAX_ATTEMPTS)

    def remove(self, name: str, key: str) -> None:
        self._handlers.get(name, {}).pop(key, None)

    def handlers_for(self, name: str, payload: dict[str, Any] | None = None) -> dict[str, HandlerSpec]:
        """The handlers of ``name``; given a payload, only those that want it."""
        found = self._handlers.get(name, {})
        if payload is None:
            return dict(found)
        return {k: h for k, h in found.items() if h.wants(payload)}

    def handler(self, name: str, key: str) -> HandlerSpec | None:
        return self._handlers.get(name, {}).get(key)


registry = EventRegistry()
on = registry.on
on_external = registry.on_external


def backoff(attempts: int) -> timedelta:
    """1 s, 4 s, 16 s … capped at an hour: ten attempts span about three hours, and each
    attempt after the seventh adds an hour."""
    return timedelta(seconds=min(3600, 4 ** max(0, attempts - 1)))


async def claim_pending(uow: UnitOfWork, limit: int = BATCH) -> list[OutboxEvent]:
    """Events due for dispatch, locked against other dispatchers on PostgreSQL."""
    now = uow.now()
    stmt = (
        select(OutboxEvent)
        .where(OutboxEvent.dispatched_at.is_(None), OutboxEvent.failed_at.is_(None))
        .where((OutboxEvent.next_attempt_at.is_(None)) | (OutboxEvent.next_attempt_at <= now))
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    if uow.session.bind is not None and uow.session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list((await uow.session.scalars(stmt)).all())


async def delivered_handlers(uow: UnitOfWork, event_ids: list[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    """The handlers that have delivered each of these events."""
    if not event_ids:
        return {}
    rows = await uow.session.execute(
        select(EventDelivery.event_id, EventDelivery.handler).where(EventDelivery.event_id.in_(event_ids))
    )
    found: dict[uuid.UUID, set[str]] = {}
    for event_id, handler in rows:
        found.setdefault(event_id, set()).add(handler)
    return found


async def deliver(platform: Platform, event_id: uuid.UUID, handler_key: str) -> bool:
    """Run one handler for one event. False when it had already run."""
    async with platform.unit_of_work(write=False) as uow:
        row = await uow.session.get(OutboxEvent, event_id)
        if row is None:
            return False
        event = Event(row.id, row.name, dict(row.payload), row.created_at)
        done = await uow.session.get(EventDelivery, (event_id, handler_key))
    spec = platform.events.handler(event.name, handler_key)
    if spec is None:
        log.warning("no handler %s for event %s", handler_key, event.name)
        return False
    if done is not None:
        return False
    if not spec.transactional:
        # Outside effect: no transaction (and no SQLite writer lock) is held while it runs.
        await spec.fn(platform, event)  # type: ignore[arg-type]
        async with platform.unit_of_work() as uow:
            await _record_delivery(uow, event_id, handler_key)
        return True
    async with platform.unit_of_work() as uow:
        if not await _record_delivery(uow, event_id, handler_key):
            return False
        await spec.fn(uow, event)  # type: ignore[arg-type]
    return True


async def _record_delivery(uow: UnitOfWork, event_id: uuid.UUID, handler_key: str) -> bool:
    return await insert_if_absent(
        uow.session, EventDelivery, event_id=event_id, handler=handler_key, delivered_at=uow.now()
    )


async def record_failure(platform: Platform, event_id: uuid.UUID, error: str) -> None:
    async with platform.unit_of_work() as uow:
        row = await uow.session.get(OutboxEvent, event_id)
        if row is None or row.dispatched_at is not None:  # another delivery got there first
            return
        if not _count_failure(uow, row, error, row.attempts + 1, platform.events.max_attempts(row.name)):
            row.next_attempt_at = uow.now() + backoff(row.attempts)


def _count_failure(uow: UnitOfWork, row: OutboxEvent, error: str, tries: int, limit: int) -> bool:
    """Count a failed attempt on the event's row and keep its error; at ``limit`` tries, mark
    the event failed (True: given up)."""
    row.attempts += 1
    row.last_error = error[:2000]
    if tries < limit:
        return False
    row.failed_at = uow.now()
    log.error("event %s (%s) failed %d times; giving up: %s", row.id, row.name, tries, error)
    return True


def delivery_span(attempts: int) -> timedelta:
    """How long ``attempts`` tries with ``backoff`` between them take, with a day to spare:
    how long a queued delivery must be kept."""
    return timedelta(days=1) + sum((backoff(n) for n in range(1, attempts + 1)), timedelta())


async def record_queued_failure(platform: Platform, event_id: uuid.UUID, error: str, tries: int) -> int:
    """A failed delivery of an event handed to the job queue by ``grassroots worker``'s relay
    (which leases events while their jobs run). ``tries``: how often this handler has now
    tried. The row counts every failed attempt and keeps the last error, and is marked failed
    once a handler has spent the event's attempt budget (each has the whole budget).
    Returns the budget."""
    async with platform.unit_of_work() as uow:
        row = await uow.session.get(OutboxEvent, event_id, with_for_update=True)
        if row is None:
            return 0  # nothing left to deliver
        limit = platform.events.max_attempts(row.name)
        _count_failure(uow, row, error, tries, limit)
        return limit


async def mark_dispatched(platform: Platform, event_ids: list[uuid.UUID]) -> None:
    if not event_ids:
        return
    async with platform.unit_of_work() as uow:
        await uow.session.execute(_dispatched(platform.db.dialect), {"ids": event_ids, "at": uow.now()})


@functools.cache
def _dispatched(dialect: str) -> Update:
    return (
        update(OutboxEvent)
        .where(in_param(OutboxEvent.id, "ids", dialect))
        .values(dispatched_at=bindparam("at"))
        .execution_options(synchronize_session=False)
    )


async def due_events(uow: UnitOfWork, limit: int = BATCH) -> list[tuple[uuid.UUID, str, dict[str, Any]]]:
    """(id, name, payload) of events due for dispatch, oldest first, without locking anything."""
    now = uow.now()
    stmt = (
        select(OutboxEvent.id, OutboxEvent.name, OutboxEvent.payload)
        .where(OutboxEvent.dispatched_at.is_(None), OutboxEvent.failed_at.is_(None))
        .where((OutboxEvent.next_attempt_at.is_(None)) | (OutboxEvent.next_attempt_at <= now))
        .order_by(OutboxEvent.id)
        .limit(limit)
    )
    return [(row.id, row.name, dict(row.payload)) for row in await uow.session.execute(stmt)]


async def dispatch_pending(platform: Platform) -> int:
    """Deliver every due event in-process (embedded mode). Returns events completed.

    Looking for work is a read (it takes no SQLite writer lock when there is none);
    events nobody listens to are marked done in one statement."""
    done = 0
    gate = asyncio.Semaphore(CONCURRENCY)
    while True:
        async with platform.unit_of_work(write=False) as uow:
            due = await due_events(uow)
        if not due:
            return done
        wanted = {event_id: platform.events.handlers_for(name, payload) for event_id, name, payload in due}
        completed = [event_id for event_id, handlers in wanted.items() if not handlers]

        async def run(event_id: uuid.UUID, name: str, keys: list[str]) -> uuid.UUID | None:
            async with gate:
                for key in keys:
                    try:
                        await deliver(platform, event_id, key)  # a no-op for handlers that already ran
                    except Exception as exc:
                        log.exception("handler %s failed for event %s (%s)", key, event_id, name)
                        await record_failure(platform, event_id, f"{key}: {exc!r}")
                        return None
            return event_id

        # Events are independent: deliver several at once (webhook calls overlap; on SQLite
        # the transactional handlers still queue on the writer lock).
        results = await asyncio.gather(*(run(e, n, list(wanted[e])) for e, n, _ in due if wanted[e]))
        completed += [e for e in results if e is not None]
        await mark_dispatched(platform, completed)
        done += len(completed)
        if len(due) < BATCH:
            return done


# Eager deliveries finished within this long are marked done in one statement. Nothing
# waits on the mark (the lease keeps the dispatcher off the event meanwhile), so a longer
# delay only makes the batches bigger.
FLUSH_DELAY = 0.25


class EagerDeliveries:
    """Runs eager external handlers in the process that committed their event, right after
    the commit, and marks the events dispatched in batches. A failure is recorded like any
    other, so the dispatcher retries it with backoff; a crash leaves the event leased until
    ``EAGER_LEASE`` runs out, then the dispatcher delivers it (at least once, as always)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._tasks: set[asyncio.Task[None]] = set()
        self._done: list[uuid.UUID] = []
        self._flusher: asyncio.Task[None] | None = None
        self._wake: asyncio.Future[None] | None = None

    def start(self, event: Event, keys: list[str]) -> None:
        task = asyncio.create_task(self._run(event, keys), name=f"eager:{event.name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, event: Event, keys: list[str]) -> None:
        for key in keys:
            spec = self.platform.events.handler(event.name, key)
            if spec is None:
                continue
            try:
                await spec.fn(self.platform, event)  # type: ignore[arg-type]
            except Exception as exc:
                log.warning("eager handler %s failed for event %s (%s); retrying later", key, event.id, event.name)
                with contextlib.suppress(Exception):
                    await record_failure(self.platform, event.id, f"{key}: {exc!r}")
                return
        self._done.append(event.id)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush_soon(), name="eager-acks")

    async def _flush_soon(self) -> None:
        # Until nothing is left: acks that arrive while a batch is being written join the next.
        while self._done:
            wake = self._wake = asyncio.get_running_loop().create_future()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake, FLUSH_DELAY)
            await self.flush()

    async def flush(self) -> None:
        ids, self._done = self._done, []
        if not ids:
            return
        try:
            await mark_dispatched(self.platform, ids)
        except asyncio.CancelledError:
            self._done[:0] = ids  # whoever flushes next marks them
            raise
        except Exception:
            # Not marked: the dispatcher delivers them again after the lease; receivers deduplicate.
            log.warning("could not mark %d eagerly delivered events", len(ids), exc_info=True)

    async def settle(self) -> None:
        """Wait for the deliveries in flight and record them. For explicit drains (tests, CLI
        commands) and shutdown, never for the background dispatcher: under steady traffic
        there is always another delivery in flight."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._flusher is not None and not self._flusher.done():
            if self._wake is not None and not self._wake.done():
                self._wake.set_result(None)  # no need to wait out the delay
            await self._flusher
        await self.flush()


async def purge_dispatched(platform: Platform, older_than: timedelta = timedelta(days=7)) -> int:
    """Drop delivered events past the retention period; the outbox is not an archive."""
    async with platform.unit_of_work() as uow:
        cutoff = uow.now() - older_than
        result = await uow.session.execute(
            delete(OutboxEvent).where(OutboxEvent.dispatched_at.is_not(None), OutboxEvent.dispatched_at < cutoff)
        )
        return int(getattr(result, "rowcount", 0) or 0)
