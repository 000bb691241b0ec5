"""All queries on commerce tables."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Update, and_, bindparam, func, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from grassroots.commerce.models import Order, OrderItem, OrderStatus, ReturnRequest, ReturnStatus, Review
from grassroots.kernel.db import database_conflicts, insert_new
from grassroots.kernel.pagination import PageParams, paginate


def _with_items() -> Select[Order]:
    return select(Order).options(selectinload(Order.items))


async def get(session: AsyncSession, order_id: uuid.UUID, *, for_update: bool = False) -> Order | None:
    """The order with its items; ``for_update`` locks its row (PostgreSQL; SQLite writers
    are serialised anyway) so racing requests on one order take turns."""
    return (await session.scalars(_get(for_update), {"order_id": order_id})).unique().one_or_none()


async def get_many(session: AsyncSession, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Order]:
    if not order_ids:
        return {}
    rows = await session.scalars(_with_items().where(Order.id.in_(set(order_ids))))
    return {o.id: o for o in rows.unique()}


# The statements of the checkout path are built once: building one costs more than running it.
@functools.cache
def _get(for_update: bool) -> Select[Order]:
    # One round trip: the items come joined (pages of orders load them with a second query).
    stmt = select(Order).options(joinedload(Order.items)).where(Order.id == bindparam("order_id"))
    if for_update:
        stmt = stmt.with_for_update(of=Order).execution_options(populate_existing=True)
    return stmt


async def add(session: AsyncSession, order: Order) -> None:
    """Write a new order and its items. The objects stay transient (see ``insert_new``): the
    order is read back into responses, never changed. Items are written in SKU order: on
    PostgreSQL their trigger takes the stock at commit in that order, so two orders over
    the same SKUs cannot deadlock (the order still lists them as the buyer did)."""
    await insert_new(session, order)
    await insert_new(session, *sorted(order.items, key=lambda i: i.sku_id))


async def take_stock_now(session: AsyncSession) -> None:
    """PostgreSQL: run the stock trigger of the items written so far now instead of at
    commit; a shortage raises 409 ``out_of_stock`` here. The trigger stays immediate for the
    rest of the transaction (rolling back a savepoint around this restores it)."""
    with database_conflicts():
        await session.execute(text("SET CONSTRAINTS order_items_take_stock IMMEDIATE"))


async def transition(
    session: AsyncSession, order_id: uuid.UUID, from_: Sequence[OrderStatus], to: OrderStatus, **values: Any
) -> bool:
    """Move an order to ``to`` only from one of ``from_``: one conditional UPDATE, so two
    racing transitions (a payment and the expiry job) cannot both win. A loaded order sees
    its new state."""
    params = {"b_order_id": order_id, **{f"new_{k}": v for k, v in values.items()}}
    result = await session.execute(_transition(tuple(from_), to, tuple(sorted(values))), params)
    moved = bool(getattr(result, "rowcount", 0))
    loaded = session.identity_map.get(identity_key(Order, order_id)) if moved else None
    if loaded is not None:
        for name, value in {"status": to, **values}.items():
            set_committed_value(loaded, name, value)
        # As the ORM's own "evaluate" sync does: a savepoint rolled back later expires it.
        session.sync_session._register_altered([inspect(loaded)])
    return moved


@functools.cache
def _transition(from_: tuple[OrderStatus, ...], to: OrderStatus, names: tuple[str, ...]) -> Update:
    return (
        update(Order)
        .where(Order.id == bindparam("b_order_id"), Order.status.in_(from_))
        .values(status=to, **{name: bindparam(f"new_{name}") for name in names})
        .execution_options(synchronize_session=False)
    )


async def page(
    session: AsyncSession,
    params: PageParams,
    *,
    buyer_id: uuid.UUID | None = None,
    supplier_id: uuid.UUID | None = None,
    status: OrderStatus | None = None,
) -> tuple[list[Order], str | None]:
    stmt = _with_items()
    if buyer_id is not None:
        stmt = stmt.where(Order.buyer_id == buyer_id)
    if supplier_id is not None:
        stmt = stmt.where(Order.supplier_id == supplier_id)
    if status is not None:
        stmt = stmt.where(Order.status == status)
    return await paginate(session, stmt, params, [Order.id])


async def due_for_expiry(session: AsyncSession, now: datetime, limit: int) -> list[uuid.UUID]:
    stmt = (
        select(Order.id)
        .where(Order.status == OrderStatus.pending_payment, Order.expires_at <= now)
        .order_by(Order.expires_at)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def unpaid_of_supplier(session: AsyncSession, supplier_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = select(Order.id).where(Order.supplier_id == supplier_id, Order.status == OrderStatus.pending_payment)
    return list((await session.scalars(stmt)).all())


async def due_for_auto_receipt(session: AsyncSession, shipped_before: datetime, limit: int) -> list[uuid.UUID]:
    stmt = (
        select(Order.id)
        .where(Order.status == OrderStatus.shipped, Order.shipped_at <= shipped_before)
        .order_by(Order.shipped_at)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def due_for_settlement(session: AsyncSession, received_before: datetime, limit: int) -> list[uuid.UUID]:
    """Received orders whose return window has closed (received strictly before
    ``received_before``: at the window's last instant a return is still accepted) and that
    have no open return request."""
    open_return = (
        select(ReturnRequest.id)
        .where(and_(ReturnRequest.order_id == Order.id, ReturnRequest.status == ReturnStatus.requested))
        .exists()
    )
    stmt = (
        select(Order.id)
        .where(Order.status == OrderStatus.received, Order.received_at < received_before, ~open_return)
        .order_by(Order.received_at)
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def items_of(session: AsyncSession, order_id: uuid.UUID) -> list[OrderItem]:
    stmt = select(OrderItem).where(OrderItem.order_id == order_id).order_by(OrderItem.position)
    return list((await session.scalars(stmt)).all())


# ------------------------------------------------------------------ returns


async def decide_return(session: AsyncSession, return_id: uuid.UUID, status: ReturnStatus, **values: object) -> bool:
    result = await session.execute(
        update(ReturnRequest)
        .where(ReturnRequest.id == return_id, ReturnRequest.status == ReturnStatus.requested)
        .values(status=status, **values)
        .execution_options(synchronize_session="evaluate")
    )
    return bool(getattr(result, "rowcount", 0))


async def get_return(session: AsyncSession, return_id: uuid.UUID) -> ReturnRequest | None:
    return await session.get(ReturnRequest, return_id)


async def return_for_order(session: AsyncSession, order_id: uuid.UUID) -> ReturnRequest | None:
    return (await session.scalars(select(ReturnRequest).where(ReturnRequest.order_id == order_id))).one_or_none()


async def has_open_return(session: AsyncSession, order_id: uuid.UUID) -> bool:
    stmt = select(ReturnRequest.id).where(
        ReturnRequest.order_id == order_id, ReturnRequest.status == ReturnStatus.requested
    )
    return (await session.scalar(stmt)) is not None


async def add_unique(session: AsyncSession, obj: ReturnRequest | Review) -> bool:
    """Insert; False when the order already has one (a unique order_id)."""
    try:
        async with session.begin_nested():
            session.add(obj)
    except IntegrityError:
        return False
    return True


async def returns_page(
    session: AsyncSession,
    params: PageParams,
    *,
    supplier_id: uuid.UUID | None,
    buyer_id: uuid.UUID | None,
    status: ReturnStatus | None,
) -> tuple[list[ReturnRequest], str | None]:
    stmt = select(ReturnRequest)
    if supplier_id is not None:
        stmt = stmt.where(ReturnRequest.supplier_id == supplier_id)
    if buyer_id is not None:
        stmt = stmt.where(ReturnRequest.buyer_id == buyer_id)
    if status is not None:
        stmt = stmt.where(ReturnRequest.status == status)
    return await paginate(session, stmt, params, [ReturnRequest.id])


# ------------------------------------------------------------------ reviews


def _reviews_of_product(product_id: uuid.UUID) -> Select[Review]:
    reviewed_orders = select(OrderItem.order_id).where(OrderItem.product_id == product_id)
    return select(Review).where(Review.order_id.in_(reviewed_orders))


async def review_for_order(session: AsyncSession, order_id: uuid.UUID) -> Review | None:
    return (await session.scalars(select(Review).where(Review.order_id == order_id))).one_or_none()


async def reviews_page(
    session: AsyncSession, product_id: uuid.UUID, params: PageParams
) -> tuple[list[Review], str | None]:
    return await paginate(session, _reviews_of_product(product_id), params, [Review.id])


async def rating_distribution(session: AsyncSession, product_id: uuid.UUID) -> dict[int, int]:
    sub = _reviews_of_product(product_id).subquery()
    rows = await session.execute(select(sub.c.rating, func.count()).group_by(sub.c.rating))
    return {int(r): int(n) for r, n in rows}


@dataclass(frozen=True, slots=True)
class PromotionGroup:
    post_id: uuid.UUID | None
    share_link_id: uuid.UUID | None
    currency: str
    status: OrderStatus
    orders: int
    promoted_minor: int  # the goods the promoter promoted (lines with a commission)
    promoter_minor: int  # the promoter's parts, as posted when paid


async def promotion_totals(session: AsyncSession, promoter_id: uuid.UUID) -> list[PromotionGroup]:
    """The promoter's paid orders with promoted goods, added up by post, link, currency and
    status: one row per group, however many orders."""
    per_order = (
        select(
            Order.id,
            Order.post_id,
            Order.share_link_id,
            Order.currency,
            Order.status,
            func.coalesce(Order.promoter_minor, 0).label("part"),
            func.sum(OrderItem.line_total_minor).label("goods"),
        )
        .join(OrderItem, OrderItem.order_id == Order.id)
        .where(Order.promoter_id == promoter_id, Order.paid_at.is_not(None), OrderItem.commission_bps > 0)
        .group_by(Order.id, Order.post_id, Order.share_link_id, Order.currency, Order.status, Order.promoter_minor)
        .subquery()
    )
    keys = (per_order.c.post_id, per_order.c.share_link_id, per_order.c.currency, per_order.c.status)
    stmt = select(*keys, func.count(), func.sum(per_order.c.goods), func.sum(per_order.c.part)).group_by(*keys)
    return [
        PromotionGroup(post, link, currency, OrderStatus(status), int(n), int(goods or 0), int(part or 0))
        for post, link, currency, status, n, goods, part in await session.execute(stmt)
    ]
