"""Discover-feed benchmark: requests/s and latency of the discover feed over HTTP.

Builds a fresh PostgreSQL database, migrates it and bulk-inserts a generated world with
SQLAlchemy Core (10k users, 100k posts spread over 35 days with skewed engagement, 500
products with SKUs, 1-3 product tags on a share of the posts, images, videos and
hashtags). Then runs ``grassroots serve`` production-style (PostgreSQL + Redis) and drives
``GET /api/v1/feed?tab=discover`` with virtual clients that scroll like people: start at
the top, follow ``next_cursor`` for a few pages (geometric, ``--pages`` on average), start
over. Every scroll is checked: no post twice, never three posts in a row by one author.

    python bench/feed.py                          # 16 clients, 20 s, 100k posts, 10k users
    python bench/feed.py --workers 1 --duration 60 --posts 200000

Prints a table and writes bench/results/feed.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from _procs import CpuMeter, free_port, pct, stop, wait_healthy
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Table as SaTable
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from grassroots.catalog.models import Product, ProductStatus, Sku
from grassroots.content.models import Media, MediaKind, Post, PostHashtag, PostKind, PostMedia, PostProduct
from grassroots.identity.models import User
from grassroots.kernel.auth import Role

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PG = "postgresql+asyncpg://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/13"
FEED = "/api/v1/feed?tab=discover&limit={limit}"
MAX_DEPTH = 60  # pages; a scroll this deep is rare with any sensible --pages
TARGET_RPS, TARGET_P99_MS = 400.0, 100.0
BATCH = 5000  # rows per executemany
console = Console()

_WORDS = (
    "好物 分享 种草 测评 平价 宝藏 回购 日常 通勤 穿搭 护肤 彩妆 面膜 精华 防晒 香水 口红 咖啡 绿茶 龙井 "
    "露营 徒步 健身 瑜伽 早餐 减脂 烘焙 家居 收纳 好用 推荐 真实 体验 效果 质地 清爽 保湿 学生党 上班族 "
    "weekend coffee matcha skincare outfit vlog haul review budget minimal cozy spring summer autumn winter"
)
WORDS = _WORDS.split()
CATEGORIES = ("beauty", "fashion", "food", "home", "sports", "digital", "baby", "books")


@dataclass
class Result:
    posts: int
    users: int
    clients: int
    server_workers: int
    mean_scroll_pages: float
    duration_s: float
    requests: int = 0
    req_per_s: float = 0.0
    latency_ms: dict[str, float] = field(default_factory=dict)
    errors: int = 0
    violations: int = 0
    scrolls: int = 0
    deepest_page: int = 0
    cpu_cores: dict[str, float] = field(default_factory=dict)  # cores busy during the window, by whom
    data_seconds: float = 0.0
    target_met: bool = False


# ------------------------------------------------------------------ data


def uuid7_at(at: datetime, rng: random.Random) -> uuid.UUID:
    """A UUIDv7 for ``at`` (the app's ids are time-ordered; bulk rows keep that order)."""
    ms = int(at.timestamp() * 1000)
    return uuid.UUID(int=(ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) | rng.getrandbits(62))


def sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(low, high)))


def zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1 / (i + 1) ** s for i in range(n)]


@dataclass
class World:
    """Rows for every table, in insert order (parents before children)."""

    tables: list[tuple[SaTable, list[dict[str, Any]]]] = field(default_factory=list)

    def rows(self) -> int:
        return sum(len(r) for _, r in self.tables)


def generate(n_users: int, n_posts: int, n_products: int, seed: int, now: datetime) -> World:
    rng = random.Random(seed)
    users: list[dict[str, Any]] = []
    n_suppliers = max(1, n_users // 200)
    n_creators = max(1, n_users // 5)
    for i in range(n_users):
        role = Role.supplier if i < n_suppliers else Role.creator if i < n_suppliers + n_creators else Role.consumer
        at = now - timedelta(days=400 * rng.random() + 40)
        handle = f"{role.value[:3]}_{i}"
        users.append(
            {
                "id": uuid7_at(at, rng),
                "email": f"{handle}@bench.example",
                "handle": handle,
                "handle_key": handle.lower(),
                "role": role,
                "password_hash": "bench-no-login",
                "auth_version": 1,
                "created_at": at,
                "disabled_at": None,
            }
        )
    suppliers = users[:n_suppliers]
    creators = users[n_suppliers : n_suppliers + n_creators]
    consumers = users[n_suppliers + n_creators :] or creators

    products: list[dict[str, Any]] = []
    skus: list[dict[str, Any]] = []
    for _ in range(n_products):
        at = now - timedelta(days=60 + 300 * rng.random())
        pid = uuid7_at(at, rng)
        products.append(
            {
                "id": pid,
                "supplier_id": rng.choice(suppliers)["id"],
                "title": sentence(rng, 2, 6)[:200],
                "description": sentence(rng, 10, 40),
                "category": rng.choice(CATEGORIES),
                "commission_bps": rng.choice((0, 500, 1000, 1500, 2000, 3000)),
                "status": ProductStatus.active if rng.random() < 0.95 else ProductStatus.archived,
                "sold_units": int(rng.paretovariate(1.2) * 10),
                "created_at": at,
                "updated_at": at,
            }
        )
        base = rng.randint(990, 49_900)
        for pos in range(rng.randint(1, 3)):
            skus.append(
                {
                    "id": uuid7_at(at, rng),
                    "product_id": pid,
                    "name": f"option {pos + 1}",
                    "price_minor": base + pos * 1000,
                    "currency": "CNY",
                    "stock": 0 if rng.random() < 0.1 else rng.randint(1, 5000),
                    "position": pos,
                }
            )
    product_ids = [p["id"] for p in products]
    product_weights = zipf_weights(len(product_ids), 0.8)

    # Most posts come from creators, a few of whom post a lot; shoppers post now and then.
    creator_weights = zipf_weights(len(creators), 0.9)
    bodies = [sentence(rng, 15, 90) for _ in range(2000)]
    tags_pool = [w for w in WORDS if w.isalnum()][:60]
    posts: list[dict[str, Any]] = []
    media: list[dict[str, Any]] = []
    post_media: list[dict[str, Any]] = []
    post_products: list[dict[str, Any]] = []
    post_tags: list[dict[str, Any]] = []
    span = timedelta(days=35).total_seconds()
    by_creator = rng.choices(creators, weights=creator_weights, k=n_posts)
    for i in range(n_posts):
        is_creator = rng.random() < 0.8
        author = by_creator[i] if is_creator else rng.choice(consumers)
        # More posts lately (a growing platform): density rises towards now.
        at = now - timedelta(seconds=span * (1 - math.sqrt(rng.random())) + 60)
        post_id = uuid7_at(at, rng)
        video = rng.random() < 0.25
        keys: list[str | None] = []
        for pos in range(1 if video else rng.choices((1, 2, 3, 4, 6, 9), (30, 25, 20, 12, 8, 5))[0]):
            mid = uuid7_at(at, rng)
            prefix = mid.hex[-2:]
            thumb = f"{prefix}/{mid}-thumb.jpg"
            keys.append(thumb)
            media.append(
                {
                    "id": mid,
                    "owner_id": author["id"],
                    "kind": MediaKind.video if video else MediaKind.image,
                    "content_type": "video/mp4" if video else "image/jpeg",
                    "size_bytes": rng.randint(5_000_000, 60_000_000) if video else rng.randint(80_000, 900_000),
                    "width": 1080,
                    "height": rng.choice((1080, 1440, 1920)),
                    "duration_s": round(rng.uniform(8, 90), 1) if video else None,
                    "key": f"{prefix}/{mid}.{'mp4' if video else 'jpg'}",
                    "thumb_key": thumb,
                    "created_at": at,
                }
            )
            post_media.append({"post_id": post_id, "media_id": mid, "position": pos})
        # Engagement: a heavy tail (a few posts take most of it), correlated across counters.
        reach = rng.paretovariate(1.1)
        views = int(reach * rng.uniform(20, 200))
        likes = int(views * rng.uniform(0.01, 0.12))
        tagged = is_creator and rng.random() < 0.35
        posts.append(
            {
                "id": post_id,
                "author_id": author["id"],
                "kind": PostKind.video if video else PostKind.note,
                "title": sentence(rng, 2, 8)[:100],
                "body": rng.choice(bodies),
                "cover_key": keys[0],
                "sponsored": rng.random() < 0.02,
                "created_at": at,
                "deleted_at": at + timedelta(hours=1) if rng.random() < 0.01 else None,
                "like_count": likes,
                "favorite_count": int(likes * rng.uniform(0.1, 0.5)),
                "comment_count": int(likes * rng.uniform(0.02, 0.2)),
                "share_count": int(likes * rng.uniform(0.0, 0.08)),
                "view_count": views,
                "order_count": int(likes * rng.uniform(0.0, 0.06)) if tagged else 0,
            }
        )
        if tagged:
            chosen = set(rng.choices(product_ids, weights=product_weights, k=rng.randint(1, 3)))
            post_products.extend({"post_id": post_id, "product_id": p, "position": n} for n, p in enumerate(chosen))
        for tag in set(rng.sample(tags_pool, rng.choice((0, 1, 2, 3, 3, 4)))):
            post_tags.append({"post_id": post_id, "tag": tag})
    return World(
        [
            (User.__table__, users),  # type: ignore[list-item]
            (Product.__table__, products),  # type: ignore[list-item]
            (Sku.__table__, skus),  # type: ignore[list-item]
            (Media.__table__, media),  # type: ignore[list-item]
            (Post.__table__, posts),  # type: ignore[list-item]
            (PostMedia.__table__, post_media),  # type: ignore[list-item]
            (PostProduct.__table__, post_products),  # type: ignore[list-item]
            (PostHashtag.__table__, post_tags),  # type: ignore[list-item]
        ]
    )


def batches(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def load(database_url: str, world: World) -> None:
    engine = create_async_engine(database_url)
    try:
        with Progress(
            TextColumn("{task.description:>14}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            tasks = [progress.add_task(t.name, total=len(rows)) for t, rows in world.tables]
            async with engine.begin() as conn:
                for (table, rows), task in zip(world.tables, tasks, strict=True):
                    stmt = insert(table)
                    for chunk in batches(rows, BATCH):
                        await conn.execute(stmt, chunk)
                        progress.advance(task, len(chunk))
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            with console.status("VACUUM ANALYZE…"):
                await conn.execute(text("VACUUM ANALYZE"))
    finally:
        await engine.dispose()


# ------------------------------------------------------------------ the platform


async def admin(sql: str) -> None:
    engine = create_async_engine(f"{PG}/postgres", isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


class Stack:
    def __init__(self, workers: int, users: int, posts: int, products: int, seed: int) -> None:
        self.workers = workers
        self.sizes = (users, posts, products)
        self.seed = seed
        self.tmp = Path(tempfile.mkdtemp(prefix="grassroots-bench-feed-"))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.database = f"gr_bench_{secrets.token_hex(4)}"
        self.database_url = f"{PG}/{self.database}"
        self.data_seconds = 0.0
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GRASSROOTS_")}
        self.env.update(
            {
                "GRASSROOTS_ENV": "production",
                "GRASSROOTS_DATA_DIR": str(self.tmp),
                "GRASSROOTS_SECRET_KEY": secrets.token_urlsafe(32),
                "GRASSROOTS_PUBLIC_URL": self.url,
                "GRASSROOTS_DATABASE_URL": self.database_url,
                "GRASSROOTS_REDIS_URL": REDIS,
            }
        )

    async def __aenter__(self) -> Stack:
        await admin(f"CREATE DATABASE {self.database}")
        import redis

        r = redis.Redis.from_url(REDIS)
        r.flushdb()
        r.close()
        try:
            with console.status("migrating…"):
                self._cli("migrate")
            t0 = time.perf_counter()
            users, posts, products = self.sizes
            with console.status(f"generating {users:,} users, {posts:,} posts, {products:,} products…"):
                world = generate(users, posts, products, self.seed, datetime.now(UTC))
            await load(self.database_url, world)
            self.data_seconds = time.perf_counter() - t0
            console.print(f"data: {world.rows():,} rows in {self.data_seconds:.1f} s")
            self._spawn(["serve", "--port", str(self.port), "--workers", str(self.workers)], "server.log")
            await wait_healthy(self.url, self.tmp / "server.log", 60)
        except BaseException:
            await self.__aexit__(*sys.exc_info())
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        stop(self.procs)
        await admin(f"DROP DATABASE IF EXISTS {self.database} WITH (FORCE)")
        if exc[0] is None:
            shutil.rmtree(self.tmp, ignore_errors=True)  # kept after a failure: server.log tells why

    def _spawn(self, args: list[str], log_name: str) -> None:
        with (self.tmp / log_name).open("wb") as log:
            cmd = [sys.executable, "-m", "grassroots", *args]
            self.procs.append(subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT))

    def _cli(self, *args: str) -> None:
        subprocess.run([sys.executable, "-m", "grassroots", *args], env=self.env, check=True, capture_output=True)


# ------------------------------------------------------------------ the load


def scroll_depth(rng: random.Random, mean: float) -> int:
    """Pages one visit reads before starting over: geometric with the given mean (most
    people read a page or two, a few scroll far)."""
    if mean <= 1:
        return 1
    return min(MAX_DEPTH, 1 + int(math.log(1 - rng.random()) / math.log(1 - 1 / mean)))


async def measure(stack: Stack, clients: int, duration: float, warmup: float, pages: float, limit: int) -> Result:
    lat: list[float] = []
    counters = {"errors": 0, "violations": 0, "scrolls": 0, "deepest": 0}
    recording = False
    stop = False
    first_page = FEED.format(limit=limit)

    def check(items: list[dict[str, Any]], seen: set[str], authors: list[str]) -> bool:
        ok = True
        for item in items:
            post = item["post"]
            if post["id"] in seen:
                ok = False
            seen.add(post["id"])
            authors.append(post["author_id"])
            if len(authors) >= 3 and authors[-1] == authors[-2] == authors[-3]:
                ok = False
        return ok

    async def visitor(c: aiohttp.ClientSession, i: int) -> None:
        rng = random.Random(1000 + i)
        while not stop:
            depth = scroll_depth(rng, pages)
            url = first_page
            seen: set[str] = set()
            authors: list[str] = []
            for page in range(1, depth + 1):
                if stop:
                    return
                timed = recording  # a request counts when it starts inside the window
                t0 = time.perf_counter()
                try:
                    async with c.get(url) as r:
                        raw = await r.read()
                        status = r.status
                    body = json.loads(raw) if status == 200 else None
                except (aiohttp.ClientError, TimeoutError, ValueError):
                    body = None
                elapsed = (time.perf_counter() - t0) * 1000
                if body is None:
                    counters["errors"] += timed
                    await asyncio.sleep(0.05)
                    break
                if not check(body["items"], seen, authors):
                    counters["violations"] += 1
                if timed:
                    lat.append(elapsed)
                    counters["deepest"] = max(counters["deepest"], page)
                cursor = body["next_cursor"]
                if not cursor:
                    break
                url = f"{first_page}&cursor={cursor}"
            counters["scrolls"] += recording

    connector = aiohttp.TCPConnector(limit=clients + 4)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base_url=stack.url, connector=connector, timeout=timeout) as c:
        tasks = [asyncio.create_task(visitor(c, i)) for i in range(clients)]
        await asyncio.sleep(warmup)
        meter = CpuMeter(stack.procs[0].pid if stack.procs else 0, stack.database)
        await meter.begin()
        recording = True
        t_start = time.perf_counter()
        await asyncio.sleep(duration)
        recording = False
        window = time.perf_counter() - t_start
        cores = await meter.end()
        stop = True
        await asyncio.gather(*tasks)
    users, posts, _ = stack.sizes
    result = Result(posts, users, clients, stack.workers, pages, round(window, 2))
    result.requests = len(lat)
    result.req_per_s = round(len(lat) / window, 1)
    result.latency_ms = {f"p{p}": round(pct(lat, p), 1) for p in (50, 90, 99)} | {"max": round(max(lat or [0]), 1)}
    result.errors = counters["errors"]
    result.violations = counters["violations"]
    result.scrolls = counters["scrolls"]
    result.deepest_page = counters["deepest"]
    result.cpu_cores = cores
    result.data_seconds = round(stack.data_seconds, 1)
    result.target_met = (
        result.req_per_s >= TARGET_RPS
        and result.latency_ms["p99"] <= TARGET_P99_MS
        and not result.errors
        and not result.violations
    )
    return result


def report(r: Result) -> None:
    table = Table(title=f"Discover feed: {r.posts:,} posts, {r.users:,} users, PostgreSQL + Redis")
    table.add_column("metric")
    table.add_column("value", justify="right")
    lm = r.latency_ms
    for name, value in (
        ("clients / server workers", f"{r.clients} / {r.server_workers}"),
        ("requests", f"{r.requests:,}"),
        ("req/s", f"{r.req_per_s}"),
        ("p50 ms", f"{lm['p50']}"),
        ("p90 ms", f"{lm['p90']}"),
        ("p99 ms", f"{lm['p99']}"),
        ("max ms", f"{lm['max']}"),
        ("errors", str(r.errors)),
        ("rule violations", str(r.violations)),
        ("scrolls (deepest page)", f"{r.scrolls:,} ({r.deepest_page})"),
    ):
        table.add_row(name, value)
    for who, cores in r.cpu_cores.items():
        if who != "machine":
            table.add_row(f"cores busy: {who}", f"{cores} of {os.cpu_count()}")
    console.print(table)
    verdict = "[green]met[/]" if r.target_met else "[red]not met[/]"
    console.print(f"target ≥ {TARGET_RPS:.0f} req/s, p99 ≤ {TARGET_P99_MS:.0f} ms, no errors: {verdict}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--duration", type=float, default=20, help="seconds measured")
    ap.add_argument("--warmup", type=float, default=5, help="seconds of load before measuring")
    ap.add_argument("--clients", type=int, default=16, help="concurrent virtual clients")
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--users", type=int, default=10_000)
    ap.add_argument("--products", type=int, default=500)
    ap.add_argument("--pages", type=float, default=5.0, help="mean pages per scroll before starting over")
    ap.add_argument("--limit", type=int, default=20, help="posts per page")
    ap.add_argument("--workers", type=int, default=2, help="server worker processes")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=RESULTS / "feed.json")
    args = ap.parse_args()
    async with Stack(args.workers, args.users, args.posts, args.products, args.seed) as stack:
        console.print(
            f"[bold]discover feed[/]: {args.clients} clients, {args.workers} server worker(s), "
            f"{args.warmup:.0f} s warm-up + {args.duration:.0f} s…"
        )
        result = await measure(stack, args.clients, args.duration, args.warmup, args.pages, args.limit)
    report(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {"generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "result": asdict(result)}, indent=2
        )
    )
    out = args.out.resolve()
    console.print(f"written {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")


if __name__ == "__main__":
    try:
        import uvloop
    except ImportError:
        asyncio.run(main())
    else:
        uvloop.run(main())  # a cheaper event loop: the load generator shares the machine
