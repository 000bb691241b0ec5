"""Background work: the event dispatcher and periodic jobs.

Embedded mode runs both inside the app process (``InProcessWorker``). Production runs
them in ``grassroots worker`` processes on arq (see ``kernel/worker.py`` and ADR 0003);
the same job functions run in both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from grassroots.kernel import events

if TYPE_CHECKING:
    from grassroots.kernel.platform import Platform

log = logging.getLogger("grassroots.jobs")

JobFn = Callable[["Platform"], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Periodic:
    name: str
    every_seconds: int
    fn: JobFn


class JobRegistry:
    def __init__(self) -> None:
        self._jobs: dict[str, Periodic] = {}

    def periodic(self, every_seconds: int, *, name: str | None = None) -> Callable[[JobFn], JobFn]:
        """Run ``fn(platform)`` every ``every_seconds`` (it opens its own units of work).
        The interval must divide a minute or an hour evenly, so cron can express it."""
        if not (
            every_seconds in _MINUTE_DIVISORS or (every_seconds % 60 == 0 and (every_seconds // 60) in _MINUTE_DIVISORS)
        ):
            raise ValueError(f"every_seconds={every_seconds} must divide 60 or be whole minutes dividing 60")

        def register(fn: JobFn) -> JobFn:
            job_name = name or f"{fn.__module__}.{fn.__qualname__}"
            self._jobs[job_name] = Periodic(job_name, every_seconds, fn)
            return fn

        return register

    def all(self) -> list[Periodic]:
        return list(self._jobs.values())

    def get(self, name: str) -> Periodic | None:
        return self._jobs.get(name)


_MINUTE_DIVISORS = {1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60}

registry = JobRegistry()
periodic = registry.periodic


@periodic(3600, name="kernel.purge_outbox")
async def purge_outbox(platform: Platform) -> int:
    return await events.purge_dispatched(platform)


class InProcessWorker:
    """Runs the outbox dispatcher and the periodic jobs as tasks on the app's loop."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._draining = asyncio.Lock()  # one dispatch pass at a time in this process

    def kick(self) -> None:
        self._wake.set()

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._dispatch_loop(), name="grassroots-dispatcher"))
        for job in self.platform.jobs.all():
            self._tasks.append(asyncio.create_task(self._periodic_loop(job), name=f"job:{job.name}"))

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        self._tasks.clear()

    async def drain(self) -> int:
        """Deliver everything due now (tests and CLI commands call this directly): first let
        this process's eager deliveries finish, then dispatch what is due."""
        if self.platform.eager is not None:
            await self.platform.eager.settle()
        return await self._dispatch()

    async def _dispatch(self) -> int:
        async with self._draining:
            return await events.dispatch_pending(self.platform)

    async def _dispatch_loop(self) -> None:
        poll = self.platform.settings.outbox_poll_seconds
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=poll)
            self._wake.clear()
            try:
                await self._dispatch()
            except Exception:
                log.exception("event dispatch failed")
                await asyncio.sleep(poll)

    async def _periodic_loop(self, job: Periodic) -> None:
        while True:
            await asyncio.sleep(job.every_seconds)
            try:
                await job.fn(self.platform)
            except Exception:
                log.exception("periodic job %s failed", job.name)
