"""Social use cases: following, likes and favourites with exact counters, comments with
one level of replies, profiles and in-app notifications.

Likes, favourites and follows are idempotent: the row is inserted if absent (``ON
CONFLICT DO NOTHING``) and the post's counter moves by one only when a row was really
inserted or deleted, in the same transaction, so counters stay exact under concurrency.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from uuid_utils import compat as uuid_compat

from grassroots.content import service as content
from grassroots.identity import service as identity
from grassroots.identity.models import User
from grassroots.kernel import idempotency
from grassroots.kernel.auth import Principal, Role
from grassroots.kernel.db import insert_if_absent
from grassroots.kernel.errors import Forbidden, Invalid, NotFound, RateLimited
from grassroots.kernel.ids import new_id
from grassroots.kernel.pagination import PageParams
from grassroots.kernel.text import shows_nothing
from grassroots.kernel.uow import UnitOfWork
from grassroots.social import repository
from grassroots.social.models import Comment, Favorite, Like, Notification, NotificationKind, Profile

REPLIES_SHOWN = 20
FOLLOWING_FEED_AUTHORS = 2000  # the following feed reads posts of this many most recent follows


# ------------------------------------------------------------------ follows and profiles


async def _existing_user(uow: UnitOfWork, user_id: uuid.UUID) -> User:
    try:
        user = await identity.get_user(uow, user_id)
    except NotFound:
        raise NotFound("No such user.", code="user_not_found") from None
    if user.disabled_at is not None:
        raise NotFound("No such user.", code="user_not_found")
    return user


async def follow(uow: UnitOfWork, follower: Principal, user_id: uuid.UUID) -> bool:
    """Follow ``user_id``; True when it is new (following twice changes nothing)."""
    if user_id == follower.id:
        raise Invalid("You cannot follow yourself.", code="cannot_follow_self")
    await _existing_user(uow, user_id)
    created = await repository.add_follow(uow.session, follower.id, user_id, uow.now())
    if created:
        uow.emit("social.followed", {"follower_id": follower.id, "followee_id": user_id})
    return created


async def unfollow(uow: UnitOfWork, follower: Principal, user_id: uuid.UUID) -> bool:
    return await repository.remove_follow(uow.session, follower.id, user_id)


async def follower_count(uow: UnitOfWork, user_id: uuid.UUID) -> int:
    """Followers of any account, a suspended one too (the answer to an unfollow of it:
    a fan may leave an account they can no longer see). 404 for no such account."""
    await identity.get_user(uow, user_id)  # raises user_not_found
    return (await repository.follow_counts(uow.session, user_id, identity.suspended_ids()))[0]


@dataclass
class Person:
    id: uuid.UUID
    handle: str
    role: Role
    since: Any = None


async def _people(uow: UnitOfWork, ids: list[uuid.UUID], since: list[Any]) -> list[Person]:
    users = await identity.users_by_id(uow, ids)  # suspended accounts were left out in SQL
    return [Person(i, users[i].handle, users[i].role, s) for i, s in zip(ids, since, strict=True) if i in users]


async def followers(uow: UnitOfWork, user_id: uuid.UUID, params: PageParams) -> tuple[list[Person], str | None]:
    await _existing_user(uow, user_id)
    rows, next_cursor = await repository.followers_page(uow.session, user_id, params, identity.suspended_ids())
    return await _people(uow, [r.follower_id for r in rows], [r.created_at for r in rows]), next_cursor


async def following(uow: UnitOfWork, user_id: uuid.UUID, params: PageParams) -> tuple[list[Person], str | None]:
    await _existing_user(uow, user_id)
    rows, next_cursor = await repository.following_page(uow.session, user_id, params, identity.suspended_ids())
    return await _people(uow, [r.followee_id for r in rows], [r.created_at for r in rows]), next_cursor


async def following_ids(uow: UnitOfWork, user_id: uuid.UUID) -> list[uuid.UUID]:
    return await repository.following_ids(uow.session, user_id, FOLLOWING_FEED_AUTHORS)


async def follows_of(uow: UnitOfWork, viewer: Principal | None, user_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``user_ids`` the viewer follows."""
    if viewer is None:
        return set()
    return await repository.follows(uow.session, viewer.id, user_ids)


@dataclass
class ProfileView:
    user: User
    bio: str
    followers: int
    following: int
    posts: int
    likes_received: int
    followed_by_viewer: bool


async def profile(uow: UnitOfWork, user_id: uuid.UUID, viewer: Principal | None) -> ProfileView:
    user = await _existing_user(uow, user_id)
    record = await repository.get_profile(uow.session, user_id)
    n_followers, n_following = await repository.follow_counts(uow.session, user_id, identity.suspended_ids())
    posts, likes = await content.author_totals(uow, user_id)
    followed = bool(viewer and await repository.follows(uow.session, viewer.id, [user_id]))
    return ProfileView(user, record.bio if record else "", n_followers, n_following, posts, likes, followed)


async def update_profile(uow: UnitOfWork, user: Principal, bio: str) -> Profile:
    # Insert-or-nothing first: two first saves at once must not both try to create the row.
    await insert_if_absent(uow.session, Profile, user_id=user.id, bio=bio.strip(), updated_at=uow.now())
    record = await repository.get_profile(uow.session, user.id)
    assert record is not None
    record.bio = bio.strip()
    record.updated_at = uow.now()
    return record


# ------------------------------------------------------------------ likes and favourites


@dataclass
class ReactionResult:
    changed: bool
    active: bool
    count: int


async def _react(
    uow: UnitOfWork, user: Principal, post_id: uuid.UUID, model: type[Like] | type[Favorite], on: bool
) -> ReactionResult:
    await content.live_post(uow, post_id)
    counter = "likes" if model is Like else "favorites"
    if on:
        changed = await repository.add_reaction(uow.session, model, post_id, user.id, uow.now())
    else:
        changed = await repository.remove_reaction(uow.session, model, post_id, user.id)
    if changed:
        await content.bump(uow, post_id, **{counter: 1 if on else -1})
    counters = await content.counters(uow, post_id)
    return ReactionResult(changed, on, counters[counter])


async def like(uow: UnitOfWork, user: Principal, post_id: uuid.UUID) -> ReactionResult:
    return await _react(uow, user, post_id, Like, True)


async def unlike(uow: UnitOfWork, user: Principal, post_id: uuid.UUID) -> ReactionResult:
    return await _react(uow, user, post_id, Like, False)


async def favorite(uow: UnitOfWork, user: Principal, post_id: uuid.UUID) -> ReactionResult:
    return await _react(uow, user, post_id, Favorite, True)


async def unfavorite(uow: UnitOfWork, user: Principal, post_id: uuid.UUID) -> ReactionResult:
    return await _react(uow, user, post_id, Favorite, False)


@dataclass
class ViewerState:
    liked: set[uuid.UUID] = field(default_factory=set)
    favorited: set[uuid.UUID] = field(default_factory=set)


async def viewer_state(uow: UnitOfWork, viewer: Principal | None, post_ids: Sequence[uuid.UUID]) -> ViewerState:
    if viewer is None or not post_ids:
        return ViewerState()
    return ViewerState(
        await repository.reacted(uow.session, Like, viewer.id, post_ids),
        await repository.reacted(uow.session, Favorite, viewer.id, post_ids),
    )


async def favorite_post_ids(uow: UnitOfWork, user: Principal, params: PageParams) -> tuple[list[uuid.UUID], str | None]:
    rows, next_cursor = await repository.favorites_page(uow.session, user.id, params, content.live_ids())
    return [r.post_id for r in rows], next_cursor


# ------------------------------------------------------------------ comments

DRAFT_SECONDS = 30 * 60


def _draft_key(author_id: uuid.UUID, post_id: uuid.UUID) -> str:
    return f"comment-draft:{author_id.hex}:{post_id.hex}"


async def keep_draft(uow: UnitOfWork, author: Principal, post_id: uuid.UUID, body: str) -> None:
    """Keep a refused comment (sent too fast) for its author's next look at the post. Kept
    here, not in the page's address, so no link can put words in someone's comment box."""
    await uow.state.kv.set(_draft_key(author.id, post_id), body[:1000], DRAFT_SECONDS)


async def draft(uow: UnitOfWork, viewer: Principal | None, post_id: uuid.UUID) -> str:
    if viewer is None:
        return ""
    return await uow.state.kv.get(_draft_key(viewer.id, post_id)) or ""


async def forget_draft(uow: UnitOfWork, author: Principal, post_id: uuid.UUID) -> None:
    await uow.state.kv.delete(_draft_key(author.id, post_id))


COMMENT_SCOPE = "comment"


async def comment(
    uow: UnitOfWork,
    author: Principal,
    post_id: uuid.UUID,
    body: str,
    reply_to: uuid.UUID | None = None,
    *,
    idempotency_key: str | None = None,
) -> tuple[Comment, bool]:
    """The new comment, and True; with an ``idempotency_key`` already used for the same
    comment, the one it made, and False (a retry after a lost answer posts nothing twice)."""
    record_id = new_id()
    if idempotency_key is not None:
        key = idempotency.check_key(idempotency_key)
        digest = idempotency.request_hash({"post_id": post_id, "body": body.strip(), "reply_to": reply_to})
        earlier = await idempotency.claim(uow, COMMENT_SCOPE, author.id, key, digest, record_id)
        if earlier is not None:
            made = await repository.get_comment(uow.session, earlier)
            if made is None or made.deleted_at is not None:
                raise NotFound("That comment was deleted.", code="comment_not_found")
            return made, False
    s = uow.settings
    decision = await uow.state.limiter.hit(f"comment:user:{author.id}", s.comment_limit, s.comment_window_seconds)
    if not decision.allowed:
        raise RateLimited("You are commenting too fast; wait a moment.", retry_after=int(decision.retry_after) + 1)
    text = body.strip()
    if shows_nothing(text):
        raise Invalid("The comment is empty.", code="validation_error", fields={"body": "empty"})
    post = await content.live_post(uow, post_id)
    parent_id = None
    reply_to_user_id = None
    parent_author_id = None
    if reply_to is not None:
        target = await repository.get_comment(uow.session, reply_to)
        if (
            target is None
            or target.post_id != post_id
            or target.deleted_at is not None
            or await _hidden_with_its_author(uow, target)
        ):
            raise Invalid("Reply to a comment on this post.", code="invalid_reply_to", fields={"reply_to": "unknown"})
        # One level: a reply to a reply joins the same thread, addressed to its author.
        parent_id = target.parent_id or target.id
        reply_to_user_id = target.author_id
        parent_author_id = target.author_id
    record = Comment(
        id=record_id,
        post_id=post_id,
        author_id=author.id,
        parent_id=parent_id,
        reply_to_user_id=reply_to_user_id,
        body=text,
        pinned=False,
        created_at=uow.now(),
    )
    await repository.add(uow.session, record)
    await content.bump(uow, post_id, comments=1)
    uow.emit(
        "social.commented",
        {
            "comment_id": record.id,
            "post_id": post_id,
            "author_id": author.id,
            "post_author_id": post.author_id,
            "reply_to_user_id": parent_author_id,
        },
    )
    return record, True


@dataclass
class CommentView:
    comment: Comment
    author_handle: str
    reply_to_handle: str | None = None
    replies: list[CommentView] = field(default_factory=list)
    reply_count: int = 0


async def _hidden_with_its_author(uow: UnitOfWork, record: Comment) -> bool:
    """Whether the comment is out of sight because its author, or the author of the comment
    it replies under, is suspended (it comes back with the account)."""
    authors = [record.author_id]
    if record.parent_id is not None:
        parent = await repository.get_comment(uow.session, record.parent_id)
        if parent is not None:
            authors.append(parent.author_id)
    return bool(await identity.suspended_among(uow, authors))


async def _threads(uow: UnitOfWork, tops: list[Comment]) -> list[CommentView]:
    """Top-level comments with their first replies and reply counts, leaving out what
    suspended accounts wrote."""
    hidden = identity.suspended_ids()
    ids = [c.id for c in tops]
    replies = await repository.replies_of(uow.session, ids, REPLIES_SHOWN, hidden)
    counts = await repository.reply_counts(uow.session, ids, hidden)
    people = {c.author_id for c in tops} | {r.author_id for rs in replies.values() for r in rs}
    people |= {r.reply_to_user_id for rs in replies.values() for r in rs if r.reply_to_user_id}
    handles = await identity.active_handles(uow, list(people))

    def view(c: Comment, top: Comment | None = None) -> CommentView:
        return CommentView(
            c,
            handles.get(c.author_id, "?"),
            _addressee(handles, c, top),
            [view(r, c) for r in replies.get(c.id, [])],
            counts.get(c.id, 0),
        )

    return [view(c) for c in tops]


def _addressee(handles: dict[uuid.UUID, str], reply: Comment, top: Comment | None) -> str | None:
    """The handle a reply is addressed to: none for a suspended account, nor for the author
    of the deleted comment it answers (a deleted comment names nobody)."""
    if reply.reply_to_user_id is None:
        return None
    if top is not None and top.deleted_at is not None and reply.reply_to_user_id == top.author_id:
        return None
    return handles.get(reply.reply_to_user_id)


async def comments(
    uow: UnitOfWork, post_id: uuid.UUID, params: PageParams
) -> tuple[CommentView | None, list[CommentView], str | None]:
    """The pinned comment (first page only), a page of top-level comments newest first,
    each with its first replies. What suspended accounts wrote is left out in SQL, so a
    page stays full; it returns with the account."""
    await content.live_post(uow, post_id)
    hidden = identity.suspended_ids()
    pinned = None if params.cursor else await repository.pinned_comment(uow.session, post_id, hidden)
    rows, next_cursor = await repository.top_level_page(uow.session, post_id, params, hidden)
    views = await _threads(uow, ([pinned] if pinned else []) + rows)
    return (views.pop(0) if pinned else None), views, next_cursor


async def thread_view(uow: UnitOfWork, record: Comment) -> CommentView:
    """One top-level comment as a post's comments show it (its first replies, their count)."""
    return (await _threads(uow, [record]))[0]


async def replies(
    uow: UnitOfWork, comment_id: uuid.UUID, params: PageParams, *, since: uuid.UUID | None = None
) -> tuple[CommentView, list[CommentView], str | None]:
    """A top-level comment (with its reply count) and a page of its replies, oldest first:
    all of them, where the post shows only the first ``REPLIES_SHOWN``. ``since``: the page
    starts at that reply."""
    parent = await repository.get_comment(uow.session, comment_id)
    if parent is None or parent.parent_id is not None:
        raise NotFound("No such comment.", code="comment_not_found")
    await content.live_post(uow, parent.post_id)
    if await _hidden_with_its_author(uow, parent):  # the thread is hidden with its author
        raise NotFound("No such comment.", code="comment_not_found")
    hidden = identity.suspended_ids()
    rows, next_cursor = await repository.replies_page(uow.session, comment_id, params, hidden, since=since)
    count = (await repository.reply_counts(uow.session, [comment_id], hidden)).get(comment_id, 0)
    people = {parent.author_id} | {r.author_id for r in rows} | {r.reply_to_user_id for r in rows if r.reply_to_user_id}
    handles = await identity.active_handles(uow, list(people))

    def view(c: Comment) -> CommentView:
        return CommentView(c, handles.get(c.author_id, "?"), _addressee(handles, c, parent))

    top = view(parent)
    top.reply_count = count
    return top, [view(r) for r in rows], next_cursor


async def _comment_on_live_post(uow: UnitOfWork, comment_id: uuid.UUID) -> tuple[Comment, uuid.UUID]:
    """The comment and its post's author, for a change to it. The post's row is locked
    first: pins and deletions on one post take turns (two pins at once would otherwise
    both find nothing pinned and clash on the one-pin-per-post index), and the comment is
    read again after the lock, as it stands now."""
    record = await repository.get_comment(uow.session, comment_id)
    if record is None or record.deleted_at is not None:
        raise NotFound("No such comment.", code="comment_not_found")
    post = await content.live_post(uow, record.post_id, lock=True)
    await uow.session.refresh(record)
    if record.deleted_at is not None or await _hidden_with_its_author(uow, record):
        raise NotFound("No such comment.", code="comment_not_found")
    return record, post.author_id


async def pin(uow: UnitOfWork, user: Principal, comment_id: uuid.UUID) -> Comment:
    record, post_author = await _comment_on_live_post(uow, comment_id)
    if post_author != user.id:
        raise Forbidden("Only the post's author pins a comment.", code="not_author")
    if record.parent_id is not None:
        raise Invalid("Pin a top-level comment, not a reply.", code="cannot_pin_reply")
    await repository.set_pinned(uow.session, record.post_id, record.id)
    await uow.session.refresh(record)
    return record


async def unpin(uow: UnitOfWork, user: Principal, comment_id: uuid.UUID) -> None:
    record, post_author = await _comment_on_live_post(uow, comment_id)
    if post_author != user.id:
        raise Forbidden("Only the post's author unpins a comment.", code="not_author")
    if record.pinned:
        await repository.set_pinned(uow.session, record.post_id, None)


async def delete_comment(uow: UnitOfWork, user: Principal, comment_id: uuid.UUID) -> None:
    """The comment's author, the post's author (moderating their own post) or an operator
    deletes it; its replies stay."""
    record, post_author = await _comment_on_live_post(uow, comment_id)
    if user.id not in (record.author_id, post_author) and user.role != Role.admin:
        raise Forbidden("Only the comment's author or the post's author deletes it.", code="not_author")
    if await repository.soft_delete_comment(uow.session, comment_id, uow.now()):
        await content.bump(uow, record.post_id, comments=-1)


# ------------------------------------------------------------------ notifications


async def notify(
    uow: UnitOfWork,
    user_id: uuid.UUID,
    kind: NotificationKind,
    dedupe_key: str,
    *,
    actor_id: uuid.UUID | None = None,
    post_id: uuid.UUID | None = None,
    order_id: uuid.UUID | None = None,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> bool:
    """Record a notification once per ``dedupe_key`` (events may be delivered twice).

    ``at`` is when the thing happened (the event's time): events are delivered later and
    concurrently, so the time of delivery would misdate them and shuffle their order. The
    id is a UUIDv7 of that time too, as the list is ordered by id."""
    when = at or uow.now()
    return await repository.add_notification(
        uow.session,
        id=uuid_compat.uuid7(nanoseconds=int(when.timestamp() * 1_000_000) * 1000) if at else new_id(),
        user_id=user_id,
        kind=kind,
        actor_id=actor_id,
        post_id=post_id,
        order_id=order_id,
        dedupe_key=dedupe_key[:120],
        data=data or {},
        created_at=when,
        arrived_at=uow.now(),
    )


@dataclass
class NotificationView:
    notification: Notification
    actor_handle: str | None
    post_title: str | None


async def notifications(
    uow: UnitOfWork, user: Principal, params: PageParams, unread_only: bool = False
) -> tuple[list[NotificationView], str | None]:
    rows, next_cursor = await repository.notifications_page(uow.session, user.id, params, unread_only)
    # Only what may be shown and linked to: a suspended actor's profile and a hidden post
    # (deleted, or its author suspended) are 404s, so they are named by neither.
    handles = await identity.active_handles(uow, list({n.actor_id for n in rows if n.actor_id}))
    titles = await content.titles(uow, list({n.post_id for n in rows if n.post_id}), live_only=True)
    return [
        NotificationView(
            n, handles.get(n.actor_id) if n.actor_id else None, titles.get(n.post_id) if n.post_id else None
        )
        for n in rows
    ], next_cursor


async def unread_count(uow: UnitOfWork, user: Principal) -> int:
    return await repository.unread_count(uow.session, user.id)


async def mark_read(
    uow: UnitOfWork, user: Principal, ids: Sequence[uuid.UUID] | None, *, seen_at: datetime | None = None
) -> int:
    """Mark ``ids`` (None: all) read; ``seen_at``: only those that had arrived by then (the
    time a page was shown: one delivered later, even about an older event, stays unread)."""
    return await repository.mark_read(uow.session, user.id, ids, uow.now(), seen_at)
