"""Stock is never oversold and an Idempotency-Key makes one order, under real concurrency
over HTTP: two `grassroots serve` processes on PostgreSQL (+ Redis), and one process on
SQLite."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ADDRESS, PASSWORD
from tests.e2e.conftest import Server, Servers, base_env, grassroots

ATTEMPTS = 500
STOCK = 100


def run(coro_fn: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine on a fresh loop in its own thread (the browser tests may own this one)."""
    out: list[Any] = []
    worker = threading.Thread(target=lambda: out.append(asyncio.run(coro_fn())))
    worker.start()
    worker.join()
    return out[0]


async def _user(c: httpx.AsyncClient, role: str, handle: str) -> dict[str, str]:
    email = f"{handle}@example.com"
    r = await c.post("/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "handle": handle, "role": role})
    assert r.status_code == 201, r.text
    tok = (await c.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})).json()["access_token"]
    return {"Authorization": f"Bearer {tok}"}


async def hammer(servers: list[Server]) -> None:
    # Clients drop idle connections well before the server's keep-alive timeout does, so
    # no request is ever sent on a connection the server is closing.
    limits = httpx.Limits(max_connections=64, keepalive_expiry=2)
    clients = [httpx.AsyncClient(base_url=s.url, timeout=60, limits=limits) for s in servers]
    try:
        c0 = clients[0]
        supplier = await _user(c0, "supplier", "stock_supplier")
        buyers = [await _user(c0, "consumer", f"buyer_{i}") for i in range(20)]
        product = (
            await c0.post(
                "/api/v1/products",
                headers=supplier,
                json={
                    "title": "Limited tea",
                    "category": "home",
                    "commission_bps": 0,
                    "skus": [{"name": "tin", "price_minor": 100, "currency": "CNY", "stock": STOCK}],
                },
            )
        ).json()
        sku = product["skus"][0]["id"]
        body = {"items": [{"sku_id": sku, "quantity": 1}], "shipping_address": ADDRESS}

        async def attempt(i: int) -> int:
            client = clients[i % len(clients)]
            r = await client.post(
                "/api/v1/orders", json=body, headers={**buyers[i % len(buyers)], "Idempotency-Key": f"attempt-{i}"}
            )
            return r.status_code

        codes = await asyncio.gather(*(attempt(i) for i in range(ATTEMPTS)))
        assert codes.count(201) == STOCK, {c: codes.count(c) for c in set(codes)}
        assert codes.count(409) == ATTEMPTS - STOCK
        fresh = (await c0.get(f"/api/v1/products/{product['id']}")).json()
        assert fresh["skus"][0]["stock"] == 0
        held = 0
        for b in buyers:
            cursor = None
            while True:
                page = (
                    await c0.get(
                        "/api/v1/orders", headers=b, params={"limit": 100, **({"cursor": cursor} if cursor else {})}
                    )
                ).json()
                held += sum(o["items"][0]["quantity"] for o in page["items"] if o["status"] == "pending_payment")
                cursor = page["next_cursor"]
                if not cursor:
                    break
        assert held == STOCK

        # one key, many concurrent retries, across every instance: one order
        retry_body = {**body, "items": [{"sku_id": sku, "quantity": 1}]}
        await c0.put(f"/api/v1/skus/{sku}/stock", headers=supplier, json={"stock": 5})
        retries = await asyncio.gather(
            *(
                clients[i % len(clients)].post(
                    "/api/v1/orders", json=retry_body, headers={**buyers[0], "Idempotency-Key": "the-one-key"}
                )
                for i in range(50)
            )
        )
        assert {r.status_code for r in retries} == {201}
        assert len({r.json()["id"] for r in retries}) == 1
        fresh = (await c0.get(f"/api/v1/products/{product['id']}")).json()
        assert fresh["skus"][0]["stock"] == 4
    finally:
        for c in clients:
            await c.aclose()


def test_postgres_two_processes(tmp_path: Path, pg_database: str, e2e_redis_url: str, servers: Servers) -> None:
    env = base_env(
        tmp_path / "d",
        GRASSROOTS_DATABASE_URL=pg_database,
        GRASSROOTS_REDIS_URL=e2e_redis_url,
        GRASSROOTS_DB_POOL_SIZE="20",
    )
    assert grassroots(["migrate"], env).returncode == 0
    a = servers.start({**env, "GRASSROOTS_DATA_DIR": str(tmp_path / "a")})
    b = servers.start({**env, "GRASSROOTS_DATA_DIR": str(tmp_path / "b")})
    run(lambda: hammer([a, b]))


def test_sqlite_one_process(tmp_path: Path, servers: Servers) -> None:
    env = base_env(tmp_path / "d")
    assert grassroots(["migrate"], env).returncode == 0
    run(lambda: hammer([servers.start(env)]))
