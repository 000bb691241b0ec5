"""Flow: the feeds (following, discover), behaviour events and keyword search.

The discover feed ranks a snapshot of recent posts every ``REFRESH`` seconds and pages
through that frozen order, so a viewer never sees a post twice while scrolling and the
per-request work is a slice plus a cached page. Snapshots live in the shared state
(Redis in production), so every instance pages the same order."""

from __future__ import annotations

import secrets
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from grassroots.catalog import service as catalog
from grassroots.catalog.models import Product, ProductStatus
from grassroots.content import service as content
from grassroots.content.service import PostView
from grassroots.flow import repository
from grassroots.flow.models import FlowEvent
from grassroots.flow.ranking import Candidate, EngagementRanker, Ranker
from grassroots.identity import service as identity
from grassroots.identity.models import User
from grassroots.kernel.auth import Principal
from grassroots.kernel.errors import BadRequest, Invalid
from grassroots.kernel.pagination import PageParams, decode_cursor, encode_cursor
from grassroots.kernel.uow import UnitOfWork

RANKER: Ranker = EngagementRanker()
REFRESH = 60  # seconds between re-rankings
SNAPSHOT_TTL = 2 * 3600  # a cursor into a snapshot stays valid this long
CANDIDATE_WINDOW = timedelta(days=30)
CANDIDATES = 3000
VIEW_DEDUPE_SECONDS = 1800  # one viewer's views of one post count once per half hour
EVENT_TYPES = ("impression", "view", "click")
MAX_EVENTS = 100

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
pages = _Lru(512)  # rendered discover pages, keyed by the API (see api.py)
PAGE_TTL = 5.0  # seconds a rendered page is reused; counters on it are this stale at most


def _decode(ids: str) -> list[uuid.UUID]:
    return [uuid.UUID(hex=h) for h in ids.split(",") if h]


async def _build(uow: UnitOfWork) -> str:
    now = uow.now()
    posts = await content.recent_posts(uow, now - CANDIDATE_WINDOW, CANDIDATES)
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
        # One instance re-ranks; the others keep serving the previous order meanwhile.
        if await kv.set_if_absent(_KEY_BUILDING, "1", 30):
            try:
                version = await _build(uow)
            finally:
                await kv.delete(_KEY_BUILDING)
        else:
            version = await kv.get(_KEY_LATEST) or await _build(uow)
    _current.put(_KEY_CURRENT, version, min(5.0, REFRESH))
    return version


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
    _snapshots.clear()
    _current.clear()
    pages.clear()


async def rerank(uow: UnitOfWork) -> str:
    forget_caches()
    return await _build(uow)


@dataclass(frozen=True, slots=True)
class DiscoverSlice:
    version: str
    offset: int
    ids: list[uuid.UUID]
    next_cursor: str | None


async def discover_slice(uow: UnitOfWork, params: PageParams) -> DiscoverSlice:
    if params.cursor:
        version, offset = decode_cursor(params.cursor, 2)
        if not isinstance(version, str) or not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
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
    return DiscoverSlice(version, offset, ids[offset:end], next_cursor)


async def following_feed(uow: UnitOfWork, viewer: Principal, params: PageParams) -> tuple[list[PostView], str | None]:
    from grassroots.social import service as social  # social reads content; flow reads both

    authors = await social.following_ids(uow, viewer.id)
    return await content.posts_by_authors(uow, authors, params)


# ------------------------------------------------------------------ events


@dataclass(frozen=True, slots=True)
class EventIn:
    type: str
    post_id: uuid.UUID
    ms: int | None = None


async def record_events(
    uow: UnitOfWork, viewer: Principal | None, visitor_id: str | None, events: Sequence[EventIn]
) -> int:
    """Store the events about live posts (others are dropped) and count views, once per
    viewer and post per half hour. Returns how many were kept."""
    if len(events) > MAX_EVENTS:
        raise Invalid(f"At most {MAX_EVENTS} events per batch.", code="too_many_events", fields={"events": "too many"})
    live = await content.live_post_ids(uow, [e.post_id for e in events])
    kept = [e for e in events if e.post_id in live]
    now = uow.now()
    viewer_key = str(viewer.id) if viewer else visitor_id
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


def terms_of(q: str) -> list[str]:
    terms = list(dict.fromkeys(t[:50] for t in q.lower().split() if t))[:MAX_TERMS]
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
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            raise BadRequest("The cursor is not one this list gave out.", code="invalid_cursor")
    hits = await repository.search(uow.session, _KINDS[type_], terms, offset, params.limit + 1)
    next_cursor = encode_cursor([offset + params.limit]) if len(hits) > params.limit else None
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
    if p is None:
        await repository.delete_doc(uow.session, "product", product_id)
        return
    text = " ".join([p.title, p.category, p.description]).lower()
    await repository.upsert_doc(uow.session, "product", p.id, p.title, text, p.sold_units, p.created_at)


async def index_post(uow: UnitOfWork, post_id: uuid.UUID) -> None:
    found = await content.views(uow, [post_id])
    if not found:
        await repository.delete_doc(uow.session, "post", post_id)
        return
    v = found[0]
    p = v.post
    text = " ".join([p.title, p.body, *("#" + t for t in v.hashtags), v.author_handle]).lower()
    popularity = p.like_count + 2 * p.comment_count + 2 * p.favorite_count + 5 * p.order_count
    await repository.upsert_doc(uow.session, "post", p.id, p.title, text, popularity, p.created_at)


async def index_user(uow: UnitOfWork, user_id: uuid.UUID) -> None:
    users = await identity.users_by_id(uow, [user_id])
    u = users.get(user_id)
    if u is None:
        return
    await repository.upsert_doc(uow.session, "user", u.id, u.handle, u.handle.lower(), 0, u.created_at)
