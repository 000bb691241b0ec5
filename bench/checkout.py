"""Checkout benchmark: create + pay throughput and latency over HTTP.

Each simulated shopper loops: POST /api/v1/orders -> POST /api/v1/orders/{id}/pay ->
POST /sandbox/payments/{id}/confirm. The sandbox provider then delivers its signed webhook
and the order becomes paid. "Paid orders/s" counts orders that really reached ``paid``
(read from the database), over the time until the last one did.

    python bench/checkout.py                      # both backends, 32 clients, 20 s each
    python bench/checkout.py --db postgres --clients 64 --duration 30

PostgreSQL runs production-style: ``grassroots serve --workers 2`` + ``grassroots worker``
+ Redis. SQLite runs the embedded default: one process, in-process worker. Everyone buys
the same SKU (a flash sale: the hardest case for stock); ``--skus N`` spreads them over N.
Prints the throughput and latency table and where the CPU went (cores busy by process, and
CPU milliseconds per order), with how fast this host is (a fixed Python loop, in ms: figures
from hosts of different speeds compare by it), and writes bench/results/checkout.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
import httpx
from _procs import CpuMeter, free_port, host_speed_ms, pct, stop, wait_healthy
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
REDIS = "redis://127.0.0.1:6379/12"
PASSWORD = "bench-password-1"  # noqa: S105 - throwaway accounts
ADDRESS = {"name": "Bench", "phone": "13800000000", "line1": "1 Road", "city": "Hangzhou", "country": "CN"}
console = Console()


@dataclass
class Result:
    backend: str
    clients: int
    server_workers: int
    duration_s: float
    flows: int = 0
    paid: int = 0
    errors: int = 0
    paid_per_s: float = 0.0
    flows_per_s: float = 0.0
    settle_lag_s: float = 0.0
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    skus: int = 1
    cpu_cores: dict[str, float] = field(default_factory=dict)  # cores busy during the window, by whom
    cpu_ms_per_paid_order: dict[str, float] = field(default_factory=dict)
    host_loop_ms: float = 0.0  # bench/_procs.host_speed_ms before the run: lower is a faster host


class Stack:
    def __init__(self, backend: str, workers: int) -> None:
        self.backend = backend
        self.workers = workers
        self.tmp = Path(tempfile.mkdtemp(prefix=f"grassroots-bench-{backend}-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.database = f"gr_bench_{secrets.token_hex(4)}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GRASSROOTS_")}
        self.env.update(
            {
                "GRASSROOTS_ENV": "production",
                "GRASSROOTS_PAYMENTS_SANDBOX": "true",
                "GRASSROOTS_DATA_DIR": str(self.tmp),
                "GRASSROOTS_SECRET_KEY": secrets.token_urlsafe(32),
                "GRASSROOTS_LOGIN_IP_LIMIT": "100000",
                "GRASSROOTS_SIGNUP_IP_LIMIT": "100000",
                "GRASSROOTS_PUBLIC_URL": self.url,
                "GRASSROOTS_OUTBOX_POLL_SECONDS": "0.5",
            }
        )
        if backend == "postgres":
            self.env["GRASSROOTS_DATABASE_URL"] = (
                f"postgresql+asyncpg://{PG['user']}@{PG['host']}:{PG['port']}/{self.database}"
            )
            self.env["GRASSROOTS_REDIS_URL"] = REDIS
            self.env["GRASSROOTS_DB_POOL_SIZE"] = "24"
            self.env["GRASSROOTS_DB_MAX_OVERFLOW"] = "8"

    async def __aenter__(self) -> Stack:
        if self.backend == "postgres":
            conn = await asyncpg.connect(database="postgres", **PG)  # type: ignore[arg-type]
            await conn.execute(f"CREATE DATABASE {self.database}")
            await conn.close()
            import redis

            r = redis.Redis.from_url(REDIS)
            r.flushdb()
            r.close()
        self._cli("migrate")
        self._spawn(["serve", "--port", str(self.port), "--workers", str(self.workers)], "server.log")
        if self.backend == "postgres":
            self._spawn(["worker"], "worker.log")
        await wait_healthy(self.url, self.tmp / "server.log", 30)
        return self

    async def __aexit__(self, *exc: object) -> None:
        stop(self.procs)
        if self.backend == "postgres":
            conn = await asyncpg.connect(database="postgres", **PG)  # type: ignore[arg-type]
            await conn.execute(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
            await conn.close()

    def _spawn(self, args: list[str], log_name: str) -> None:
        with (self.tmp / log_name).open("wb") as log:
            cmd = [sys.executable, "-m", "grassroots", *args]
            self.procs.append(subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT))

    def _cli(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "grassroots", *args], env=self.env, check=True, capture_output=True)

    async def paid_count(self) -> int:
        if self.backend == "postgres":
            conn = await asyncpg.connect(database=self.database, **PG)  # type: ignore[arg-type]
            n = await conn.fetchval("SELECT count(*) FROM orders WHERE status = 'paid'")
            await conn.close()
            return int(n)
        with sqlite3.connect(self.tmp / "grassroots.db") as db:
            return int(db.execute("SELECT count(*) FROM orders WHERE status = 'paid'").fetchone()[0])


async def user(c: httpx.AsyncClient, role: str, handle: str) -> dict[str, str]:
    email = f"{handle}@example.com"
    r = await c.post("/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "handle": handle, "role": role})
    r.raise_for_status()
    tok = (await c.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})).json()["access_token"]
    return {"Authorization": f"Bearer {tok}"}


async def measure(stack: Stack, clients: int, duration: float, warmup: float, skus: int) -> Result:
    speed = host_speed_ms()
    # aiohttp drives the load: it costs far less CPU per request than httpx, and the load
    # generator shares this machine's cores with the platform.
    connector = aiohttp.TCPConnector(limit=clients + 8)
    async with (
        httpx.AsyncClient(base_url=stack.url, timeout=60) as setup,
        aiohttp.ClientSession(base_url=stack.url, connector=connector) as c,
    ):
        supplier = await user(setup, "supplier", "bench_supplier")
        buyers = [await user(setup, "consumer", f"bench_buyer_{i}") for i in range(clients)]
        product = (
            await setup.post(
                "/api/v1/products",
                headers=supplier,
                json={
                    "title": "Bench tea",
                    "category": "home",
                    "commission_bps": 0,
                    "skus": [
                        {"name": f"tin {n}", "price_minor": 1999, "currency": "CNY", "stock": 10_000_000}
                        for n in range(skus)
                    ],
                },
            )
        ).json()
        bodies = [
            {"items": [{"sku_id": product["skus"][i % skus]["id"], "quantity": 1}], "shipping_address": ADDRESS}
            for i in range(clients)
        ]
        lat: dict[str, list[float]] = {"create": [], "pay": [], "confirm": []}
        counters = {"flows": 0, "errors": 0}
        recording = False
        stop = False

        async def timed(name: str, url: str, payload: object, headers: dict[str, str]) -> tuple[int, dict]:
            t0 = time.perf_counter()
            async with c.post(url, json=payload, headers=headers) as r:
                data = await r.json(content_type=None)
                status = r.status
            if recording:
                lat[name].append((time.perf_counter() - t0) * 1000)
            return status, data

        async def shopper(i: int) -> None:
            headers = buyers[i]
            n = 0
            while not stop:
                n += 1
                status, order = await timed(
                    "create", "/api/v1/orders", bodies[i], {**headers, "Idempotency-Key": f"{i}-{n}"}
                )
                if status != 201:
                    counters["errors"] += 1
                    continue
                status, pay = await timed("pay", f"/api/v1/orders/{order['id']}/pay", {"provider": "sandbox"}, headers)
                if status != 200:
                    counters["errors"] += 1
                    continue
                status, _ = await timed("confirm", f"/sandbox/payments/{pay['payment_id']}/confirm", {}, {})
                if status != 200:
                    counters["errors"] += 1
                    continue
                if recording:
                    counters["flows"] += 1

        tasks = [asyncio.create_task(shopper(i)) for i in range(clients)]
        await asyncio.sleep(warmup)
        paid_before = await stack.paid_count()
        others = {"worker": stack.procs[1].pid} if len(stack.procs) > 1 else {}
        meter = CpuMeter(stack.procs[0].pid, stack.database if stack.backend == "postgres" else None, others)
        await meter.begin()
        recording = True
        t_start = time.perf_counter()
        await asyncio.sleep(duration)
        recording = False
        t_end = time.perf_counter()
        cores = await meter.end()
        stop = True
        await asyncio.gather(*tasks)
        # Count orders paid since the window opened, until the webhook backlog has drained.
        last, stable_since = -1, time.perf_counter()
        while time.perf_counter() - stable_since < 2.0 and time.perf_counter() - t_end < 60:
            now_paid = await stack.paid_count()
            if now_paid != last:
                last, stable_since = now_paid, time.perf_counter()
            await asyncio.sleep(0.25)
        settled_at = stable_since
    window = t_end - t_start
    result = Result(stack.backend, clients, stack.workers, round(window, 2))
    result.flows = counters["flows"]
    result.errors = counters["errors"]
    result.paid = last - paid_before
    result.flows_per_s = round(result.flows / window, 1)
    result.settle_lag_s = round(max(0.0, settled_at - t_end), 2)
    result.paid_per_s = round(min(result.paid, result.flows) / max(window, settled_at - t_start), 1)
    result.skus = skus
    result.host_loop_ms = speed
    result.cpu_cores = cores
    if result.flows:
        # per order through the flow: machine CPU over the window divided by the orders it carried
        result.cpu_ms_per_paid_order = {k: round(v * window * 1000 / result.flows, 2) for k, v in cores.items()}
    result.latency_ms = {
        name: {"p50": round(statistics.median(v), 1) if v else 0.0, "p99": round(pct(v, 99), 1), "n": len(v)}
        for name, v in lat.items()
    }
    return result


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--duration", type=float, default=20)
    ap.add_argument("--warmup", type=float, default=3)
    ap.add_argument("--workers", type=int, default=2, help="server worker processes on PostgreSQL")
    ap.add_argument("--skus", type=int, default=1, help="SKUs the shoppers spread over (1: everyone buys one)")
    args = ap.parse_args()
    backends = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = []
    for backend in backends:
        workers = args.workers if backend == "postgres" else 1
        console.print(f"[bold]{backend}[/]: {args.clients} clients, {workers} server worker(s), {args.duration:.0f} s…")
        async with Stack(backend, workers) as stack:
            results.append(await measure(stack, args.clients, args.duration, args.warmup, args.skus))
    table = Table(title="Checkout: create + pay + provider confirmation")
    for col in (
        "backend",
        "clients",
        "paid orders/s",
        "flows/s",
        "errors",
        "webhook lag s",
        "create p50/p99 ms",
        "pay p50/p99 ms",
        "confirm p50/p99 ms",
    ):
        table.add_column(col, justify="right")
    for r in results:
        lm = r.latency_ms
        table.add_row(
            r.backend,
            str(r.clients),
            f"{r.paid_per_s}",
            f"{r.flows_per_s}",
            str(r.errors),
            f"{r.settle_lag_s}",
            *(f"{lm[k]['p50']} / {lm[k]['p99']}" for k in ("create", "pay", "confirm")),
        )
    console.print(table)
    speeds = ", ".join(f"{r.host_loop_ms} ms" for r in results)
    cpu = Table(title=f"Where the CPU went (cores busy; ms of CPU per order). Host loop: {speeds}")
    cpu.add_column("backend")
    for who in ("server", "worker", "postgres", "load generator", "other", "machine"):
        cpu.add_column(who, justify="right")
    for r in results:
        cells = [
            f"{r.cpu_cores[w]} ; {r.cpu_ms_per_paid_order.get(w, 0.0)}" if w in r.cpu_cores else "-"
            for w in ("server", "worker", "postgres", "load generator", "other", "machine")
        ]
        cpu.add_row(r.backend, *cells)
    console.print(cpu)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "checkout.json"
    out.write_text(
        json.dumps(
            {"generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": [asdict(r) for r in results]},
            indent=2,
        )
    )
    console.print(f"written {out.relative_to(ROOT)}")


if __name__ == "__main__":
    asyncio.run(main())
