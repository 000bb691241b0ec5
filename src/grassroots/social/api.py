"""Social API: follows and profiles, likes and favourites, comments, notifications."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from grassroots.content import service as content
from grassroots.content.api import post_out
from grassroots.content.schemas import PostOut
from grassroots.identity import service as identity
from grassroots.kernel.auth import CurrentUser, MaybeUser
from grassroots.kernel.deps import UoW
from grassroots.kernel.pagination import Page, Paging
from grassroots.social import service
from grassroots.social.schemas import (
    CommentIn,
    CommentOut,
    CommentsPage,
    FollowOut,
    MarkReadIn,
    MarkReadOut,
    NotificationOut,
    NotificationsPage,
    PersonOut,
    ProfileIn,
    ProfileOut,
    ReactionOut,
)
from grassroots.social.service import CommentView, NotificationView, ProfileView, ReactionResult

router = APIRouter(prefix="/api/v1", tags=["social"])


def profile_out(v: ProfileView) -> ProfileOut:
    return ProfileOut(
        id=v.user.id,
        handle=v.user.handle,
        role=v.user.role.value,
        bio=v.bio,
        followers=v.followers,
        following=v.following,
        posts=v.posts,
        likes_received=v.likes_received,
        followed_by_me=v.followed_by_viewer,
        joined_at=v.user.created_at,
    )


def comment_out(v: CommentView) -> CommentOut:
    c = v.comment
    gone = c.deleted_at is not None  # a deleted comment kept for its replies names nobody
    return CommentOut(
        id=c.id,
        post_id=c.post_id,
        author_id=None if gone else c.author_id,
        author_handle=None if gone else v.author_handle,
        body="" if gone else c.body,
        deleted=c.deleted_at is not None,
        parent_id=c.parent_id,
        reply_to_handle=v.reply_to_handle,
        pinned=c.pinned,
        created_at=c.created_at,
        replies=[comment_out(r) for r in v.replies],
        reply_count=v.reply_count,
    )


def notification_out(v: NotificationView) -> NotificationOut:
    n = v.notification
    return NotificationOut(
        id=n.id,
        kind=n.kind.value,
        actor_id=n.actor_id,
        actor_handle=v.actor_handle,
        post_id=n.post_id,
        post_title=v.post_title,
        order_id=n.order_id,
        data=n.data,
        created_at=n.created_at,
        read=n.read_at is not None,
    )


# ------------------------------------------------------------------ follows and profiles


async def _follow_out(uow: UoW, user_id: uuid.UUID, following: bool) -> FollowOut:
    # Not the profile: that is 404 for a suspended account, which may still be unfollowed.
    return FollowOut(user_id=user_id, following=following, followers=await service.follower_count(uow, user_id))


@router.post("/users/{user_id}/follow", response_model=FollowOut)
async def follow(user_id: uuid.UUID, user: CurrentUser, uow: UoW) -> FollowOut:
    """Follow a user (following twice is harmless)."""
    await service.follow(uow, user, user_id)
    return await _follow_out(uow, user_id, True)


@router.delete("/users/{user_id}/follow", response_model=FollowOut)
async def unfollow(user_id: uuid.UUID, user: CurrentUser, uow: UoW) -> FollowOut:
    await service.unfollow(uow, user, user_id)
    return await _follow_out(uow, user_id, False)


@router.get("/users/{user_id}", response_model=ProfileOut)
async def profile(user_id: uuid.UUID, viewer: MaybeUser, uow: UoW) -> ProfileOut:
    return profile_out(await service.profile(uow, user_id, viewer))


@router.put("/me/profile", response_model=ProfileOut)
async def update_profile(body: ProfileIn, user: CurrentUser, uow: UoW) -> ProfileOut:
    await service.update_profile(uow, user, body.bio)
    return profile_out(await service.profile(uow, user.id, user))


@router.get("/users/{user_id}/followers", response_model=Page[PersonOut])
async def followers(user_id: uuid.UUID, viewer: MaybeUser, uow: UoW, paging: Paging) -> Page[PersonOut]:
    people, next_cursor = await service.followers(uow, user_id, paging)
    return Page(
        items=[PersonOut(id=p.id, handle=p.handle, role=p.role.value, since=p.since) for p in people],
        next_cursor=next_cursor,
    )


@router.get("/users/{user_id}/following", response_model=Page[PersonOut])
async def following(user_id: uuid.UUID, viewer: MaybeUser, uow: UoW, paging: Paging) -> Page[PersonOut]:
    people, next_cursor = await service.following(uow, user_id, paging)
    return Page(
        items=[PersonOut(id=p.id, handle=p.handle, role=p.role.value, since=p.since) for p in people],
        next_cursor=next_cursor,
    )


# ------------------------------------------------------------------ likes and favourites


def _reaction(post_id: uuid.UUID, r: ReactionResult) -> ReactionOut:
    return ReactionOut(post_id=post_id, active=r.active, count=r.count)


@router.post("/posts/{post_id}/like", response_model=ReactionOut)
async def like(post_id: uuid.UUID, user: CurrentUser, uow: UoW) -> ReactionOut:
    """Like a post; liking twice counts once."""
    return _reaction(post_id, await service.like(uow, user, post_id))


@router.delete("/posts/{post_id}/like", response_model=ReactionOut)
async def unlike(post_id: uuid.UUID, user: CurrentUser, uow: UoW) -> ReactionOut:
    return _reaction(post_id, await service.unlike(uow, user, post_id))


@router.post("/posts/{post_id}/favorite", response_model=ReactionOut)
async def favorite(post_id: uuid.UUID, user: CurrentUser, uow: UoW) -> ReactionOut:
    return _reaction(post_id, await service.favorite(uow, user, post_id))


@router.delete("/posts/{post_id}/favorite", response_model=ReactionOut)
async def unfavorite(post_id: uuid.UUID, user: CurrentUser, uow: UoW) -> ReactionOut:
    return _reaction(post_id, await service.unfavorite(uow, user, post_id))


@router.get("/me/favorites", response_model=Page[PostOut])
async def my_favorites(user: CurrentUser, uow: UoW, paging: Paging) -> Page[PostOut]:
    ids, next_cursor = await service.favorite_post_ids(uow, user, paging)
    return Page(items=[post_out(v) for v in await content.views(uow, ids)], next_cursor=next_cursor)


# ------------------------------------------------------------------ comments


@router.post(
    "/posts/{post_id}/comments", status_code=201, response_model=CommentOut, responses={200: {"model": CommentOut}}
)
async def add_comment(
    post_id: uuid.UUID,
    body: CommentIn,
    user: CurrentUser,
    uow: UoW,
    response: Response,
    idempotency_key: Annotated[str | None, Header(description="optional: a retry with it posts nothing twice")] = None,
) -> CommentOut:
    """Comment on a post, or reply to a comment on it (one level of replies). With an
    ``Idempotency-Key`` a retry of the same comment answers 200 with the one it made."""
    record, created = await service.comment(
        uow, user, post_id, body.body, body.reply_to, idempotency_key=idempotency_key
    )
    if not created:
        response.status_code = 200
    reply_to = None
    if record.reply_to_user_id:
        reply_to = (await identity.handles(uow, [record.reply_to_user_id])).get(record.reply_to_user_id)
    return comment_out(CommentView(record, user.handle, reply_to))


@router.get("/posts/{post_id}/comments", response_model=CommentsPage)
async def list_comments(post_id: uuid.UUID, viewer: MaybeUser, uow: UoW, paging: Paging) -> CommentsPage:
    pinned, rows, next_cursor = await service.comments(uow, post_id, paging)
    return CommentsPage(
        pinned=comment_out(pinned) if pinned else None, items=[comment_out(c) for c in rows], next_cursor=next_cursor
    )


@router.get("/comments/{comment_id}/replies", response_model=Page[CommentOut])
async def list_replies(comment_id: uuid.UUID, viewer: MaybeUser, uow: UoW, paging: Paging) -> Page[CommentOut]:
    """Every reply to a top-level comment, oldest first (a post's comments carry the first
    20 and ``reply_count``)."""
    _, rows, next_cursor = await service.replies(uow, comment_id, paging)
    return Page(items=[comment_out(c) for c in rows], next_cursor=next_cursor)


@router.delete("/comments/{comment_id}", status_code=204)
async def delete_comment(comment_id: uuid.UUID, user: CurrentUser, uow: UoW) -> Response:
    await service.delete_comment(uow, user, comment_id)
    return Response(status_code=204)


@router.post("/comments/{comment_id}/pin", response_model=CommentOut)
async def pin(comment_id: uuid.UUID, user: CurrentUser, uow: UoW) -> CommentOut:
    """The post's author pins one comment; pinning another replaces it."""
    record = await service.pin(uow, user, comment_id)
    return comment_out(await service.thread_view(uow, record))  # with its replies, as listed


@router.delete("/comments/{comment_id}/pin", status_code=204)
async def unpin(comment_id: uuid.UUID, user: CurrentUser, uow: UoW) -> Response:
    await service.unpin(uow, user, comment_id)
    return Response(status_code=204)


# ------------------------------------------------------------------ notifications


@router.get("/notifications", response_model=NotificationsPage)
async def notifications(
    user: CurrentUser, uow: UoW, paging: Paging, unread: Annotated[bool, Query()] = False
) -> NotificationsPage:
    """New followers, comments and replies, shipped and received orders, commission."""
    rows, next_cursor = await service.notifications(uow, user, paging, unread_only=unread)
    return NotificationsPage(
        items=[notification_out(n) for n in rows], next_cursor=next_cursor, unread=await service.unread_count(uow, user)
    )


@router.post("/notifications/read", response_model=MarkReadOut)
async def mark_read(body: MarkReadIn, user: CurrentUser, uow: UoW) -> MarkReadOut:
    marked = await service.mark_read(uow, user, body.ids)
    return MarkReadOut(marked=marked, unread=await service.unread_count(uow, user))
