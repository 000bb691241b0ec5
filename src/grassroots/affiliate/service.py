"""Affiliate use cases: the open pool (精选联盟), creators' showcases, and the commission
rate an order pays its promoter.

Lowering a product's commission does not cut what creators already promoting it earn for
30 days (as TikTok Shop does): an order attributed to a creator who had the product in
their showcase before a decrease pays the old rate until 30 days after that decrease.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from grassroots.affiliate import repository
from grassroots.affiliate.models import ShowcaseItem
from grassroots.catalog import service as catalog
from grassroots.catalog.models import Product, ProductStatus
from grassroots.kernel.auth import Principal
from grassroots.kernel.errors import Conflict, NotFound
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


async def showcase(
    uow: UnitOfWork, creator_id: uuid.UUID, params: PageParams, viewer: Principal | None
) -> tuple[list[ShowcaseEntry], str | None]:
    """A creator's showcase, newest first. Others see only products still on sale."""
    items, next_cursor = await repository.page(uow.session, creator_id, params)
    products = await catalog.products_by_id(uow, [i.product_id for i in items])
    owner = viewer is not None and viewer.id == creator_id
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
