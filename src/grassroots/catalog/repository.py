"""All queries on catalog tables."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, selectinload

from grassroots.catalog.models import CommissionChange, Product, ProductStatus, Sku
from grassroots.kernel.db import in_param, table
from grassroots.kernel.pagination import PageParams, paginate


def _with_skus() -> Select[Product]:
    return select(Product).options(selectinload(Product.skus))


async def get(session: AsyncSession, product_id: uuid.UUID, *, for_update: bool = False) -> Product | None:
    """The product with its SKUs; ``for_update`` locks its row (PostgreSQL; SQLite writers
    are serialised anyway) and reads it afresh."""
    stmt = _with_skus().where(Product.id == product_id)
    if for_update:
        # NO KEY UPDATE: rows that only reference the product (links, tags) need not wait
        stmt = stmt.with_for_update(of=Product, key_share=True).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one_or_none()


async def get_many(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Product]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = await session.scalars(_with_skus().where(Product.id.in_(wanted)))
    return {p.id: p for p in rows}


async def get_sku(session: AsyncSession, sku_id: uuid.UUID) -> Sku | None:
    return await session.get(Sku, sku_id)


async def skus_with_products(
    session: AsyncSession, sku_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, tuple[Sku, Product]]:
    wanted = list(set(sku_ids))
    if not wanted:
        return {}
    rows = await session.execute(_skus_with_products(session.get_bind().dialect.name), {"ids": wanted})
    return {sku.id: (sku, product) for sku, product in rows}


@functools.cache
def _skus_with_products(dialect: str) -> Select[Sku, Product]:
    # Built once: every order asks it.
    return select(Sku, Product).join(Product, Product.id == Sku.product_id).where(in_param(Sku.id, "ids", dialect))


async def add(session: AsyncSession, product: Product) -> None:
    session.add(product)
    await session.flush()


async def page(
    session: AsyncSession,
    params: PageParams,
    *,
    q: str | None,
    category: str | None,
    supplier_id: uuid.UUID | None,
    statuses: Sequence[ProductStatus],
) -> tuple[list[Product], str | None]:
    stmt = _with_skus().where(Product.status.in_(statuses))
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            or_(Product.title.ilike(pattern, escape="\\"), Product.description.ilike(pattern, escape="\\"))
        )
    if category:
        stmt = stmt.where(Product.category == category)
    if supplier_id:
        stmt = stmt.where(Product.supplier_id == supplier_id)
    return await paginate(session, stmt, params, [Product.id])


POOL_SORT: dict[str, list[InstrumentedAttribute[Any]]] = {
    "commission": [Product.commission_bps, Product.id],
    "sales": [Product.sold_units, Product.id],
    "new": [Product.id],
}


async def pool_page(
    session: AsyncSession, params: PageParams, *, category: str | None, sort: str
) -> tuple[list[Product], str | None]:
    stmt = _with_skus().where(Product.status == ProductStatus.active, Product.commission_bps > 0)
    if category:
        stmt = stmt.where(Product.category == category)
    return await paginate(session, stmt, params, POOL_SORT[sort])


# Stock and sales counters move on every order: their statements are built once (Core
# statements on the tables; nothing reads these columns from loaded objects afterwards).
_skus, _products = table(Sku).c, table(Product).c
_RESERVE = (
    update(table(Sku))
    .where(_skus.id == bindparam("sku_id"), _skus.stock >= bindparam("quantity"))
    .values(stock=_skus.stock - bindparam("quantity"))
)
_RELEASE = update(table(Sku)).where(_skus.id == bindparam("sku_id")).values(stock=_skus.stock + bindparam("quantity"))
_ADD_SOLD = (
    update(table(Product))
    .where(_products.id == bindparam("product_id"))
    .values(sold_units=_products.sold_units + bindparam("units"))
)


async def reserve(session: AsyncSession, sku_id: uuid.UUID, quantity: int) -> bool:
    """Take ``quantity`` from stock only if that much is there: one atomic statement."""
    result = await session.execute(_RESERVE, {"sku_id": sku_id, "quantity": quantity})
    return bool(getattr(result, "rowcount", 0))


async def release(session: AsyncSession, sku_id: uuid.UUID, quantity: int) -> None:
    await session.execute(_RELEASE, {"sku_id": sku_id, "quantity": quantity})


async def set_stock(session: AsyncSession, sku_id: uuid.UUID, stock: int, expected: int | None = None) -> bool:
    """Set the stock, only from ``expected`` when given; whether it was set."""
    stmt = update(Sku).where(Sku.id == sku_id).values(stock=stock)
    if expected is not None:
        stmt = stmt.where(Sku.stock == expected)
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))


async def update_sku(
    session: AsyncSession, sku_id: uuid.UUID, values: dict[str, object], expected_price: int | None
) -> bool:
    """Set a SKU's name or price, only from ``expected_price`` when given; whether it was
    set. Stock is not among the columns written, so orders taking stock meanwhile keep theirs."""
    stmt = update(Sku).where(Sku.id == sku_id).values(**values)
    if expected_price is not None:
        stmt = stmt.where(Sku.price_minor == expected_price)
    result = await session.execute(stmt.execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0))


async def lock_skus(session: AsyncSession, product_id: uuid.UUID) -> list[Sku]:
    """The product's SKUs, their rows locked in id order (the order stock is taken and given
    back in, so an edit and a refund of the same goods never deadlock), then read again:
    on PostgreSQL the locking read sees only the rows there were when it started, not one
    another edit added while this waited for its locks; a new statement does. Every edit
    locks the same first rows, so edits of one product take turns."""
    mine = select(Sku).where(Sku.product_id == product_id).order_by(Sku.id)
    await session.execute(mine.with_for_update())
    return list((await session.scalars(mine.execution_options(populate_existing=True))).all())


async def price_of(session: AsyncSession, sku_id: uuid.UUID) -> int:
    return int(await session.scalar(select(Sku.price_minor).where(Sku.id == sku_id)) or 0)


async def add_sku(session: AsyncSession, sku: Sku) -> None:
    session.add(sku)
    await session.flush()


async def stock_of(session: AsyncSession, sku_id: uuid.UUID) -> int:
    return int(await session.scalar(select(Sku.stock).where(Sku.id == sku_id)) or 0)


async def add_sold(session: AsyncSession, product_id: uuid.UUID, units: int) -> None:
    await session.execute(_ADD_SOLD, {"product_id": product_id, "units": units})


async def record_commission_change(session: AsyncSession, change: CommissionChange) -> None:
    session.add(change)


async def commission_changes_since(
    session: AsyncSession, product_ids: Iterable[uuid.UUID], since: datetime
) -> list[CommissionChange]:
    wanted = list(set(product_ids))
    if not wanted:
        return []
    stmt = select(CommissionChange).where(CommissionChange.product_id.in_(wanted), CommissionChange.changed_at > since)
    return list((await session.scalars(stmt)).all())


async def count_for_supplier(session: AsyncSession, supplier_id: uuid.UUID) -> dict[ProductStatus, int]:
    rows = await session.execute(
        select(Product.status, func.count()).where(Product.supplier_id == supplier_id).group_by(Product.status)
    )
    return {ProductStatus(s): int(n) for s, n in rows}


def on_sale_ids() -> Select[uuid.UUID]:
    return select(Product.id).where(Product.status == ProductStatus.active)


async def sales_after(session: AsyncSession, after: uuid.UUID | None, limit: int) -> list[tuple[uuid.UUID, int]]:
    stmt = select(Product.id, Product.sold_units).where(Product.status == ProductStatus.active)
    if after is not None:
        stmt = stmt.where(Product.id > after)
    rows = await session.execute(stmt.order_by(Product.id).limit(limit))
    return [(r[0], int(r[1])) for r in rows]


def listed_ids() -> Select[uuid.UUID]:
    return select(Product.id).where(Product.status != ProductStatus.draft)


async def switch_status(
    session: AsyncSession, supplier_id: uuid.UUID, old: ProductStatus, new: ProductStatus, at: datetime
) -> list[uuid.UUID]:
    """Move every product of the supplier in status ``old`` to ``new``; the ids moved."""
    stmt = (
        update(Product)
        .where(Product.supplier_id == supplier_id, Product.status == old)
        .values(status=new, updated_at=at)
        .returning(Product.id)
        .execution_options(synchronize_session=False)
    )
    return list((await session.scalars(stmt)).all())
