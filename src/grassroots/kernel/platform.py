"""The platform container: settings, storage, shared state, clock, events and jobs.

One ``Platform`` per process. The web app, the worker, the CLI and the tests all
build one and open units of work from it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import aiohttp
import httpx

from grassroots.config import Settings
from grassroots.kernel.clock import Clock, OffsetClock, SystemClock
from grassroots.kernel.db import Database, database_conflicts
from grassroots.kernel.events import EagerDeliveries, EventRegistry
from grassroots.kernel.events import registry as default_events
from grassroots.kernel.jobs import InProcessWorker, JobRegistry
from grassroots.kernel.jobs import registry as default_jobs
from grassroots.kernel.state import SharedState, create_state
from grassroots.kernel.uow import UnitOfWork

if TYPE_CHECKING:
    from grassroots.kernel.auth import Authenticator

EVENTS_CHANNEL = "outbox"
WEBHOOK_TIMEOUT = 10  # seconds a webhook call may take, well inside the eager lease


class Platform:
    def __init__(
        self,
        settings: Settings,
        *,
        db: Database | None = None,
        state: SharedState | None = None,
        clock: Clock | None = None,
        events: EventRegistry | None = None,
        jobs: JobRegistry | None = None,
        db_connect_args: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.db = db or Database(
            settings.effective_database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            echo=settings.db_echo,
            connect_args=db_connect_args,
        )
        self.state: SharedState = state or create_state(settings.redis_url)
        if clock is not None:
            self.clock: Clock = clock
        elif settings.is_production:
            self.clock = SystemClock()
        else:
            self.clock = OffsetClock(self.state.kv)
        self.events = events or default_events
        self.jobs = jobs or default_jobs
        self.secret_key = settings.resolved_secret_key()
        self.authenticator: Authenticator | None = None
        self.worker: InProcessWorker | None = None
        self.started = False
        # Set by the web app: requests to the platform itself (webhooks from the sandbox
        # provider) go through the app in-process when no public URL is configured.
        self.self_transport: httpx.AsyncBaseTransport | None = None
        self._webhook_client: httpx.AsyncClient | None = None
        self._webhook_via: httpx.AsyncBaseTransport | None = None
        self._webhook_session: aiohttp.ClientSession | None = None
        # Set where webhooks can be reached (the web app): eager handlers run here, see events.
        self.eager: EagerDeliveries | None = None

    def webhook_target(self) -> tuple[str, httpx.AsyncBaseTransport | None]:
        """Base URL (and transport) at which providers reach this platform's webhooks."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/"), None
        if self.self_transport is not None:
            return "http://grassroots.internal", self.self_transport
        raise RuntimeError("Set GRASSROOTS_PUBLIC_URL so webhooks can reach the platform from this process")

    async def post_webhook(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
        """POST to one of this platform's webhooks; returns the status and the start of the
        answer. Over the network to the public URL with a pooled aiohttp session (a fraction
        of httpx's CPU per call, which matters at checkout rates), else through the app in
        this process."""
        base, transport = self.webhook_target()
        if transport is None:
            if self._webhook_session is None:
                self._webhook_session = aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT), connector=aiohttp.TCPConnector(limit=64)
                )
            # the full URL: a public URL may carry a path prefix (https://example.com/shop)
            async with self._webhook_session.post(base + path, data=body, headers=headers) as response:
                return response.status, (await response.text())[:200]
        client = self._webhook_client
        if client is None or self._webhook_via is not transport:  # the app was rebuilt (tests)
            if client is not None:
                await client.aclose()
            client = self._webhook_client = httpx.AsyncClient(transport=transport, base_url=base)
            self._webhook_via = transport
        async with asyncio.timeout(WEBHOOK_TIMEOUT):  # httpx's own timeouts do not apply in-process
            answer = await client.post(path, content=body, headers=headers)
        return answer.status_code, answer.text[:200]

    @property
    def test_clock(self) -> OffsetClock | None:
        return self.clock if isinstance(self.clock, OffsetClock) else None

    @asynccontextmanager
    async def unit_of_work(self, *, write: bool = True) -> AsyncIterator[UnitOfWork]:
        """The transaction boundary: commits once on success, rolls back on error.

        ``write=False`` marks a read-mostly unit (SQLite then skips the writer lock);
        it still commits, so a stray write is never silently dropped.
        """
        await self.clock.refresh()
        async with self.db.session(write=write) as session:
            uow = UnitOfWork(self, session)
            try:
                yield uow
                await uow.write_outbox()
                with database_conflicts():  # a rule PostgreSQL checks at commit (stock) is a 409
                    await session.commit()
            except BaseException:
                await session.rollback()
                await uow._run_on_rollback()
                raise
        if uow.emitted:
            await self.kick_events()
        await uow._run_after_commit()

    async def kick_events(self) -> None:
        """Wake the dispatcher: the local one, or the worker processes over pub/sub."""
        if self.worker is not None:
            self.worker.kick()
        elif self.state.kind != "memory":
            await self.state.pubsub.publish(EVENTS_CHANNEL, "kick")

    async def start(self, *, in_process_worker: bool | None = None) -> None:
        run_worker = self.settings.in_process_worker if in_process_worker is None else in_process_worker
        if run_worker and self.worker is None:
            self.worker = InProcessWorker(self)
            await self.worker.start()
        self.started = True

    async def close(self) -> None:
        # The dispatcher first (it may be calling webhooks), then eager deliveries, then clients.
        if self.worker is not None:
            await self.worker.stop()
            self.worker = None
        if self.eager is not None:
            await self.eager.settle()
        if self._webhook_client is not None:
            await self._webhook_client.aclose()
            self._webhook_client = None
        if self._webhook_session is not None:
            await self._webhook_session.close()
            self._webhook_session = None
        await self.state.close()
        await self.db.dispose()
        self.started = False
