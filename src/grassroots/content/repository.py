"""All queries on content tables."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from grassroots.content.models import Media, Post, PostHashtag, PostMedia, PostProduct
from grassroots.kernel.pagination import PageParams, paginate


async def add(session: AsyncSession, *objs: object) -> None:
    session.add_all(objs)


async def get_media(
    session: AsyncSession, ids: Sequence[uuid.UUID], *, share_lock: bool = False
) -> dict[uuid.UUID, Media]:
    """``share_lock`` (a post attaching them) holds the rows shared until commit, so deleting
    another post that used them waits, and then sees them in use."""
    if not ids:
        return {}
    stmt = select(Media).where(Media.id.in_(set(ids)))
    if share_lock:
        stmt = stmt.with_for_update(read=True)
    rows = await session.scalars(stmt)
    return {m.id: m for m in rows}


async def get_post(session: AsyncSession, post_id: uuid.UUID, *, lock: bool = False) -> Post | None:
    if lock:  # FOR UPDATE, and fresh values even if the post was loaded before
        return await session.get(Post, post_id, with_for_update=True, populate_existing=True)
    return await session.get(Post, post_id)


async def posts(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Post]:
    if not ids:
        return {}
    rows = await session.scalars(select(Post).where(Post.id.in_(set(ids)), Post.deleted_at.is_(None)))
    return {p.id: p for p in rows}


async def media_of(session: AsyncSession, post_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Media]]:
    out: dict[uuid.UUID, list[Media]] = {pid: [] for pid in post_ids}
    if not post_ids:
        return out
    rows = await session.execute(
        select(PostMedia.post_id, Media)
        .join(Media, Media.id == PostMedia.media_id)
        .where(PostMedia.post_id.in_(set(post_ids)))
        .order_by(PostMedia.post_id, PostMedia.position)
    )
    for post_id, media in rows:
        out[post_id].append(media)
    return out


async def product_ids_of(session: AsyncSession, post_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    out: dict[uuid.UUID, list[uuid.UUID]] = {pid: [] for pid in post_ids}
    if not post_ids:
        return out
    rows = await session.execute(
        select(PostProduct.post_id, PostProduct.product_id)
        .where(PostProduct.post_id.in_(set(post_ids)))
        .order_by(PostProduct.post_id, PostProduct.position)
    )
    for post_id, product_id in rows:
        out[post_id].append(product_id)
    return out


async def hashtags_of(session: AsyncSession, post_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    out: dict[uuid.UUID, list[str]] = {pid: [] for pid in post_ids}
    if not post_ids:
        return out
    rows = await session.execute(
        select(PostHashtag.post_id, PostHashtag.tag).where(PostHashtag.post_id.in_(set(post_ids)))
    )
    for post_id, tag in rows:
        out[post_id].append(tag)
    return out


async def page_by_author(
    session: AsyncSession, author_id: uuid.UUID, params: PageParams
) -> tuple[list[Post], str | None]:
    stmt = select(Post).where(Post.author_id == author_id, Post.deleted_at.is_(None))
    return await paginate(session, stmt, params, [Post.id])


COUNTERS = {"like_count", "favorite_count", "comment_count", "share_count", "view_count", "order_count"}


async def bump(session: AsyncSession, post_id: uuid.UUID, deltas: dict[str, int]) -> None:
    """Add to counters atomically (``SET n = n + d``): exact under concurrency."""
    values: dict[str, Any] = {}
    for name, delta in deltas.items():
        if name not in COUNTERS:
            raise ValueError(f"unknown counter {name}")
        if delta:
            values[name] = getattr(Post, name) + delta
    if values:
        await session.execute(update(Post).where(Post.id == post_id).values(**values))


async def counters(session: AsyncSession, post_id: uuid.UUID) -> dict[str, int]:
    cols = [getattr(Post, c) for c in sorted(COUNTERS)]
    row = (await session.execute(select(*cols).where(Post.id == post_id))).one()
    return dict(zip(sorted(COUNTERS), (int(v) for v in row), strict=True))


async def author_totals(session: AsyncSession, author_id: uuid.UUID) -> tuple[int, int]:
    row = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(Post.like_count), 0)).where(
                Post.author_id == author_id, Post.deleted_at.is_(None)
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def titles(
    session: AsyncSession, post_ids: Sequence[uuid.UUID], *, hidden_authors: Select[Any] | None = None
) -> dict[uuid.UUID, str]:
    """Titles by id; with ``hidden_authors``, only of live posts not by those accounts."""
    if not post_ids:
        return {}
    stmt = select(Post.id, Post.title).where(Post.id.in_(set(post_ids)))
    if hidden_authors is not None:
        stmt = stmt.where(Post.deleted_at.is_(None), Post.author_id.not_in(hidden_authors))
    return {row[0]: row[1] for row in await session.execute(stmt)}


async def page_by_authors(
    session: AsyncSession, author_ids: Sequence[uuid.UUID], params: PageParams
) -> tuple[list[Post], str | None]:
    # No early return for nobody followed: ``paginate`` still checks the cursor (an empty IN matches nothing).
    stmt = select(Post).where(Post.author_id.in_(set(author_ids)), Post.deleted_at.is_(None))
    return await paginate(session, stmt, params, [Post.id])


async def recent(session: AsyncSession, since: datetime, limit: int) -> list[Post]:
    stmt = (
        select(Post)
        .where(Post.created_at >= since, Post.deleted_at.is_(None))
        .order_by(Post.created_at.desc())
        .limit(limit)
    )
    return list((await session.scalars(stmt)).all())


async def live_authors(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID]:
    """The author of each post among ``ids`` that is not deleted."""
    if not ids:
        return {}
    stmt = select(Post.id, Post.author_id).where(Post.id.in_(set(ids)), Post.deleted_at.is_(None))
    rows = (await session.execute(stmt)).all()
    return {row[0]: row[1] for row in rows}


def live_ids(hidden_authors: Select[Any]) -> Select[Any]:
    return select(Post.id).where(Post.deleted_at.is_(None), Post.author_id.not_in(hidden_authors))


async def page_live(session: AsyncSession, params: PageParams) -> tuple[list[Post], str | None]:
    return await paginate(session, select(Post).where(Post.deleted_at.is_(None)), params, [Post.id])


async def release_media_of(session: AsyncSession, post_id: uuid.UUID) -> list[Media]:
    """Detach a post's media, and delete (and return) those no other post uses."""
    ids = list(await session.scalars(select(PostMedia.media_id).where(PostMedia.post_id == post_id)))
    if not ids:
        return []
    await session.execute(delete(PostMedia).where(PostMedia.post_id == post_id))
    # Locked before asking whether another post uses them: a post attaching one of them
    # right now (it holds it shared) commits first and is then seen; one that comes later
    # waits, and finds it gone.
    await session.execute(select(Media.id).where(Media.id.in_(ids)).with_for_update())
    used = select(PostMedia.media_id).where(PostMedia.media_id == Media.id).exists()
    rows = list((await session.scalars(select(Media).where(Media.id.in_(ids), ~used))).all())
    if rows:
        await session.execute(delete(Media).where(Media.id.in_([m.id for m in rows])))
    return rows


async def take_unattached_media(session: AsyncSession, before: datetime, limit: int) -> list[Media]:
    """Delete (and return) uploads older than ``before`` that no post uses."""
    used = select(PostMedia.media_id).where(PostMedia.media_id == Media.id).exists()
    rows = list(
        (
            await session.scalars(
                select(Media).where(Media.created_at < before, ~used).order_by(Media.created_at).limit(limit)
            )
        ).all()
    )
    if rows:
        await session.execute(delete(Media).where(Media.id.in_([m.id for m in rows])))
    return rows
