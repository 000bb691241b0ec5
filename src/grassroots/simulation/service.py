"""The demo platform: a believable small marketplace, filled through the services (never
raw SQL) and deterministic for a given seed.

Six suppliers with sixty products in the affiliate pool; two MCNs with twelve creators
under contract, each with a showcase; two hundred shoppers who follow creators (the
well-known ones more) and a few each other; some three hundred notes and short videos
with generated covers, tagging showcase products, and shoppers' everyday notes; likes,
favourites, comments and the authors' replies; share links and their clicks; and orders
in every state (awaiting payment, paid, shipped, received, return requested, settled,
refunded, cancelled), attributed to posts, share links and showcases, paid through the
sandbox provider with money moving through the ledger like any order's. Events are
delivered while seeding goes on, so search, feeds and notifications work at once.

Seeding runs on its own clock across the last six weeks and leaves it at the real time:
settled orders really did wait out their return window. One account per role has
printed logins; every demo account shares the same password.

The amounts are sized so that ``grassroots demo`` builds the world in well under half a
minute: every like, follow and event delivery is a real transaction.
"""

from __future__ import annotations

import asyncio
import io
import math
import random
import secrets
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from grassroots.affiliate import service as affiliate
from grassroots.catalog import service as catalog
from grassroots.catalog.schemas import ProductIn, SkuIn
from grassroots.commerce import service as commerce
from grassroots.commerce.schemas import AddressIn, ItemIn, OrderIn, SourceIn
from grassroots.content import service as content
from grassroots.content.schemas import PostIn
from grassroots.flow import service as flow
from grassroots.identity import service as identity
from grassroots.kernel import events
from grassroots.kernel.auth import Principal, Role
from grassroots.kernel.clock import FixedClock, utcnow
from grassroots.kernel.platform import Platform
from grassroots.kernel.uow import UnitOfWork
from grassroots.mcn import service as mcn
from grassroots.payments import sandbox
from grassroots.simulation import covers, video, world
from grassroots.social import service as social

DEMO_PASSWORD = "grassroots-demo"  # noqa: S105 - printed for demo logins

N_CONSUMERS = 200
N_CREATOR_POSTS = 240
N_CONSUMER_NOTES = 45
VIDEO_SHARE = 0.1  # of creator posts


@dataclass(frozen=True, slots=True)
class DemoAccount:
    role: Role
    email: str
    handle: str
    password: str = DEMO_PASSWORD


DEMO_ACCOUNTS = (
    DemoAccount(Role.consumer, "shopper@example.com", "mei_shops"),
    DemoAccount(Role.creator, "creator@example.com", "lin_creates"),
    DemoAccount(Role.supplier, "supplier@example.com", "greenleaf_tea"),
    DemoAccount(Role.mcn, "mcn@example.com", "starlight_mcn"),
    DemoAccount(Role.admin, "admin@example.com", "ops_desk"),
)

Progress = Callable[[str, int, int], None]
Fate = Literal[
    "unpaid",
    "cancelled",
    "paid",
    "refunded_unshipped",
    "shipped",
    "received",
    "return_requested",
    "returned",
    "settled",
]


@dataclass(frozen=True, slots=True)
class DemoProduct:
    id: uuid.UUID
    spec: world.ProductSpec
    supplier: Principal
    skus: tuple[uuid.UUID, ...]


@dataclass(frozen=True, slots=True)
class DemoPost:
    id: uuid.UUID
    author: Principal
    title: str
    at: datetime
    products: tuple[DemoProduct, ...]


@dataclass(frozen=True, slots=True)
class DemoLink:
    token: str
    owner: Principal
    product: DemoProduct
    at: datetime


@dataclass
class World:
    """What seeding has made so far, in creation order (never ordered by random ids)."""

    platform: Platform
    clock: FixedClock
    rng: random.Random
    now: datetime
    report: Progress
    joined: dict[uuid.UUID, datetime] = field(default_factory=dict)
    suppliers: list[Principal] = field(default_factory=list)
    mcns: list[Principal] = field(default_factory=list)
    creators: list[Principal] = field(default_factory=list)
    consumers: list[Principal] = field(default_factory=list)
    admin: Principal | None = None
    products: list[DemoProduct] = field(default_factory=list)
    showcases: dict[uuid.UUID, list[DemoProduct]] = field(default_factory=dict)
    reach: dict[uuid.UUID, float] = field(default_factory=dict)
    followers: dict[uuid.UUID, list[Principal]] = field(default_factory=dict)
    posts: list[DemoPost] = field(default_factory=list)
    links: list[DemoLink] = field(default_factory=list)
    comments_left: dict[uuid.UUID, int] = field(default_factory=dict)
    password_hash: str | None = None  # one strong hash of the demo password, for every account
    drainer: asyncio.Task[int] | None = None

    def ago(self, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        return self.now - timedelta(days=days, hours=hours, minutes=minutes)

    def at(self, when: datetime) -> None:
        self.clock.set(min(when, self.now))

    def step(self, stage: str, done: int, total: int) -> None:
        """Report progress; every few steps, deliver the events emitted meanwhile."""
        self.report(stage, done, total)
        if done % 10 == 0 or done == total:
            self.kick()

    def kick(self) -> None:
        """Deliver the events emitted so far (search index, notifications, counters) in the
        background, while seeding goes on: handlers run while seeding waits on the database."""
        if self.drainer is None or self.drainer.done():
            self.drainer = asyncio.create_task(events.dispatch_pending(self.platform))

    async def drain(self) -> None:
        """Deliver every event emitted so far before going on."""
        if self.drainer is not None:
            await self.drainer
        await events.dispatch_pending(self.platform)


# ------------------------------------------------------------------ entry point


async def seed_demo(platform: Platform, seed: int = 42, progress: Progress | None = None) -> list[DemoAccount]:
    """Build the demo. ``platform`` must run on a ``FixedClock``: seeding moves it through the
    last six weeks and leaves it at the real time. Handlers of the events seeding emits
    (``grassroots.domains.load_tasks``) should be loaded: they run as seeding goes."""
    clock = platform.clock
    assert isinstance(clock, FixedClock), "seed the demo on a FixedClock"
    w = World(
        platform,
        clock,
        random.Random(seed),  # noqa: S311 - demo data, not secrets
        utcnow().replace(microsecond=0),
        progress or (lambda stage, done, total: None),
    )
    painter = ThreadPoolExecutor(max_workers=2, thread_name_prefix="demo-covers")
    try:
        w.password_hash = await identity.hash_password(platform.settings.env, DEMO_PASSWORD)
        await _accounts(w)
        await _catalogue(w)
        await _showcases_and_contracts(w)
        planned = _plan_posts(w, painter)
        await _follows(w)
        await _posts(w, planned)
        await _engagement(w)
        await _share_links(w)
        await w.drain()  # payment webhooks are delivered by hand (sandbox.deliver_locally), not in the background
        await _orders(w)
        w.at(w.now)
        await w.drain()
        # Search ranks by engagement and sales as the hourly job would have by now.
        async with platform.unit_of_work() as uow:
            await flow.refresh_recent_posts(uow)
        await flow.refresh_product_popularity(platform)
    finally:
        painter.shutdown(cancel_futures=True)
        if w.drainer is not None and not w.drainer.done():
            w.drainer.cancel()
            with suppress(asyncio.CancelledError):
                await w.drainer
        w.at(w.now)
    return list(DEMO_ACCOUNTS)


# ------------------------------------------------------------------ accounts


async def _signup(w: World, email: str, handle: str, role: Role, when: datetime) -> Principal:
    w.at(when)
    async with w.platform.unit_of_work() as uow:
        user = await identity.signup(
            uow,
            email=email,
            password=DEMO_PASSWORD,
            handle=handle,
            role=role,
            allow_admin=role == Role.admin,
            password_hash=w.password_hash,
        )
        principal = identity.principal_of(user)
    w.joined[principal.id] = when
    w.comments_left[principal.id] = w.platform.settings.comment_limit
    return principal


def _consumer_handles(rng: random.Random, n: int) -> list[str]:
    taken = {a.handle for a in DEMO_ACCOUNTS} | {c.handle for c in world.CREATORS}
    handles: list[str] = []
    while len(handles) < n:
        handle = rng.choice(world.GIVEN_NAMES) + rng.choice(world.NAME_TAILS)
        if rng.random() < 0.5 or handle in taken or len(handle) < 3:
            handle += str(rng.randint(1, 99))
        if handle not in taken:
            taken.add(handle)
            handles.append(handle)
    return handles


async def _accounts(w: World) -> None:
    shopper, creator, _, _, admin = DEMO_ACCOUNTS
    plan: list[tuple[str, str, Role, datetime]] = [(admin.email, admin.handle, Role.admin, w.ago(days=45))]
    plan += [(s.email, s.handle, Role.supplier, w.ago(days=44, hours=-3 * i)) for i, s in enumerate(world.SUPPLIERS)]
    plan += [(email, handle, Role.mcn, w.ago(days=42, hours=-5 * i)) for i, (handle, email) in enumerate(world.MCNS)]
    plan += [
        (creator.email if c.handle == creator.handle else f"{c.handle}@example.com", c.handle, Role.creator, when)
        for i, c in enumerate(world.CREATORS)
        for when in [w.ago(days=40 - i * 0.5, hours=w.rng.uniform(0, 10))]
    ]
    consumers = [shopper.handle, *_consumer_handles(w.rng, N_CONSUMERS - 1)]
    plan += [
        (shopper.email if h == shopper.handle else f"{h}@example.com", h, Role.consumer, when)
        for i, h in enumerate(consumers)
        for when in [w.ago(days=34 - 16 * i / N_CONSUMERS, hours=w.rng.uniform(0, 2))]
    ]
    for i, (email, handle, role, when) in enumerate(plan, start=1):
        person = await _signup(w, email, handle, role, when)
        if role == Role.admin:
            w.admin = person
        else:
            {Role.supplier: w.suppliers, Role.mcn: w.mcns, Role.creator: w.creators, Role.consumer: w.consumers}[
                role
            ].append(person)
        w.step("accounts", i, len(plan))


# ------------------------------------------------------------------ catalogue, showcases, contracts


async def _catalogue(w: World) -> None:
    total = sum(len(s.products) for s in world.SUPPLIERS)
    done = 0
    for supplier, spec in zip(w.suppliers, world.SUPPLIERS, strict=True):
        for p in spec.products:
            w.at(w.joined[supplier.id] + timedelta(days=1, minutes=37 * done))
            async with w.platform.unit_of_work() as uow:
                product = await catalog.create_product(
                    uow,
                    supplier,
                    ProductIn(
                        title=p.title,
                        description=f"{p.blurb} {p.en}. {spec.city} 发货，48 小时内发出。Ships within 48 hours.",
                        category=p.category,
                        commission_bps=p.commission_pct * 100,
                        skus=[
                            SkuIn(
                                name=name,
                                price_minor=round(p.price * 100) + j * round(p.price * 40),
                                currency="CNY",
                                stock=w.rng.randint(80, 400),
                            )
                            for j, name in enumerate(p.skus)
                        ],
                    ),
                )
                w.products.append(DemoProduct(product.id, p, supplier, tuple(s.id for s in product.skus)))
            done += 1
            w.step("products", done, total)


async def _showcases_and_contracts(w: World) -> None:
    """Each creator picks products of their niche from the pool, then signs with an MCN."""
    for i, (creator, spec) in enumerate(zip(w.creators, world.CREATORS, strict=True), start=1):
        w.reach[creator.id] = spec.reach
        carried = [p for p in w.products if p.supplier.handle == spec.carries]
        niche = [p for p in w.products if p.spec.category in spec.niche and p not in carried]
        others = [p for p in w.products if p.spec.category not in spec.niche and p not in carried]
        n_niche = w.rng.randint(8, 14) - len(carried) // 2
        picks = carried + w.rng.sample(niche, min(len(niche), n_niche)) + w.rng.sample(others, 2)
        agency = w.mcns[spec.mcn]
        w.at(w.ago(days=30, hours=-i))
        async with w.platform.unit_of_work() as uow:
            for product in picks:
                await affiliate.add_to_showcase(uow, creator, product.id)
            contract = await mcn.offer(uow, agency, creator.id, spec.share_pct * 100)
        w.showcases[creator.id] = picks
        w.at(w.ago(days=29, hours=-i))
        async with w.platform.unit_of_work() as uow:
            await mcn.accept(uow, creator, contract.id)
        w.step("showcases & contracts", i, len(w.creators))


# ------------------------------------------------------------------ the social graph


def _weighted_sample(
    rng: random.Random, people: Sequence[Principal], weights: Sequence[float], k: int
) -> list[Principal]:
    pool, wts = list(people), list(weights)
    chosen: list[Principal] = []
    while pool and len(chosen) < k:
        i = rng.choices(range(len(pool)), weights=wts)[0]
        chosen.append(pool.pop(i))
        wts.pop(i)
    return chosen


async def _follows(w: World) -> None:
    """Shoppers follow a few creators (the well-known ones more often) and a few friends;
    creators follow some of each other."""
    creators, consumers = w.creators, w.consumers
    weights = [w.reach[c.id] for c in creators]
    people = [*creators, *consumers]
    for i, person in enumerate(people, start=1):
        if person.role == Role.creator:
            followees = w.rng.sample([c for c in creators if c.id != person.id], w.rng.randint(1, 3))
        else:
            shopper = person.id == consumers[0].id  # the printed shopper follows many
            followees = _weighted_sample(w.rng, creators, weights, 6 if shopper else w.rng.randint(1, 3))
            if shopper and creators[0] not in followees:
                followees[0] = creators[0]
            n_friends = 4 if shopper else w.rng.choice((0, 0, 0, 1, 1, 2))
            followees += w.rng.sample([c for c in consumers if c.id != person.id], n_friends)
        start = w.joined[person.id] + timedelta(hours=1)
        times = sorted(start + (w.ago(days=1) - start) * w.rng.random() for _ in followees)
        async with w.platform.unit_of_work() as uow:
            for followee, when in zip(followees, times, strict=True):
                w.at(when)
                await social.follow(uow, person, followee.id)
                w.followers.setdefault(followee.id, []).append(person)
        w.step("follows", i, len(people))


# ------------------------------------------------------------------ posts


def _short(en: str) -> str:
    return en.split(",")[0]


def _creator_post(w: World, creator: Principal, spec: world.CreatorSpec, as_video: bool) -> tuple[PostIn, list[str]]:
    rng = w.rng
    showcase = w.showcases[creator.id]
    main = rng.choice(showcase)
    related = [p for p in showcase if p is not main and p.spec.category == main.spec.category]
    tagged = [main, *rng.sample(related, min(len(related), rng.choice((0, 0, 1, 2))))]
    template = rng.choice(world.VIDEO_TITLES if as_video else world.POST_TITLES)
    title = template.format(cn=main.spec.cn, en=_short(main.spec.en), pcn=spec.persona_cn, pen=spec.persona_en)[:100]
    extra = "".join(f"\n· {p.spec.cn} {_short(p.spec.en)}：{p.spec.blurb}" for p in tagged[1:])
    body = (
        f"{rng.choice(world.POST_OPENERS)}\n\n{main.spec.cn}：{main.spec.blurb}"
        f"{extra}\n\n分享{spec.persona_cn}这么久，{rng.choice(('真心推荐', '会一直回购', '这是我用过最顺手的'))}。"
        f" I make content about {spec.persona_en}.\n\n{rng.choice(world.POST_CLOSERS)}"
    )
    cn_tag, en_tag = world.CATEGORY_TAGS[main.spec.category]
    tags = [cn_tag, en_tag, rng.choice(("好物分享", "种草", "真实测评", "nofilter"))]
    captions = [title, *(_short(p.spec.en) for p in tagged), rng.choice(("Details", "Before / after", "Texture"))]
    n_images = 1 if as_video else rng.choices((1, 2, 3), weights=(16, 3, 1))[0]
    post = PostIn(
        kind="video" if as_video else "note",
        title=title,
        body=body,
        product_ids=[p.id for p in tagged],
        hashtags=tags,
    )
    return post, [f"#{en_tag}", *captions[:n_images]]


def _consumer_note(w: World) -> tuple[PostIn, list[str]]:
    rng = w.rng
    cn, en, tag = rng.choice(world.CONSUMER_NOTES)
    city_cn, city_en = rng.choice(world.CITIES)
    title = f"{cn.format(city=city_cn)} {en.format(city_en=city_en)}"
    post = PostIn(kind="note", title=title, body=rng.choice(world.CONSUMER_NOTE_BODIES), hashtags=[tag, "日常"])
    return post, [f"#{tag}", title, *(["More photos"] if rng.random() < 0.3 else [])]


@dataclass(frozen=True, slots=True)
class PlannedPost:
    author: Principal
    data: PostIn
    at: datetime
    media: Future[tuple[list[bytes], bytes | None]]  # images, and the video made from the first


def _render(label: str, texts: list[str], seed: int, as_video: bool) -> tuple[list[bytes], bytes | None]:
    rng = random.Random(seed)  # noqa: S311 - demo pictures
    images = [covers.cover(covers.ascii_part(t), label, rng) for t in texts]
    return images, video.pan_clip(images[0]) if as_video else None


def _plan_posts(w: World, painter: ThreadPoolExecutor) -> list[PlannedPost]:
    """Creators post about their showcase, the popular ones more often; shoppers post a
    few everyday notes. Oldest first, over the last three weeks. The pictures are painted
    in the background while seeding goes on."""
    specs = {c.id: s for c, s in zip(w.creators, world.CREATORS, strict=True)}
    total_reach = sum(w.reach.values())
    authors: list[Principal] = []
    for c in w.creators:
        authors += [c] * max(8, round(N_CREATOR_POSTS * w.reach[c.id] / total_reach))
    authors += w.rng.choices(w.consumers[: N_CONSUMERS // 2], k=N_CONSUMER_NOTES)
    w.rng.shuffle(authors)
    times = sorted(w.ago(days=21) + (w.ago(minutes=30) - w.ago(days=21)) * w.rng.random() for _ in authors)
    plan = []
    for author, when in zip(authors, times, strict=True):
        as_video = author.role == Role.creator and w.rng.random() < VIDEO_SHARE
        if author.role == Role.creator:
            data, captions = _creator_post(w, author, specs[author.id], as_video)
        else:
            data, captions = _consumer_note(w)
        label, *texts = captions
        media = painter.submit(_render, label, texts, w.rng.getrandbits(64), as_video)
        plan.append(PlannedPost(author, data, when, media))
    return plan


async def _posts(w: World, plan: list[PlannedPost]) -> None:
    by_id = {p.id: p for p in w.products}
    for i, planned in enumerate(plan, start=1):
        author, data = planned.author, planned.data
        images, clip = await asyncio.wrap_future(planned.media)
        w.at(planned.at)
        async with w.platform.unit_of_work() as uow:
            if clip is not None:
                media = [await _upload(uow, author, clip, cover=images[0])]
            else:
                media = [await _upload(uow, author, image) for image in images]
            view = await content.create_post(uow, author, data.model_copy(update={"media_ids": media}))
        w.posts.append(
            DemoPost(view.post.id, author, data.title, planned.at, tuple(by_id[p] for p in data.product_ids))
        )
        w.step("posts", i, len(plan))


async def _upload(uow: UnitOfWork, owner: Principal, data: bytes, cover: bytes | None = None) -> uuid.UUID:
    media = await content.upload_media(
        uow, owner, io.BytesIO(data), len(data), io.BytesIO(cover) if cover else None, len(cover or b"")
    )
    return media.id


# ------------------------------------------------------------------ engagement


def _audience(w: World, post: DemoPost, k: int) -> list[Principal]:
    """Who reacts to a post: mostly the author's followers, then anyone."""
    fans = [p for p in w.followers.get(post.author.id, []) if p.role == Role.consumer and w.joined[p.id] < post.at]
    others = [p for p in w.consumers if w.joined[p.id] < post.at]
    chosen = w.rng.sample(fans, min(len(fans), round(k * 0.7)))
    seen = {p.id for p in chosen}
    rest = [p for p in others if p.id not in seen and p.id != post.author.id]
    chosen += w.rng.sample(rest, min(len(rest), k - len(chosen)))
    return chosen


def _later(w: World, after: datetime, mean_hours: float) -> datetime:
    return min(after + timedelta(hours=w.rng.expovariate(1 / mean_hours)), w.ago(minutes=1))


async def _comment(
    w: World, uow: UnitOfWork, who: Principal, post: DemoPost, text: str, reply_to: uuid.UUID | None = None
) -> uuid.UUID | None:
    """Comment within the per-user rate limit (comments per minute): seeding takes less
    than a minute, so nobody comments more often than the limit allows."""
    if w.comments_left.get(who.id, 0) <= 0:
        return None
    w.comments_left[who.id] -= 1
    record, _ = await social.comment(uow, who, post.id, text, reply_to)
    return record.id


BUSY_COMMENTS = (0, 1, 1, 2)  # on posts by the best-known creators
QUIET_COMMENTS = (0, 0, 0, 1, 1, 2)


async def _engagement(w: World) -> None:
    """Likes, favourites, comments and the author's replies, in the hours after each post."""
    for i, post in enumerate(w.posts, start=1):
        creator_post = post.author.role == Role.creator
        scale = w.reach.get(post.author.id, 0.4)
        n_likes = min(80, round(w.rng.lognormvariate(math.log(0.65 + 0.65 * scale), 1.0)))  # a few go viral
        likers = _audience(w, post, n_likes)
        n_comments = (
            w.rng.choice(BUSY_COMMENTS if scale >= 3 else QUIET_COMMENTS)
            if creator_post
            else w.rng.choice((0, 0, 0, 1))
        )
        async with w.platform.unit_of_work() as uow:
            for person in likers:
                w.at(_later(w, post.at, 10))
                await social.like(uow, person, post.id)
                if w.rng.random() < 0.22:
                    await social.favorite(uow, person, post.id)
            for person in w.rng.sample(likers, min(len(likers), n_comments)):
                w.at(_later(w, post.at, 8))
                comment_id = await _comment(w, uow, person, post, w.rng.choice(world.COMMENTS))
                if comment_id and creator_post and w.rng.random() < 0.2:
                    w.at(_later(w, w.clock.now(), 3))
                    await _comment(w, uow, post.author, post, w.rng.choice(world.REPLIES), comment_id)
            # far more people see a post than react to it (view events are not replayed one by one)
            await content.bump(uow, post.id, views=len(likers) * w.rng.randint(6, 14) + w.rng.randint(8, 60))
        w.step("likes & comments", i, len(w.posts))


async def _share_links(w: World) -> None:
    """Shoppers share products from the posts of creators they follow; others click."""
    candidates = [p for p in w.posts if p.products]
    n = 40
    for i in range(1, n + 1):
        post = w.rng.choice(candidates)
        fans = [p for p in w.followers.get(post.author.id, []) if p.role == Role.consumer]
        owner = w.rng.choice(fans or w.consumers)
        product = w.rng.choice(post.products)
        w.at(_later(w, post.at, 12))
        async with w.platform.unit_of_work() as uow:
            link, _ = await affiliate.create_share_link(uow, owner, product.id, post.id)
            shared = DemoLink(link.token, owner, product, w.clock.now())
            for clicker in w.rng.sample(w.consumers, w.rng.randint(0, 4)):
                w.at(_later(w, shared.at, 6))
                await affiliate.click(uow, link.token, clicker.id if clicker.id != owner.id else None, None)
            for _ in range(w.rng.randint(0, 3)):  # visitors without an account
                await affiliate.click(uow, link.token, None, affiliate.new_visitor_id())
        w.links.append(shared)
        w.step("share links", i, n)


# ------------------------------------------------------------------ orders


@dataclass(frozen=True, slots=True)
class PlannedOrder:
    at: datetime
    buyer: Principal
    product: DemoProduct
    source: str  # post | share | click | showcase | direct
    fate: Fate
    post: DemoPost | None = None
    link: DemoLink | None = None
    creator: Principal | None = None


# how many orders end in each state, and when they were placed (days ago: from, to)
ORDER_FATES: dict[Fate, tuple[int, float, float]] = {
    "settled": (22, 20, 12),
    "returned": (5, 13, 6),
    "received": (12, 8, 4.5),
    "return_requested": (3, 5, 3),
    "shipped": (12, 4, 1.5),
    "paid": (12, 2, 0.05),
    "refunded_unshipped": (3, 6, 1),
    "cancelled": (8, 15, 0.1),
    "unpaid": (3, 0.002, 0.0005),
}
SOURCES = (("post", 40), ("share", 15), ("click", 10), ("showcase", 20), ("direct", 15))


def _plan_orders(w: World) -> list[PlannedOrder]:
    rng = w.rng
    shopper, lin = w.consumers[0], w.creators[0]
    plan: list[PlannedOrder] = []
    for fate, (count, start, end) in ORDER_FATES.items():
        for n in range(count):
            at = w.ago(days=rng.uniform(end, start))
            source = rng.choices([s for s, _ in SOURCES], weights=[wt for _, wt in SOURCES])[0]
            if n == 0:  # the printed shopper: one order in every state, from the printed creator and supplier
                plan.append(_attribute(w, at, shopper, "post", fate, lin, w.suppliers[0]))
            else:
                plan.append(_attribute(w, at, rng.choice(w.consumers), source, fate))
    return sorted(plan, key=lambda o: o.at)


def _attribute(
    w: World,
    at: datetime,
    buyer: Principal,
    source: str,
    fate: Fate,
    creator: Principal | None = None,
    supplier: Principal | None = None,
) -> PlannedOrder:
    """What the buyer bought, and through what: a post, a share link (named, or clicked
    earlier), a creator's showcase, or nothing (search). Returns need returnable goods."""
    rng = w.rng
    returnable = fate in ("returned", "return_requested")

    def ok(p: DemoProduct) -> bool:
        return (not returnable or catalog.returnable(p.spec.category)) and supplier in (None, p.supplier)

    if source == "post":
        posts = [
            p
            for p in w.posts
            if p.at < at and any(ok(x) for x in p.products) and (creator is None or p.author.id == creator.id)
        ]
        if posts:
            post = rng.choice(posts)
            return PlannedOrder(at, buyer, rng.choice([x for x in post.products if ok(x)]), "post", fate, post=post)
    if source in ("share", "click"):
        links = [link for link in w.links if link.at < at and link.owner.id != buyer.id and ok(link.product)]
        if links:
            link = rng.choice(links)
            return PlannedOrder(at, buyer, link.product, source, fate, link=link)
    if source in ("showcase", "post", "share", "click"):
        who = creator or rng.choice(w.creators)
        picks = [p for p in w.showcases[who.id] if ok(p)]
        if picks:
            return PlannedOrder(at, buyer, rng.choice(picks), "showcase", fate, creator=who)
    return PlannedOrder(at, buyer, rng.choice([p for p in w.products if ok(p)]), "direct", fate)


async def _orders(w: World) -> None:
    plan = _plan_orders(w)
    for i, order in enumerate(plan, start=1):
        await _order(w, order)
        w.report("orders", i, len(plan))
    w.at(w.now)
    async with w.platform.unit_of_work() as uow:
        await commerce.settle_due(uow)


def _address(w: World, buyer: Principal) -> AddressIn:
    city_cn, _ = w.rng.choice(world.CITIES)
    return AddressIn(
        name=buyer.handle.split("_")[0].rstrip("0123456789").capitalize() or buyer.handle,
        phone=f"+86 13{w.rng.randint(0, 9)} {w.rng.randint(1000, 9999)} {w.rng.randint(1000, 9999)}",
        line1=f"{w.rng.choice(world.STREETS)} {w.rng.randint(1, 300)} 号",
        city=city_cn,
        country="CN",
    )


async def _order(w: World, plan: PlannedOrder) -> None:
    rng, buyer, product, fate = w.rng, plan.buyer, plan.product, plan.fate
    supplier = product.supplier
    items = [ItemIn(sku_id=rng.choice(product.skus), quantity=rng.choices((1, 2, 3), weights=(8, 3, 1))[0])]
    if len(product.skus) > 1 and rng.random() < 0.1:
        other = next(s for s in product.skus if s != items[0].sku_id)
        items.append(ItemIn(sku_id=other, quantity=1))
    if plan.source == "post" and plan.post is not None:
        source = SourceIn(post_id=plan.post.id)
    elif plan.source == "share" and plan.link is not None:
        source = SourceIn(share_token=plan.link.token)
    elif plan.source == "showcase" and plan.creator is not None:
        source = SourceIn(creator_id=plan.creator.id)
    else:
        source = SourceIn(scene="search") if plan.source == "direct" else SourceIn()
    if plan.source == "click" and plan.link is not None:  # clicked the link first, then bought
        w.at(plan.at - timedelta(minutes=rng.randint(5, 300)))
        async with w.platform.unit_of_work() as uow:
            await affiliate.click(uow, plan.link.token, buyer.id, None)
    w.at(plan.at)
    async with w.platform.unit_of_work() as uow:
        order, _ = await commerce.create_order(
            uow, buyer, OrderIn(items=items, shipping_address=_address(w, buyer), source=source), secrets.token_hex(8)
        )
        if fate == "cancelled":
            w.at(plan.at + timedelta(minutes=rng.randint(1, 12)))
            await commerce.cancel(uow, buyer, order.id)
            return
        if fate == "unpaid":
            return
        w.at(plan.at + timedelta(minutes=rng.randint(1, 8)))
        payment = await commerce.pay(uow, buyer, order.id, sandbox.SANDBOX.name)
        await sandbox.confirm(uow, payment.id)
    await sandbox.deliver_locally(w.platform)
    if fate == "paid":
        return
    if fate == "refunded_unshipped":
        w.at(plan.at + timedelta(hours=rng.uniform(2, 20)))
        async with w.platform.unit_of_work() as uow:
            await commerce.refund(uow, supplier, order.id, "缺货，已全额退款 out of stock, refunded in full")
        await sandbox.deliver_locally(w.platform)
        return
    w.at(plan.at + timedelta(hours=rng.uniform(4, 30)))
    async with w.platform.unit_of_work() as uow:
        carrier, prefix = rng.choice((("SF Express", "SF"), ("ZTO Express", "ZT"), ("JD Logistics", "JD")))
        await commerce.ship(uow, supplier, order.id, carrier, f"{prefix}{rng.randint(10**9, 10**10 - 1)}")
    if fate == "shipped":
        return
    w.at(w.clock.now() + timedelta(hours=rng.uniform(30, 60)))
    async with w.platform.unit_of_work() as uow:
        await commerce.receive(uow, buyer, order.id)
        if fate in ("settled", "received") and rng.random() < 0.7:
            w.at(w.clock.now() + timedelta(hours=rng.uniform(1, 30)))
            await commerce.review(uow, buyer, order.id, rng.choice((3, 4, 5, 5, 5)), rng.choice(world.REVIEWS))
    if fate in ("returned", "return_requested"):
        w.at(w.clock.now() + timedelta(hours=rng.uniform(3, 40)))
        async with w.platform.unit_of_work() as uow:
            ret = await commerce.request_return(uow, buyer, order.id, rng.choice(world.RETURN_REASONS))
        if fate == "returned":
            w.at(w.clock.now() + timedelta(hours=rng.uniform(2, 20)))
            async with w.platform.unit_of_work() as uow:
                await commerce.approve_return(uow, supplier, ret.id, restock=True)
            await sandbox.deliver_locally(w.platform)
    # settled orders are settled together at the end, when their return window has passed
