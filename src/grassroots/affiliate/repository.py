"""All queries on affiliate tables."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from grassroots.affiliate.models import ShowcaseItem
from grassroots.kernel.pagination import PageParams, paginate


async def get(session: AsyncSession, creator_id: uuid.UUID, product_id: uuid.UUID) -> ShowcaseItem | None:
    return await session.get(ShowcaseItem, (creator_id, product_id))


async def add(session: AsyncSession, item: ShowcaseItem) -> bool:
    """Insert; False when the creator already had the product (a concurrent add won)."""
    try:
        async with session.begin_nested():
            session.add(item)
    except IntegrityError:
        return False
    return True


async def remove(session: AsyncSession, creator_id: uuid.UUID, product_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(ShowcaseItem).where(ShowcaseItem.creator_id == creator_id, ShowcaseItem.product_id == product_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def page(
    session: AsyncSession, creator_id: uuid.UUID, params: PageParams
) -> tuple[list[ShowcaseItem], str | None]:
    stmt = select(ShowcaseItem).where(ShowcaseItem.creator_id == creator_id)
    return await paginate(session, stmt, params, [ShowcaseItem.added_at, ShowcaseItem.product_id])


async def added_at(
    session: AsyncSession, creator_id: uuid.UUID, product_ids: list[uuid.UUID]
) -> dict[uuid.UUID, ShowcaseItem]:
    if not product_ids:
        return {}
    rows = await session.scalars(
        select(ShowcaseItem).where(ShowcaseItem.creator_id == creator_id, ShowcaseItem.product_id.in_(product_ids))
    )
    return {r.product_id: r for r in rows}


async def product_ids(session: AsyncSession, creator_id: uuid.UUID) -> set[uuid.UUID]:
    rows = await session.scalars(select(ShowcaseItem.product_id).where(ShowcaseItem.creator_id == creator_id))
    return set(rows.all())
