from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import httpx
import pytest

from grassroots.app import create_app
from grassroots.kernel.platform import Platform
from grassroots.kernel.state_redis import RedisState
from grassroots.ops import service as ops
from tests.conftest import Stack, user_with_token


async def test_healthz_reports_each_dependency(client: httpx.AsyncClient, stack: Stack) -> None:
    r = await client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] == ("not_configured" if stack.name == "embedded" else "ok")


async def test_healthz_names_a_failed_redis(stack: Stack, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = stack.settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    broken = Platform(settings, db=stack.platform.db, state=RedisState("redis://127.0.0.1:1/0"))
    app = create_app(settings, platform=broken)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/healthz")
    assert r.status_code == 503
    assert r.json()["status"] == "degraded"
    assert r.json()["checks"]["database"] == "ok"
    assert r.json()["checks"]["redis"].startswith("failed")
    await broken.state.close()


async def test_healthz_names_a_failed_database(stack: Stack) -> None:
    from grassroots.kernel.db import Database

    settings = stack.settings
    dead = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    broken = Platform(settings, db=dead, state=stack.platform.state)
    app = create_app(settings, platform=broken)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        r = await c.get("/healthz")
    assert r.status_code == 503 and r.json()["checks"]["database"].startswith("failed")
    await dead.dispose()


async def test_test_clock_moves_time_for_the_platform(client: httpx.AsyncClient, platform: Platform) -> None:
    _, admin = await user_with_token(client, "admin")
    before = datetime.fromisoformat((await client.get("/api/v1/admin/test-clock", headers=admin)).json()["now"])
    r = await client.post("/api/v1/admin/test-clock", json={"advance_seconds": 8 * 86400}, headers=admin)
    assert r.status_code == 200
    body = r.json()
    assert body["offset_seconds"] == 8 * 86400
    assert datetime.fromisoformat(body["now"]) - before >= timedelta(days=8)
    # services see the moved time through their unit of work
    async with platform.unit_of_work(write=False) as uow:
        assert uow.now() - before >= timedelta(days=8)


@pytest.mark.parametrize(
    "body",
    [
        {"advance_seconds": 0},
        {"advance_seconds": -5},
        {"advance_seconds": "soon"},
        {"advance_seconds": "60"},
        {"advance_seconds": 60.0},
        {"advance_seconds": True},
        {"advance_seconds": 10**12},
        {},
        {"advance_seconds": 5, "reset": True},
    ],
)
async def test_test_clock_validates_input(client: httpx.AsyncClient, body: dict) -> None:
    _, admin = await user_with_token(client, "admin")
    r = await client.post("/api/v1/admin/test-clock", json=body, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error"


async def test_test_clock_cannot_run_past_a_century(client: httpx.AsyncClient) -> None:
    _, admin = await user_with_token(client, "admin")
    step = 10 * 366 * 86400
    for _ in range(10):
        assert (
            await client.post("/api/v1/admin/test-clock", json={"advance_seconds": step}, headers=admin)
        ).status_code == 200
    r = await client.post("/api/v1/admin/test-clock", json={"advance_seconds": 1}, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["code"] == "clock_out_of_range"
    assert (await client.get("/api/v1/admin/test-clock", headers=admin)).status_code == 200


async def test_advances_at_once_never_pass_the_century_together(client: httpx.AsyncClient, platform: Platform) -> None:
    """The check and the increment are one step in shared state: of fifteen decades asked
    for at once, ten move the clock and five are refused (Redis interleaves the requests;
    the in-memory state of the embedded stack cannot)."""
    _, admin = await user_with_token(client, "admin")
    step = {"advance_seconds": 10 * 366 * 86400}
    answers = await asyncio.gather(
        *(client.post("/api/v1/admin/test-clock", json=step, headers=admin) for _ in range(15))
    )
    assert sorted(r.status_code for r in answers) == [200] * 10 + [422] * 5
    await platform.clock.refresh()
    assert platform.clock.offset == timedelta(seconds=10 * step["advance_seconds"]) <= ops.MAX_OFFSET


async def test_healthz_answers_head(client: httpx.AsyncClient) -> None:
    assert (await client.head("/healthz")).status_code == 200
