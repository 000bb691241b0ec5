"""The unit of work handed to services: one database transaction plus the clock,
the shared state and the outbox.

Services never commit. The boundary that opened the unit (a request, a task, a CLI
command) commits once at the end, then runs after-commit hooks (waking the event
dispatcher). Any exception rolls everything back, outbox events included.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from grassroots.config import Settings
from grassroots.kernel.clock import Clock
from grassroots.kernel.db import insert_new
from grassroots.kernel.events import EAGER_LEASE, Event
from grassroots.kernel.ids import new_id
from grassroots.kernel.models import OutboxEvent
from grassroots.kernel.state import SharedState

if TYPE_CHECKING:
    from grassroots.kernel.platform import Platform


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"event payload value of type {type(value).__name__} is not JSON-safe")


def _outbox_event(
    event_id: uuid.UUID, name: str, payload: dict[str, Any], now: datetime, leased_until: datetime | None
) -> OutboxEvent:
    # Every event sets the same columns, so a unit's events go in one statement.
    return OutboxEvent(
        id=event_id, name=name, payload=payload, created_at=now, attempts=0, next_attempt_at=leased_until
    )


class UnitOfWork:
    def __init__(self, platform: Platform, session: AsyncSession) -> None:
        self.platform = platform
        self.session = session
        self.settings: Settings = platform.settings
        self.clock: Clock = platform.clock
        self.state: SharedState = platform.state
        self.emitted: list[str] = []
        self._after_commit: list[Callable[[], Awaitable[None]]] = []
        self._on_rollback: list[Callable[[], Awaitable[None]]] = []
        self._outbox: list[OutboxEvent] = []  # events to write at commit

    def now(self) -> datetime:
        return self.clock.now()

    def emit(self, name: str, payload: dict[str, Any]) -> uuid.UUID | None:
        """Record a domain event in this transaction; its handlers run after commit.

        An event no handler listens to is not written: the outbox delivers work, it is not
        an archive (the app and the workers load the same handlers, see ``domains.py``)."""
        body = _jsonable(payload)  # checked even when unused, so a bad payload fails early
        handlers = self.platform.events.handlers_for(name, body)
        if not handlers:
            return None
        event_id, now = new_id(), self.now()
        eager = self.platform.eager
        if eager is not None and all(h.eager for h in handlers.values()):
            # Delivered by this process after the commit; leased from the dispatcher meanwhile.
            event = Event(event_id, name, body, now)
            self._outbox.append(_outbox_event(event_id, name, body, now, now + EAGER_LEASE))

            async def deliver() -> None:
                eager.start(event, list(handlers))

            self.after_commit(deliver)
            return event_id
        self._outbox.append(_outbox_event(event_id, name, body, now, None))
        self.emitted.append(name)
        return event_id

    async def write_outbox(self) -> None:
        """Insert the events emitted so far (the boundary calls this just before it commits):
        one statement for them all, where the ORM would flush one object each."""
        rows, self._outbox = self._outbox, []
        await insert_new(self.session, *rows)

    @asynccontextmanager
    async def attempt(self) -> AsyncIterator[None]:
        """A savepoint: if the block raises, everything it wrote is undone and the error
        propagates; the rest of the unit of work stands. For callers that catch a service's
        error and carry on (a page that re-renders its form): without it, writes the service
        made before failing would be committed with the page's response."""
        nested = await self.session.begin_nested()
        hooks, followups = len(self._on_rollback), len(self._after_commit)
        events, emitted = len(self._outbox), len(self.emitted)
        try:
            yield
            if nested.is_active:
                await nested.commit()  # releasing the savepoint can fail too: then undo as below
        except BaseException:
            if nested.is_active:
                await nested.rollback()
            # what the block meant to do after the commit is void (an event it emitted is gone)
            del self._after_commit[followups:]
            del self._outbox[events:], self.emitted[emitted:]
            # what the block registered to undo outside the database (files) is undone too
            undo, self._on_rollback[hooks:] = self._on_rollback[hooks:], []
            for hook in undo:
                await hook()
            raise

    def after_commit(self, hook: Callable[[], Awaitable[None]]) -> None:
        self._after_commit.append(hook)

    def on_rollback(self, hook: Callable[[], Awaitable[None]]) -> None:
        """Undo an outside effect (a file written) if the transaction does not commit."""
        self._on_rollback.append(hook)

    async def _run_on_rollback(self) -> None:
        for hook in self._on_rollback:
            await hook()

    async def _run_after_commit(self) -> None:
        for hook in self._after_commit:
            await hook()
