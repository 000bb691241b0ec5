"""All queries on social tables."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from grassroots.kernel.db import insert_if_absent
from grassroots.kernel.pagination import PageParams, paginate
from grassroots.social.models import Comment, Favorite, Follow, Like, Notification, Profile

# ------------------------------------------------------------------ follows


async def add_follow(session: AsyncSession, follower_id: uuid.UUID, followee_id: uuid.UUID, at: datetime) -> bool:
    return await insert_if_absent(session, Follow, follower_id=follower_id, followee_id=followee_id, created_at=at)


async def remove_follow(session: AsyncSession, follower_id: uuid.UUID, followee_id: uuid.UUID) -> bool:
    result = await session.execute(
        delete(Follow).where(Follow.follower_id == follower_id, Follow.followee_id == followee_id)
    )
    return bool(getattr(result, "rowcount", 0))


async def follows(session: AsyncSession, follower_id: uuid.UUID, followee_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    if not followee_ids:
        return set()
    rows = await session.scalars(
        select(Follow.followee_id).where(Follow.follower_id == follower_id, Follow.followee_id.in_(set(followee_ids)))
    )
    return set(rows)


async def followers_page(
    session: AsyncSession, user_id: uuid.UUID, params: PageParams, hidden: Select[Any]
) -> tuple[list[Follow], str | None]:
    stmt = select(Follow).where(Follow.followee_id == user_id, Follow.follower_id.not_in(hidden))
    return await paginate(session, stmt, params, [Follow.created_at, Follow.follower_id])


async def following_page(
    session: AsyncSession, user_id: uuid.UUID, params: PageParams, hidden: Select[Any]
) -> tuple[list[Follow], str | None]:
    stmt = select(Follow).where(Follow.follower_id == user_id, Follow.followee_id.not_in(hidden))
    return await paginate(session, stmt, params, [Follow.created_at, Follow.followee_id])


async def following_ids(session: AsyncSession, user_id: uuid.UUID, limit: int) -> list[uuid.UUID]:
    rows = await session.scalars(
        select(Follow.followee_id).where(Follow.follower_id == user_id).order_by(Follow.created_at.desc()).limit(limit)
    )
    return list(rows)


async def follow_counts(session: AsyncSession, user_id: uuid.UUID, hidden: Select[Any]) -> tuple[int, int]:
    """Followers and followed, leaving out the accounts in ``hidden`` (suspended ones)."""
    count = select(func.count()).select_from(Follow)
    followers = await session.scalar(count.where(Follow.followee_id == user_id, Follow.follower_id.not_in(hidden)))
    following = await session.scalar(count.where(Follow.follower_id == user_id, Follow.followee_id.not_in(hidden)))
    return int(followers or 0), int(following or 0)


# ------------------------------------------------------------------ likes and favourites


async def add_reaction(
    session: AsyncSession, model: type[Like] | type[Favorite], post_id: uuid.UUID, user_id: uuid.UUID, at: datetime
) -> bool:
    return await insert_if_absent(session, model, post_id=post_id, user_id=user_id, created_at=at)


async def remove_reaction(
    session: AsyncSession, model: type[Like] | type[Favorite], post_id: uuid.UUID, user_id: uuid.UUID
) -> bool:
    result = await session.execute(delete(model).where(model.post_id == post_id, model.user_id == user_id))
    return bool(getattr(result, "rowcount", 0))


async def reacted(
    session: AsyncSession, model: type[Like] | type[Favorite], user_id: uuid.UUID, post_ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    if not post_ids:
        return set()
    rows = await session.scalars(
        select(model.post_id).where(model.user_id == user_id, model.post_id.in_(set(post_ids)))
    )
    return set(rows)


async def favorites_page(
    session: AsyncSession, user_id: uuid.UUID, params: PageParams, live: Select[Any]
) -> tuple[list[Favorite], str | None]:
    # ``live``: the posts that may be shown; the rest stay saved and come back with them
    stmt = select(Favorite).where(Favorite.user_id == user_id, Favorite.post_id.in_(live))
    return await paginate(session, stmt, params, [Favorite.created_at, Favorite.post_id])


# ------------------------------------------------------------------ comments


async def add(session: AsyncSession, *objs: object) -> None:
    session.add_all(objs)


async def get_comment(session: AsyncSession, comment_id: uuid.UUID) -> Comment | None:
    return await session.get(Comment, comment_id)


# ``hidden`` below: the ids of suspended accounts (``identity.suspended_ids()``), whose
# comments and replies leave the lists in SQL, so pages stay full and counts agree.


async def top_level_page(
    session: AsyncSession, post_id: uuid.UUID, params: PageParams, hidden: Select[Any]
) -> tuple[list[Comment], str | None]:
    # Pinned comments are shown separately, first; deleted ones only while they have replies.
    reply = aliased(Comment)
    has_replies = (
        select(reply.id)
        .where(reply.parent_id == Comment.id, reply.deleted_at.is_(None), reply.author_id.not_in(hidden))
        .exists()
    )
    stmt = select(Comment).where(
        Comment.post_id == post_id,
        Comment.parent_id.is_(None),
        Comment.pinned.is_(False),
        Comment.author_id.not_in(hidden),
        or_(Comment.deleted_at.is_(None), has_replies),
    )
    return await paginate(session, stmt, params, [Comment.id])


async def pinned_comment(session: AsyncSession, post_id: uuid.UUID, hidden: Select[Any]) -> Comment | None:
    result: Comment | None = await session.scalar(
        select(Comment).where(Comment.post_id == post_id, Comment.pinned.is_(True), Comment.author_id.not_in(hidden))
    )
    return result


async def replies_of(
    session: AsyncSession, parent_ids: Sequence[uuid.UUID], limit: int, hidden: Select[Any]
) -> dict[uuid.UUID, list[Comment]]:
    """The first ``limit`` live replies of each comment, oldest first (cut in SQL)."""
    out: dict[uuid.UUID, list[Comment]] = {pid: [] for pid in parent_ids}
    if not parent_ids:
        return out
    place = func.row_number().over(partition_by=Comment.parent_id, order_by=Comment.id).label("place")
    ranked = (
        select(Comment, place)
        .where(Comment.parent_id.in_(set(parent_ids)), Comment.deleted_at.is_(None), Comment.author_id.not_in(hidden))
        .subquery()
    )
    reply = aliased(Comment, ranked)
    rows = await session.scalars(select(reply).where(ranked.c.place <= limit).order_by(ranked.c.parent_id, ranked.c.id))
    for c in rows:
        out[c.parent_id].append(c)  # type: ignore[index]
    return out


async def replies_page(
    session: AsyncSession,
    parent_id: uuid.UUID,
    params: PageParams,
    hidden: Select[Any],
    *,
    since: uuid.UUID | None = None,
) -> tuple[list[Comment], str | None]:
    """A comment's live replies, oldest first (a thread reads in order), from ``since`` on."""
    stmt = select(Comment).where(
        Comment.parent_id == parent_id, Comment.deleted_at.is_(None), Comment.author_id.not_in(hidden)
    )
    if since is not None:
        stmt = stmt.where(Comment.id >= since)
    return await paginate(session, stmt, params, [Comment.id], descending=False)


async def reply_counts(
    session: AsyncSession, parent_ids: Sequence[uuid.UUID], hidden: Select[Any]
) -> dict[uuid.UUID, int]:
    if not parent_ids:
        return {}
    rows = await session.execute(
        select(Comment.parent_id, func.count())
        .where(Comment.parent_id.in_(set(parent_ids)), Comment.deleted_at.is_(None), Comment.author_id.not_in(hidden))
        .group_by(Comment.parent_id)
    )
    return {pid: int(n) for pid, n in rows if pid is not None}


async def set_pinned(session: AsyncSession, post_id: uuid.UUID, comment_id: uuid.UUID | None) -> None:
    """Unpin the post's pinned comment, then pin ``comment_id`` (if given)."""
    await session.execute(
        update(Comment).where(Comment.post_id == post_id, Comment.pinned.is_(True)).values(pinned=False)
    )
    if comment_id is not None:
        await session.execute(update(Comment).where(Comment.id == comment_id).values(pinned=True))


async def soft_delete_comment(session: AsyncSession, comment_id: uuid.UUID, at: datetime) -> bool:
    result = await session.execute(
        update(Comment)
        .where(Comment.id == comment_id, Comment.deleted_at.is_(None))
        .values(deleted_at=at, pinned=False)
    )
    return bool(getattr(result, "rowcount", 0))


# ------------------------------------------------------------------ notifications


async def add_notification(session: AsyncSession, **values: Any) -> bool:
    return await insert_if_absent(session, Notification, **values)


async def notifications_page(
    session: AsyncSession, user_id: uuid.UUID, params: PageParams, unread_only: bool
) -> tuple[list[Notification], str | None]:
    stmt = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return await paginate(session, stmt, params, [Notification.id])


async def unread_count(session: AsyncSession, user_id: uuid.UUID) -> int:
    n = await session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return int(n or 0)


async def mark_read(
    session: AsyncSession,
    user_id: uuid.UUID,
    ids: Sequence[uuid.UUID] | None,
    at: datetime,
    seen_at: datetime | None = None,
) -> int:
    stmt = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(set(ids)))
    if seen_at is not None:  # only what had arrived by then (rows from before 0011: made by then)
        stmt = stmt.where(func.coalesce(Notification.arrived_at, Notification.created_at) <= seen_at)
    result = await session.execute(stmt.values(read_at=at))
    return int(getattr(result, "rowcount", 0) or 0)


# ------------------------------------------------------------------ profiles


async def get_profile(session: AsyncSession, user_id: uuid.UUID) -> Profile | None:
    return await session.get(Profile, user_id)


async def profiles(session: AsyncSession, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Profile]:
    if not user_ids:
        return {}
    rows = await session.scalars(select(Profile).where(Profile.user_id.in_(set(user_ids))))
    return {p.user_id: p for p in rows}
