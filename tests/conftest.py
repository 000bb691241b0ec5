"""Shared fixtures.

Storage-dependent tests run on two stacks: ``embedded`` (SQLite file + in-process
state) and ``production`` (PostgreSQL in a fresh schema of database ``test`` + Redis
db 15). Without PostgreSQL or Redis those tests are skipped with the reason, unless
``CI`` is set: then a missing service fails the run.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from grassroots.app import create_app
from grassroots.config import Env, Settings
from grassroots.flow import service as flow
from grassroots.kernel.auth import Role
from grassroots.kernel.clock import OffsetClock
from grassroots.kernel.db import Database
from grassroots.kernel.migrations import upgrade
from grassroots.kernel.platform import Platform
from grassroots.kernel.state import MemoryState, SharedState
from grassroots.models import metadata

PG_HOST = os.environ.get("GRASSROOTS_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("GRASSROOTS_TEST_PG_PORT", "5432"))
PG_DB = os.environ.get("GRASSROOTS_TEST_PG_DB", "test")
PG_USER = os.environ.get("GRASSROOTS_TEST_PG_USER", "postgres")
REDIS_URL = os.environ.get("GRASSROOTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = bool(os.environ.get("CI"))
PASSWORD = "correct-horse-battery"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Fast tests first; real processes, the browser and the fuzzer last."""
    slow = ("tests/e2e/", "tests/api/", "tests/test_cli.py")
    items.sort(key=lambda item: any(s in item.nodeid for s in slow))


def need(service: str, available: bool) -> None:
    if available:
        return
    message = f"{service} is not reachable"
    if IN_CI:
        pytest.fail(f"{message}, and CI requires it (start it; see .ci/run)")
    pytest.skip(f"{message}; start it to run this test (CI requires it)")


@dataclass
class PgTarget:
    url: str
    schema: str
    connect_args: dict[str, Any]


@pytest.fixture(scope="session")
def pg() -> PgTarget:
    """Where the PostgreSQL tests live: a schema of their own, created by ``pg_schema``."""
    need(f"PostgreSQL at {PG_HOST}:{PG_PORT}", _port_open(PG_HOST, PG_PORT))
    schema = f"gr_test_{os.getpid()}_{secrets.token_hex(3)}"
    url = f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DB}"
    return PgTarget(url, schema, {"server_settings": {"search_path": f"{schema},public"}})


async def pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database=PG_DB)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def redis_url() -> str:
    from urllib.parse import urlparse

    u = urlparse(REDIS_URL)
    need(f"Redis at {u.hostname}:{u.port}", _port_open(u.hostname or "127.0.0.1", u.port or 6379))
    return REDIS_URL


def make_settings(tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": Env.test,
        "data_dir": tmp,
        "secret_key": "test-secret-" + "x" * 40,
        "login_ip_limit": 100_000,
        "signup_ip_limit": 100_000,
        "log_requests": False,
        "outbox_poll_seconds": 0.2,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class Stack:
    name: str
    settings: Settings
    platform: Platform


async def _clean(platform: Platform) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    for attempt in range(10):
        try:
            async with platform.db.engine.begin() as conn:
                if platform.db.dialect == "postgresql":
                    await conn.execute(text("TRUNCATE " + ", ".join(tables) + " CASCADE"))
                else:
                    for t in tables:
                        await conn.execute(text(f"DELETE FROM {t}"))
                    await conn.execute(text("DELETE FROM search_fts"))
            return
        except DBAPIError:
            # the previous test's events may still be in delivery and hold row locks
            if attempt == 9:
                raise
            await asyncio.sleep(0.2)


async def _fresh_state(platform: Platform) -> None:
    if isinstance(platform.state, MemoryState):
        platform.state = MemoryState()
    else:
        await platform.state.redis.flushdb()  # type: ignore[attr-defined]
    platform.clock = OffsetClock(platform.state.kv)
    flow.forget_caches()


@pytest.fixture(scope="session", params=["embedded", "production"])
async def stack_session(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Stack]:
    tmp = tmp_path_factory.mktemp(request.param)
    if request.param == "embedded":
        settings = make_settings(tmp)
        platform = Platform(settings)
    else:
        target: PgTarget = request.getfixturevalue("pg")
        url = request.getfixturevalue("redis_url")
        await pg_admin(f"CREATE SCHEMA {target.schema}")
        settings = make_settings(tmp, database_url=target.url, redis_url=url, run_in_process_worker=True)
        platform = Platform(settings, db=Database(target.url, connect_args=target.connect_args))
    await upgrade(platform.db)
    await platform.start(in_process_worker=True)
    yield Stack(request.param, settings, platform)
    await platform.close()
    if request.param == "production":
        await pg_admin(f"DROP SCHEMA {target.schema} CASCADE")


@pytest.fixture
async def stack(stack_session: Stack) -> Stack:
    # Only an app makes its platform deliver eager events (``client`` builds one per test).
    if stack_session.platform.eager is not None:
        await stack_session.platform.eager.settle()
        stack_session.platform.eager = None
    await _clean(stack_session.platform)
    await _fresh_state(stack_session.platform)
    return stack_session


@pytest.fixture
async def platform(stack: Stack) -> Platform:
    return stack.platform


@pytest.fixture
async def client(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(stack.settings, platform=stack.platform)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture(params=["memory", "redis"])
async def shared_state(request: pytest.FixtureRequest) -> AsyncIterator[SharedState]:
    if request.param == "memory":
        yield MemoryState()
        return
    from grassroots.kernel.state_redis import RedisState

    state = RedisState(request.getfixturevalue("redis_url"), prefix=f"t{secrets.token_hex(4)}:")
    yield state
    await state.close()


_counter = iter(range(10**9))


async def signup(client: httpx.AsyncClient, role: Role | str = "consumer", **fields: Any) -> dict[str, Any]:
    n = next(_counter)
    body = {"email": f"user{n}@example.com", "password": PASSWORD, "handle": f"user_{n}", "role": str(role)}
    body.update(fields)
    r = await client.post("/api/v1/auth/signup", json=body)
    assert r.status_code == 201, r.text
    return {**r.json(), "password": body["password"]}


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    r = await client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def user_with_token(
    client: httpx.AsyncClient, role: Role | str = "consumer"
) -> tuple[dict[str, Any], dict[str, str]]:
    user = await signup(client, role) if role != "admin" else await make_admin(client)
    return user, await login(client, user["email"])


async def make_admin(client: httpx.AsyncClient) -> dict[str, Any]:
    from grassroots.identity import service as identity

    platform: Platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    n = next(_counter)
    async with platform.unit_of_work() as uow:
        user = await identity.create_admin(uow, email=f"admin{n}@example.com", password=PASSWORD, handle=f"admin_{n}")
        out = {"id": str(user.id), "email": user.email, "handle": user.handle, "role": "admin"}
    return {**out, "password": PASSWORD}


# ---------------------------------------------------------------- commerce helpers

ADDRESS = {"name": "林美", "phone": "+86 138 0000 0000", "line1": "文三路 90 号", "city": "杭州", "country": "CN"}


@dataclass
class Actor:
    id: str
    email: str
    handle: str
    role: str
    headers: dict[str, str]


async def actor(client: httpx.AsyncClient, role: str) -> Actor:
    user, headers = await user_with_token(client, role)
    return Actor(user["id"], user["email"], user["handle"], role, headers)


async def make_product(
    client: httpx.AsyncClient,
    supplier: Actor,
    *,
    price: int = 10_000,
    stock: int = 10,
    commission_bps: int = 2000,
    category: str = "home",
    currency: str = "CNY",
    title: str = "Celadon tea cup 青瓷茶杯",
    status: str = "active",
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/products",
        headers=supplier.headers,
        json={
            "title": title,
            "description": "Hand-thrown in Longquan.",
            "category": category,
            "commission_bps": commission_bps,
            "status": status,
            "skus": [{"name": "one cup", "price_minor": price, "currency": currency, "stock": stock}],
        },
    )
    assert r.status_code == 201, r.text
    return r.json()


async def place_order(
    client: httpx.AsyncClient,
    buyer: Actor,
    sku_id: str,
    quantity: int = 1,
    *,
    source: dict[str, Any] | None = None,
    key: str | None = None,
    expect: int = 201,
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/orders",
        headers={**buyer.headers, "Idempotency-Key": key or secrets.token_hex(8)},
        json={"items": [{"sku_id": sku_id, "quantity": quantity}], "shipping_address": ADDRESS, "source": source or {}},
    )
    assert r.status_code == expect, r.text
    return r.json()


async def drain(client: httpx.AsyncClient) -> None:
    """Let background work run now (the sandbox's webhooks, event handlers)."""
    platform: Platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    assert platform.worker is not None
    while await platform.worker.drain():
        pass


async def pay_order(client: httpx.AsyncClient, buyer: Actor, order_id: str, **confirm: Any) -> dict[str, Any]:
    pay = await client.post(f"/api/v1/orders/{order_id}/pay", headers=buyer.headers, json={"provider": "sandbox"})
    assert pay.status_code == 200, pay.text
    r = await client.post(f"/sandbox/payments/{pay.json()['payment_id']}/confirm", json=confirm or None)
    assert r.status_code == 200, r.text
    await drain(client)
    order = (await client.get(f"/api/v1/orders/{order_id}", headers=buyer.headers)).json()
    return order


async def earnings(client: httpx.AsyncClient, who: Actor) -> dict[str, Any]:
    r = await client.get("/api/v1/me/earnings", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def advance(client: httpx.AsyncClient, seconds: int) -> None:
    platform: Platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    assert platform.test_clock is not None
    await platform.test_clock.advance(seconds)
