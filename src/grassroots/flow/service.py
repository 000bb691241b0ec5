"""Flow: the feeds (following, discover), behaviour events and keyword search.

The discover feed ranks a snapshot of recent posts every ``REFRESH`` seconds and pages
through that frozen order, so a viewer never sees a post twice while scrolling and the
per-request work is a slice plus cached items. Snapshots live in the shared state
(Redis in production), so every instance pages the same order."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from grassroots.catalog import service as catalog
from grassroots.catalog.models import Product, ProductStatus
from grassroots.content import service as content
from grassroots.content.models import Post
from grassroots.content.service import PostView
from grassroots.flow import repository
from grassroots.flow.models import FlowEvent
from grassroots.flow.ranking import Candidate, EngagementRanker, Ranker
from grassroots.identity import service as identity
from grassroots.identity.models import User
from grassroots.kernel.auth import Principal, Role
from grassroots.kernel.errors import BadRequest, Invalid, RateLimited
from grassroots.kernel.pagination import PageParams, decode_cursor, encode_cursor
from grassroots.kernel.uow import UnitOfWork

if TYPE_CHECKING:
    from grassroots.kernel.platform import Platform

log = logging.getLogger("grassroots.flow")

RANKER: Ranker = EngagementRanker()
REFRESH = 60  # seconds between re-rankings
SNAPSHOT_TTL = 2 * 3600  # a cursor into a snapshot stays valid this long
CANDIDATE_WINDOW = timedelta(days=30)
CANDIDATES = 3000
VIEW_DEDUPE_SECONDS = 1800  # one viewer's views of one post count once per half hour
MAX_EVENTS = 100
EVENT_BATCHES = 120  # per sender per minute

_KEY_CURRENT = "feed:discover:current"
_KEY_LATEST = "feed:discover:latest"
_KEY_BUILDING = "feed:discover:building"


def _snap_key(version: str) -> str:
    return f"feed:discover:snap:{version}"


class _Lru(OrderedDict[str, tuple[float, object]]):
    """A tiny per-process cache with expiry; snapshots are immutable, pages short-lived."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def take(self, key: str) -> object | None:
        hit = self.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        self.move_to_end(key)
        return hit[1]

    def put(self, key: str, value: object, ttl: float) -> None:
        self[key] = (time.monotonic() + ttl, value)
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


_snapshots = _Lru(8)
_current = _Lru(4)
PAGE_TTL = 5.0  # seconds a rendered item is reused; counters on it are this stale at most
REFRESH_AHEAD = 4.0  # an item this old that is served again is re-rendered in the background
REFRESH_BATCH = 60  # posts per background render (a bigger batch stalls the event loop longer)


Render = Callable[[UnitOfWork, list[uuid.UUID]], Awaitable[dict[uuid.UUID, bytes]]]
"""Renders posts for the discover feed (the API's JSON of a feed item); posts left out of
the answer are gone (deleted) and are left out of pages."""


class RenderedItems:
    """Rendered discover items by post id, in this process, for ``PAGE_TTL`` seconds.

    Items, not pages: a page is a slice of a snapshot, and the next snapshot holds mostly
    the same posts at other offsets, so items outlive re-rankings and any page size reuses
    them. A page's missing items are rendered once however many requests want them at the
    same moment (the others wait for that render); items still served after
    ``REFRESH_AHEAD`` seconds, and the next page of a scroll, are rendered in the
    background, so busy pages never expire under their readers and a scroll rarely waits
    for a render. Nothing served is ever older than ``PAGE_TTL``."""

    def __init__(self) -> None:
        self.entries: dict[uuid.UUID, tuple[float, bytes | None]] = {}
        self.inflight: dict[uuid.UUID, asyncio.Future[None]] = {}
        self.queue: dict[uuid.UUID, None] = {}  # background renders to do, in order
        self.task: asyncio.Task[None] | None = None

    def clear(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.task = None
        self.entries.clear()
        self.queue.clear()
        self.inflight.clear()

    async def get(
        self, uow: UnitOfWork, ids: Sequence[uuid.UUID], render: Render, ahead: Sequence[uuid.UUID] = ()
    ) -> list[bytes]:
        """The rendered items of ``ids`` in order (gone posts left out); ``ahead`` are
        ids likely asked for next, rendered in the background if not fresh."""
        for attempt in range(3):  # a render that failed elsewhere is retried here
            now = time.monotonic()
            missing: list[uuid.UUID] = []
            waits: set[asyncio.Future[None]] = set()
            due: list[uuid.UUID] = []
            for post_id in ids:
                hit = self.entries.get(post_id)
                age = now - hit[0] if hit is not None else PAGE_TTL
                if age < PAGE_TTL:
                    if age >= REFRESH_AHEAD:
                        due.append(post_id)
                    continue
                pending = self.inflight.get(post_id)
                if pending is not None:
                    waits.add(pending)
                else:
                    missing.append(post_id)
            if attempt == 0:
                due.extend(self._stale(ahead, now))
                if due:
                    self._schedule(uow.platform, due, render)
            if not missing and not waits:
                break
            if missing:
                await self._render(uow, missing, render)
            if waits:
                await asyncio.wait(waits)  # not gather: a cancelled reader must not cancel the render
        out = []
        for post_id in ids:
            hit = self.entries.get(post_id)
            if hit is not None and hit[1] is not None:
                out.append(hit[1])
        return out

    def _stale(self, ids: Sequence[uuid.UUID], now: float) -> list[uuid.UUID]:
        out = []
        for post_id in ids:
            hit = self.entries.get(post_id)
            if hit is None or now - hit[0] >= REFRESH_AHEAD:
                out.append(post_id)
        return out

    async def _render(self, uow: UnitOfWork, ids: list[uuid.UUID], render: Render) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for post_id in ids:
            self.inflight[post_id] = done
        try:
            rendered = await render(uow, ids)
            now = time.monotonic()
            for post_id in ids:
                self.entries[post_id] = (now, rendered.get(post_id))
            if len(self.entries) > 4 * CANDIDATES:
                self.entries = {k: v for k, v in self.entries.items() if now - v[0] < PAGE_TTL}
        finally:
            for post_id in ids:
                if self.inflight.get(post_id) is done:
                    del self.inflight[post_id]
            if not done.done():
                done.set_result(None)

    def _schedule(self, platform: Platform, ids: list[uuid.UUID], render: Render) -> None:
        for post_id in ids:
            if post_id not in self.inflight:
                self.queue[post_id] = None
        if self.queue and (self.task is None or self.task.done()):
            self.task = asyncio.create_task(self._drain(platform, render), name="discover-items")

    async def _drain(self, platform: Platform, render: Render) -> None:
        while self.queue:
            batch = []
            for post_id in list(self.queue)[:REFRESH_BATCH]:
                del self.queue[post_id]
                if post_id not in self.inflight:
                    batch.append(post_id)
            if not batch:
                continue
            try:
                async with platform.unit_of_work(write=False) as uow:
                    await self._render(uow, batch, render)
            except Exception:
                # Readers render what expires themselves; nothing is lost but time.
                log.warning("rendering discover items in the background failed", exc_info=True)
                return


items = RenderedItems()


def _decode(ids: str) -> list[uuid.UUID]:
    return [uuid.UUID(hex=h) for h in ids.split(",") if h]


async def _build(uow: UnitOfWork) -> str:
    now = uow.now()
    posts = await content.recent_posts(uow, now - CANDIDATE_WINDOW, CANDIDATES)
    # Rank only what can be shown: dropping a suspended author's posts after spreading
    # authors out would put one author's posts back side by side.
    hidden = await identity.suspended_among(uow, list({p.author_id for p in posts}))
    posts = [p for p in posts if p.author_id not in hidden]
    ranked = RANKER.rank(
        [
            Candidate(
                p.id,
                p.author_id,
                p.created_at,
                p.like_count,
                p.comment_count,
                p.favorite_count,
                p.share_count,
                p.order_count,
                p.view_count,
            )
            for p in posts
        ],
        now,
    )
    # unique across restarts and state resets, since processes cache snapshots by version
    version = secrets.token_hex(6)
    await uow.state.kv.set(_snap_key(version), ",".join(c.post_id.hex for c in ranked), SNAPSHOT_TTL)
    await uow.state.kv.set(_KEY_LATEST, version, SNAPSHOT_TTL)
    await uow.state.kv.set(_KEY_CURRENT, version, REFRESH)
    return version


async def current_version(uow: UnitOfWork) -> str:
    cached = _current.take(_KEY_CURRENT)
    if isinstance(cached, str):
        return cached
    kv = uow.state.kv
    version = await kv.get(_KEY_CURRENT)
    if version is None:
        latest = await kv.get(_KEY_LATEST)
        if latest is not None:
            # Re-rank off the request path; meanwhile every instance serves the previous order.
            _rerank_soon(uow.platform)
            version = latest
        else:
            version = await _first_build(uow)
    _current.put(_KEY_CURRENT, version, min(5.0, REFRESH))
    return version


_reranking: asyncio.Task[None] | None = None


def _rerank_soon(platform: Platform) -> None:
    global _reranking
    if _reranking is None or _reranking.done():
        _reranking = asyncio.create_task(_rerank_if_due(platform), name="discover-rerank")


async def _rerank_if_due(platform: Platform) -> None:
    """One instance re-ranks (the shared ``building`` lock); the others find it done."""
    try:
        async with platform.unit_of_work(write=False) as uow:
            kv = uow.state.kv
            if not await kv.set_if_absent(_KEY_BUILDING, "1", 30):
                return
            try:
                if await kv.get(_KEY_CURRENT) is None:  # not done by someone just before us
                    _current.put(_KEY_CURRENT, await _build(uow), min(5.0, REFRESH))
            finally:
                await kv.delete(_KEY_BUILDING)
    except Exception:
        log.warning("re-ranking the discover feed failed; serving the previous order", exc_info=True)


async def _first_build(uow: UnitOfWork) -> str:
    """No order yet (a fresh platform): the first request ranks while the others wait for
    it, rather than every request ranking at once."""
    kv = uow.state.kv
    deadline = time.monotonic() + 30
    while True:
        if await kv.set_if_absent(_KEY_BUILDING, "1", 30):
            try:
                return await _build(uow)
            finally:
                await kv.delete(_KEY_BUILDING)
        await asyncio.sleep(0.05)
        version = await kv.get(_KEY_LATEST)
        if version is not None:
            return version
        if time.monotonic() > deadline:  # the builder died holding the lock
            return await _build(uow)


async def snapshot(uow: UnitOfWork, version: str) -> list[uuid.UUID] | None:
    cached = _snapshots.take(version)
    if isinstance(cached, list):
        return cached
    raw = await uow.state.kv.get(_snap_key(version))
    if raw is None:
        return None
    ids = _decode(raw)
    _snapshots.put(version, ids, SNAPSHOT_TTL)
    return ids


def forget_caches() -> None:
    """Drop this process's feed caches (tests and the demo re-rank at once)."""
    global _reranking
    if _reranking is not None and not _reranking.done():
        _reranking.cancel()
    _reranking = None
    _snapshots.clear()
    _current.clear()
    items.clear()


async def rank_again_soon(uow: UnitOfWork) -> None:
    """Make the discover order due now: the next request re-ranks it off its path (each
    process may keep the current order up to five seconds more)."""
    await uow.state.kv.delete(_KEY_CURRENT)


async def rerank(uow: UnitOfWork) -> str:
    forget_caches()
    return await _build(uow)


@dataclass(frozen=True, slots=True)
class DiscoverSlice:
    version: str
    offset: int
    ids: list[uuid.UUID]
    next_cursor: str | None
    ahead: list[uuid.UUID] = field(default_factory=list)  # the next page's ids, likely asked for next


async def discover_slice(uow: UnitOfWork, params: PageParams) -> DiscoverSlice:
    if params.cursor:
        version, offset = decode_cursor(params.cursor, 2)
        if (
            not isinstance(version, str)
            or not isinstance(offset, int)
            or isinstance(offset, bool)
            or not 0 <= offset <= CANDIDATES
        ):
            raise BadRequest("The cursor is not one this list gave out.", code="invalid_cursor")
        ids = await snapshot(uow, version)
        if ids is None:  # expired: a new session starts at the top of today's order
            version, offset = await current_version(uow), 0
            ids = await snapshot(uow, version) or []
    else:
        version, offset = await current_version(uow), 0
        ids = await snapshot(uow, version) or []
    end = offset + params.limit
    next_cursor = encode_cursor([version, end]) if end < len(ids) else None
    return DiscoverSlice(version, offset, ids[offset:end], next_cursor, ids[end : end + params.limit])


async def following_feed(uow: UnitOfWork, viewer: Principal, params: PageParams) -> tuple[list[PostView], str | None]:
    from grassroots.social import service as social  # social reads content; flow reads both

    authors = await social.following_ids(uow, viewer.id)
    hidden = await identity.suspended_among(uow, authors)
    return await content.posts_by_authors(uow, [a for a in authors if a not in hidden], params)


# ------------------------------------------------------------------ events


@dataclass(frozen=True, slots=True)
class EventIn:
    type: str
    post_id: uuid.UUID
    ms: int | None = None


async def record_events(
    uow: UnitOfWork,
    viewer: Principal | None,
    visitor_id: str | None,
    events: Sequence[EventIn],
    sender: str | None = None,
) -> int:
    """Store the events about live posts (others are dropped) and count views, once per
    viewer and post per half hour. Returns how many were kept."""
    if len(events) > MAX_EVENTS:
        raise Invalid(f"At most {MAX_EVENTS} events per batch.", code="too_many_events", fields={"events": "too many"})
    if sender is not None:  # an account, else a network address: a scroll sends a few batches a minute
        decision = await uow.state.limiter.hit(f"events:{sender}", EVENT_BATCHES, 60)
        if not decision.allowed:
            raise RateLimited("Too many events; slow down.", retry_after=int(decision.retry_after) + 1)
    live = await content.live_post_ids(uow, [e.post_id for e in events])
    kept = [e for e in events if e.post_id in live]
    now = uow.now()
    # Members and visitors in separate key spaces: a visitor cookie may be any string, even a member's id.
    viewer_key = f"u:{viewer.id}" if viewer else (f"v:{visitor_id}" if visitor_id else None)
    views: dict[uuid.UUID, int] = {}
    for e in kept:
        if (
            e.type == "view"
            and viewer_key
            and e.post_id not in views
            and await uow.state.kv.set_if_absent(f"view:{e.post_id}:{viewer_key}", "1", VIEW_DEDUPE_SECONDS)
        ):
            views[e.post_id] = 1
    await repository.add_events(
        uow.session,
        [
            FlowEvent(
                type=e.type,
                post_id=e.post_id,
                user_id=viewer.id if viewer else None,
                visitor_id=None if viewer else visitor_id,
                ms=e.ms,
                created_at=now,
            )
            for e in kept
        ],
    )
    if views:
        await content.bump_many(uow, "views", views)
    return len(kept)


# ------------------------------------------------------------------ search

SEARCH_TYPES = ("products", "posts", "users")
_KINDS = {"products": "product", "posts": "post", "users": "user"}
MAX_TERMS = 5
MAX_SEARCH_OFFSET = 10_000  # deeper than anyone scrolls; refine the query instead


def terms_of(q: str) -> list[str]:
    # Pages show people as @handle: "@mei" is a search for mei.
    words = (t.lstrip("@") for t in q.lower().split())
    terms = list(dict.fromkeys(t[:50] for t in words if t))[:MAX_TERMS]
    if not terms:
        raise Invalid("Type something to search for.", code="empty_query", fields={"q": "empty"})
    return terms


@dataclass
class SearchResults:
    products: list[Product]
    posts: list[PostView]
    users: list[User]
    next_cursor: str | None


async def search(uow: UnitOfWork, q: str, type_: str, params: PageParams) -> SearchResults:
    if type_ not in SEARCH_TYPES:
        raise Invalid("Search products, posts or users.", code="invalid_type", fields={"type": type_})
    terms = terms_of(q)
    offset = 0
    if params.cursor:
        (offset,) = decode_cursor(params.cursor, 1)
        if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_SEARCH_OFFSET:
            raise BadRequest("The cursor is not one this list gave out.", code="invalid_cursor")
    hits = await repository.search(uow.session, _KINDS[type_], terms, offset, params.limit + 1)
    more = len(hits) > params.limit and offset + params.limit <= MAX_SEARCH_OFFSET  # the list ends at the cap
    next_cursor = encode_cursor([offset + params.limit]) if more else None
    ids = [h[0] for h in hits[: params.limit]]
    out = SearchResults([], [], [], next_cursor)
    if type_ == "products":
        found = await catalog.products_by_id(uow, ids)
        out.products = [found[i] for i in ids if i in found and found[i].status == ProductStatus.active]
    elif type_ == "posts":
        out.posts = await content.views(uow, ids)
    else:
        users = await identity.users_by_id(uow, ids)
        out.users = [users[i] for i in ids if i in users and users[i].disabled_at is None]
    return out


# -- keeping the index (called by tasks.py on domain events)


async def index_product(uow: UnitOfWork, product_id: uuid.UUID) -> None:
    found = await catalog.products_by_id(uow, [product_id])
    p = found.get(product_id)
    if p is None or p.status != ProductStatus.active:
        # Off sale, it is not searchable at all: not even a hit that is filtered out later
        # (a next page would tell a draft's words apart from others).
        await repository.delete_doc(uow.session, "product", product_id)
        return
    text = " ".join([p.title, p.category, p.description]).lower()
    await repository.upsert_doc(uow.session, "product", p.id, p.title, text, p.sold_units, p.created_at)


async def index_post(uow: UnitOfWork, post_id: uuid.UUID) -> None:
    # A suspended author's posts stay indexed (search leaves them out when it shows hits),
    # so they come back with the account.
    found = await content.views(uow, [post_id], of_suspended=True)
    if not found:
        await repository.delete_doc(uow.session, "post", post_id)
        return
    v = found[0]
    p = v.post
    text = " ".join([p.title, p.body, *("#" + t for t in v.hashtags), v.author_handle]).lower()
    await repository.upsert_doc(uow.session, "post", p.id, p.title, text, _popularity(p), p.created_at)


def _popularity(p: Post) -> int:
    return p.like_count + 2 * p.comment_count + 2 * p.favorite_count + 5 * p.order_count


async def index_user(uow: UnitOfWork, user_id: uuid.UUID) -> None:
    users = await identity.users_by_id(uow, [user_id])
    u = users.get(user_id)
    # Operators are staff, not people to find: their handles are not offered to anyone
    # who might pose as one.
    if u is None or u.disabled_at is not None or u.role == Role.admin:
        await repository.delete_doc(uow.session, "user", user_id)
        return
    await repository.upsert_doc(uow.session, "user", u.id, u.handle, u.handle.lower(), 0, u.created_at)


REINDEX_PAGE = 200


async def reindex(platform: Platform, progress: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Rebuild the search index from the products on sale, the live posts and the accounts
    (after an upgrade from before search existed, or to refresh popularity). A page per
    transaction; safe to run while the platform serves."""
    counts = {"products": 0, "posts": 0, "users": 0}
    report = progress or (lambda kind, n: None)
    async with platform.unit_of_work() as uow:  # products taken off sale since they were indexed
        await repository.delete_docs_not_in(uow.session, "product", catalog.on_sale_ids())
    for kind in counts:
        cursor: str | None = None
        while True:
            async with platform.unit_of_work() as uow:
                params = PageParams(cursor, REINDEX_PAGE)
                if kind == "products":
                    products, cursor = await catalog.list_products(uow, params, None)
                    for p in products:
                        await index_product(uow, p.id)
                    n = len(products)
                elif kind == "posts":
                    posts, cursor = await content.live_posts_page(uow, params)
                    for post in posts:
                        await index_post(uow, post.id)
                    n = len(posts)
                else:
                    users, cursor = await identity.list_users(uow, params)
                    for u in users:
                        await index_user(uow, u.id)
                    n = len(users)
            counts[kind] += n
            report(kind, counts[kind])
            if cursor is None:
                break
    return counts


async def refresh_product_popularity(platform: Platform) -> int:
    """Products on sale rank by units sold, which a sale changes without a product event:
    set it from the catalog, a page per transaction (SQLite has one writer)."""
    after: uuid.UUID | None = None
    done = 0
    while True:
        async with platform.unit_of_work() as uow:
            rows = await catalog.sales_page(uow, after, REINDEX_PAGE)
            await repository.set_popularity(uow.session, "product", dict(rows))
        done += len(rows)
        if len(rows) < REINDEX_PAGE:
            return done
        after = rows[-1][0]


async def refresh_recent_posts(uow: UnitOfWork) -> int:
    """Re-index the posts of the discover window, so search ranks them by today's engagement."""
    posts = await content.recent_posts(uow, uow.now() - CANDIDATE_WINDOW, CANDIDATES)
    # One statement for them all: on SQLite every write waits while this transaction runs.
    await repository.set_popularity(uow.session, "post", {p.id: _popularity(p) for p in posts})
    return len(posts)
