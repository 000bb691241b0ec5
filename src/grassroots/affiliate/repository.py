"""All queries on affiliate tables."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from grassroots.affiliate.models import ShareClick, ShareLink, ShowcaseItem
from grassroots.kernel.db import insert_if_absent
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
    session: AsyncSession, creator_id: uuid.UUID, params: PageParams, among: Select[uuid.UUID] | None = None
) -> tuple[list[ShowcaseItem], str | None]:
    """A showcase's items, newest first; with ``among``, only its products in that subquery
    (so a page is full even when many showcased products are off sale)."""
    stmt = select(ShowcaseItem).where(ShowcaseItem.creator_id == creator_id)
    if among is not None:
        stmt = stmt.where(ShowcaseItem.product_id.in_(among))
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


# ------------------------------------------------------------------ share links


async def link_by_target(session: AsyncSession, owner_id: uuid.UUID, target_key: str) -> ShareLink | None:
    result: ShareLink | None = await session.scalar(
        select(ShareLink).where(ShareLink.owner_id == owner_id, ShareLink.target_key == target_key)
    )
    return result


async def insert_link(session: AsyncSession, **values: Any) -> bool:
    return await insert_if_absent(session, ShareLink, **values)


async def link_by_token(session: AsyncSession, token: str) -> ShareLink | None:
    result: ShareLink | None = await session.scalar(select(ShareLink).where(ShareLink.token == token))
    return result


async def links(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, ShareLink]:
    if not ids:
        return {}
    rows = await session.scalars(select(ShareLink).where(ShareLink.id.in_(set(ids))))
    return {r.id: r for r in rows}


async def links_page(
    session: AsyncSession, owner_id: uuid.UUID, params: PageParams
) -> tuple[list[ShareLink], str | None]:
    return await paginate(session, select(ShareLink).where(ShareLink.owner_id == owner_id), params, [ShareLink.id])


async def all_links(session: AsyncSession, owner_id: uuid.UUID, limit: int) -> list[ShareLink]:
    rows = await session.scalars(
        select(ShareLink).where(ShareLink.owner_id == owner_id).order_by(ShareLink.id.desc()).limit(limit)
    )
    return list(rows)


async def record_click(
    session: AsyncSession,
    link_id: uuid.UUID,
    visitor_key: str,
    day: str,
    user_id: uuid.UUID | None,
    visitor_id: str | None,
    at: datetime,
) -> bool:
    """True for the visitor's first click on the link that day (then the link's count
    moves); a repeat click only moves ``last_at``. The same browser (cookie) or the same
    account is one visitor: opening a link signed out, then signed in, is one click."""
    same = ShareClick.visitor_key == visitor_key
    if visitor_id is not None:
        same = or_(same, ShareClick.visitor_id == visitor_id)
    if user_id is not None:
        same = or_(same, ShareClick.user_id == user_id)
    seen: dict[str, Any] = {"last_at": at}
    if user_id is not None:  # who it was, if not known yet (their orders on other devices)
        seen["user_id"] = func.coalesce(ShareClick.user_id, user_id)
    repeat = await session.execute(
        update(ShareClick).where(ShareClick.link_id == link_id, ShareClick.day == day, same).values(**seen)
    )
    if getattr(repeat, "rowcount", 0):
        return False
    first = await insert_if_absent(
        session,
        ShareClick,
        link_id=link_id,
        visitor_key=visitor_key,
        day=day,
        user_id=user_id,
        visitor_id=visitor_id,
        first_at=at,
        last_at=at,
    )
    if first:
        await session.execute(
            update(ShareLink).where(ShareLink.id == link_id).values(click_count=ShareLink.click_count + 1)
        )
    else:
        values: dict[str, Any] = {"last_at": at}
        if user_id is not None:
            values["user_id"] = user_id
        await session.execute(
            update(ShareClick)
            .where(ShareClick.link_id == link_id, ShareClick.visitor_key == visitor_key, ShareClick.day == day)
            .values(**values)
        )
    return first


def _last_clicked(by_products: bool, not_owned: bool) -> Select[ShareLink]:
    # Built once: checkout asks this on every order, and building the statement costs more
    # than running it. A NULL user or visitor matches nothing.
    stmt = (
        select(ShareLink)
        .join(ShareClick, ShareClick.link_id == ShareLink.id)
        .where(or_(ShareClick.user_id == bindparam("user_id"), ShareClick.visitor_id == bindparam("visitor_id")))
        .where(ShareClick.last_at >= bindparam("since"))
        .order_by(ShareClick.last_at.desc())
        .limit(1)
    )
    if by_products:
        stmt = stmt.where(ShareLink.product_id.in_(bindparam("products", expanding=True)))
    if not_owned:
        stmt = stmt.where(ShareLink.owner_id.not_in(bindparam("not_owners", expanding=True)))
    return stmt


_LAST_CLICKED = {(p, o): _last_clicked(p, o) for p in (False, True) for o in (False, True)}


async def last_clicked_link(
    session: AsyncSession,
    user_id: uuid.UUID | None,
    visitor_id: str | None,
    since: datetime,
    product_ids: Collection[uuid.UUID] | None = None,
    not_owned_by: Collection[uuid.UUID] | None = None,
) -> ShareLink | None:
    """The link behind the newest click by this account or visitor since ``since``, of
    links not owned by any of ``not_owned_by``."""
    if user_id is None and not visitor_id:
        return None
    params: dict[str, Any] = {"user_id": user_id, "visitor_id": visitor_id or None, "since": since}
    if product_ids is not None:
        params["products"] = list(product_ids)
    if not_owned_by is not None:
        params["not_owners"] = list(not_owned_by)
    stmt = _LAST_CLICKED[product_ids is not None, not_owned_by is not None]
    result: ShareLink | None = await session.scalar(stmt, params)
    return result


async def clicks_by_post(session: AsyncSession, owner_id: uuid.UUID) -> dict[uuid.UUID, int]:
    rows = await session.execute(
        select(ShareLink.post_id, func.sum(ShareLink.click_count))
        .where(ShareLink.owner_id == owner_id, ShareLink.post_id.is_not(None))
        .group_by(ShareLink.post_id)
    )
    return {pid: int(n or 0) for pid, n in rows if pid is not None}
