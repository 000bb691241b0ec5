"""Affiliate use cases: the open pool (精选联盟), creators' showcases, and the commission
rate an order pays its promoter.

Lowering a product's commission does not cut what creators already promoting it earn for
30 days (as TikTok Shop does): an order attributed to a creator who had the product in
their showcase before a decrease pays the old rate until 30 days after that decrease.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from grassroots.affiliate import repository
from grassroots.affiliate.models import ShareLink, ShowcaseItem
from grassroots.catalog import service as catalog
from grassroots.catalog.models import Product, ProductStatus
from grassroots.content import service as content
from grassroots.identity import service as identity
from grassroots.identity.models import User
from grassroots.kernel.auth import Principal, Role
from grassroots.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from grassroots.kernel.ids import new_id
from grassroots.kernel.pagination import PageParams
from grassroots.kernel.uow import UnitOfWork

PROTECTION = timedelta(days=30)
POOL_SORTS = ("commission", "sales", "new")


async def pool(
    uow: UnitOfWork, params: PageParams, *, category: str | None = None, sort: str = "commission"
) -> tuple[list[Product], str | None]:
    return await catalog.pool(uow, params, category=category, sort=sort)


@dataclass(frozen=True, slots=True)
class ShowcaseEntry:
    product: Product
    added_at: datetime


async def add_to_showcase(uow: UnitOfWork, creator: Principal, product_id: uuid.UUID) -> tuple[ShowcaseEntry, bool]:
    """Pick a product from the pool; True when newly added (adding twice is harmless)."""
    product = await catalog.get_product(uow, product_id, creator)
    if product.status != ProductStatus.active or product.commission_bps == 0:
        raise Conflict("Only active products in the affiliate pool can go in a showcase.", code="not_in_pool")
    existing = await repository.get(uow.session, creator.id, product_id)
    if existing is not None:
        return ShowcaseEntry(product, existing.added_at), False
    item = ShowcaseItem(creator_id=creator.id, product_id=product_id, added_at=uow.now())
    created = await repository.add(uow.session, item)
    if created:
        uow.emit("affiliate.showcased", {"creator_id": creator.id, "product_id": product_id})
        return ShowcaseEntry(product, item.added_at), True
    current = await repository.get(uow.session, creator.id, product_id)
    return ShowcaseEntry(product, current.added_at if current else item.added_at), False


async def remove_from_showcase(uow: UnitOfWork, creator: Principal, product_id: uuid.UUID) -> None:
    if not await repository.remove(uow.session, creator.id, product_id):
        raise NotFound("That product is not in your showcase.", code="not_in_showcase")


async def showcase_owner(uow: UnitOfWork, creator_id: uuid.UUID) -> User:
    """The creator whose showcase this is; 404 for an unknown id, someone who is no creator
    or a suspended account."""
    try:
        creator = await identity.get_user(uow, creator_id)
    except NotFound:
        creator = None
    if creator is None or creator.role != Role.creator or creator.disabled_at is not None:
        raise NotFound("No such creator.", code="creator_not_found")
    return creator


async def showcase(
    uow: UnitOfWork, creator_id: uuid.UUID, params: PageParams, viewer: Principal | None
) -> tuple[list[ShowcaseEntry], str | None]:
    """A creator's showcase, newest first. Others see only products still on sale; the
    creator also those archived (to take them out), but no draft."""
    owner = viewer is not None and viewer.id == creator_id
    # In SQL, not after paging: a page of drafts would otherwise come back empty with more after it.
    among = catalog.listed_ids() if owner else catalog.on_sale_ids()
    items, next_cursor = await repository.page(uow.session, creator_id, params, among)
    products = await catalog.listed_products(uow, [i.product_id for i in items])
    entries = [
        ShowcaseEntry(products[i.product_id], i.added_at)
        for i in items
        if i.product_id in products and (owner or products[i.product_id].status == ProductStatus.active)
    ]
    return entries, next_cursor


async def showcased_product_ids(uow: UnitOfWork, creator_id: uuid.UUID) -> set[uuid.UUID]:
    return await repository.product_ids(uow.session, creator_id)


async def commission_rates(
    uow: UnitOfWork, promoter_id: uuid.UUID | None, products: Sequence[Product], now: datetime
) -> dict[uuid.UUID, int]:
    """Commission (bps) each product pays this promoter on an order placed ``now``."""
    rates = {p.id: p.commission_bps for p in products}
    if promoter_id is None:
        return {p.id: 0 for p in products}
    ids = [p.id for p in products]
    changes = await catalog.commission_changes_since(uow, ids, now - PROTECTION)
    if not changes:
        return rates
    showcased = await repository.added_at(uow.session, promoter_id, ids)
    for change in changes:
        entry = showcased.get(change.product_id)
        # Protected: the creator promoted the product before this decrease, within 30 days of it.
        if entry is not None and entry.added_at < change.changed_at and change.old_bps > change.new_bps:
            rates[change.product_id] = max(rates[change.product_id], change.old_bps)
    return rates


# ------------------------------------------------------------------ share links

VISITOR_COOKIE = "gr_visitor"
VISITOR_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def valid_visitor(raw: str | None) -> str | None:
    """The visitor cookie's value if it is one we could have set, else None."""
    return raw if raw and VISITOR_RE.fullmatch(raw) else None


def new_visitor_id() -> str:
    return secrets.token_urlsafe(18)


def share_path(token: str) -> str:
    return f"/s/{token}"


async def create_share_link(
    uow: UnitOfWork, owner: Principal, product_id: uuid.UUID, post_id: uuid.UUID | None = None
) -> tuple[ShareLink, bool]:
    """The owner's link to a product on sale (through a post that tags it, if given); the
    same target gives the same link back (second value False)."""
    if owner.role == Role.admin:
        # An operator's link would earn commission that no earnings page shows anyone.
        raise Forbidden("Operators do not promote goods.", code="forbidden_role")
    products = await catalog.products_by_id(uow, [product_id])
    product = products.get(product_id)
    if product is None or product.status != ProductStatus.active:
        raise NotFound("No such product on sale.", code="product_not_found")
    if post_id is not None:
        try:
            await content.live_post(uow, post_id)
        except NotFound:
            raise Invalid("No such post.", code="post_not_found", fields={"post_id": "unknown"}) from None
        if product_id not in await content.tagged_products(uow, post_id):
            raise Invalid(
                "That post does not tag this product.", code="product_not_tagged", fields={"post_id": "no tag"}
            )
    target = f"{product_id}:{post_id or '-'}"
    existing = await repository.link_by_target(uow.session, owner.id, target)
    if existing is not None:
        return existing, False
    created = await repository.insert_link(
        uow.session,
        id=new_id(),
        token=secrets.token_urlsafe(9),
        owner_id=owner.id,
        product_id=product_id,
        post_id=post_id,
        target_key=target,
        click_count=0,
        created_at=uow.now(),
    )
    link = await repository.link_by_target(uow.session, owner.id, target)
    assert link is not None
    if created and post_id is not None:
        await content.bump(uow, post_id, shares=1)
    return link, created


TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{1,24}$")


async def link_by_token(uow: UnitOfWork, token: str) -> ShareLink | None:
    # Only what ``token_urlsafe`` makes reaches the database (PostgreSQL refuses a NUL).
    if not TOKEN_RE.fullmatch(token):
        return None
    return await repository.link_by_token(uow.session, token)


async def on_sale(uow: UnitOfWork, product_id: uuid.UUID) -> bool:
    product = (await catalog.products_by_id(uow, [product_id])).get(product_id)
    return product is not None and product.status == ProductStatus.active


async def click(
    uow: UnitOfWork,
    token: str,
    user_id: uuid.UUID | None,
    visitor_id: str | None,
    *,
    new_visitor_from: str | None = None,
) -> tuple[ShareLink, bool]:
    """Record a click on a share link (once per visitor a day: a browser, or an account,
    signed in or not); the link, and whether its product is on sale. The owner opening
    their own link is no click: it would count, and credit their own link with what
    another account buys on that device. A link to goods off sale counts nothing. Clicks by
    new signed-out visitors (``new_visitor_from``: their address) count up to a limit a
    minute, as each such request without the cookie is a new visitor."""
    link = await link_by_token(uow, token)
    if link is None:
        raise NotFound("This share link does not exist.", code="share_link_not_found")
    selling = await on_sale(uow, link.product_id)
    if not selling or (user_id is None and visitor_id is None) or user_id == link.owner_id:
        return link, selling
    if new_visitor_from is not None:
        limit = uow.settings.new_visitor_click_limit
        if not (await uow.state.limiter.hit(f"click:new:{new_visitor_from}", limit, 60)).allowed:
            return link, selling  # still leads on; it just does not count
    now = uow.now()
    key = str(user_id) if user_id is not None else f"v:{visitor_id}"
    await repository.record_click(uow.session, link.id, key, now.date().isoformat(), user_id, visitor_id, now)
    return link, selling


async def last_clicked_link(
    uow: UnitOfWork,
    user_id: uuid.UUID | None,
    visitor_id: str | None,
    now: datetime,
    product_ids: Collection[uuid.UUID] | None = None,
    *,
    not_owned_by: Collection[uuid.UUID] | None = None,
) -> ShareLink | None:
    """The link this person (account or visitor cookie) last clicked within the click
    window, among links to ``product_ids`` when given; ``not_owned_by`` passes over the
    links of these owners (the buyer, the supplier, suspended accounts: an earlier click on
    a promoter's link counts)."""
    since = now - timedelta(days=uow.settings.click_window_days)
    return await repository.last_clicked_link(uow.session, user_id, visitor_id, since, product_ids, not_owned_by)


async def my_links(uow: UnitOfWork, owner: Principal, params: PageParams) -> tuple[list[ShareLink], str | None]:
    return await repository.links_page(uow.session, owner.id, params)


async def all_links(uow: UnitOfWork, owner_id: uuid.UUID, limit: int = 500) -> list[ShareLink]:
    return await repository.all_links(uow.session, owner_id, limit)


async def links_by_id(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ShareLink]:
    return await repository.links(uow.session, ids)


async def clicks_by_post(uow: UnitOfWork, owner_id: uuid.UUID) -> dict[uuid.UUID, int]:
    return await repository.clicks_by_post(uow.session, owner_id)
