"""Social pages: profiles, follow, like, favourite, comments, notifications."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from grassroots.affiliate import service as affiliate
from grassroots.content import service as content
from grassroots.kernel.auth import CurrentUser, MaybeUser, Principal, Role
from grassroots.kernel.deps import UoW
from grassroots.kernel.errors import Invalid
from grassroots.kernel.i18n import N_
from grassroots.kernel.pagination import PageParams, Paging
from grassroots.social import service
from grassroots.social.models import Comment
from grassroots.web import nav
from grassroots.web.actions import act, form_page, safe_next
from grassroots.web.forms import text, uuid_field
from grassroots.web.session import CsrfForm
from grassroots.web.templating import register_global, render

router = APIRouter(include_in_schema=False)

nav.register("/notifications", N_("Notifications"), None, order=90)

ERRORS = {
    "rate_limited": N_("You are commenting too fast; wait a moment."),
    "cannot_follow_self": N_("You cannot follow yourself."),
    "validation_error": N_("Write something before you send it."),
    "invalid_reply_to": N_("You cannot reply to that comment; reply to another one."),  # deleted, hidden or malformed
}
# A fresh key in every comment form: its double submit is one comment.
register_global("form_key", lambda: secrets.token_urlsafe(12))
register_global(
    "notification_labels",
    {
        "new_follower": N_("started following you"),
        "comment": N_("commented on your post"),
        "reply": N_("replied to your comment"),
        "order_shipped": N_("Your order has shipped"),
        "order_received": N_("An order was received"),
        "commission_earned": N_("You earned a commission (pending)"),
        "commission_settled": N_("Your commission was settled"),
        "mcn_share_earned": N_("made a sale: your MCN share (pending)"),
        "mcn_share_settled": N_("made a sale whose MCN share is now settled"),
        "contract_offered": N_("offered you an MCN contract"),
        "contract_accepted": N_("accepted your contract offer"),
        "contract_declined": N_("declined your contract offer"),
        "contract_withdrawn": N_("withdrew their contract offer"),
        "contract_ended": N_("ended your MCN contract"),
        "return_requested": N_("A buyer asked to return an order"),
        "return_rejected": N_("Your return request was declined"),
        "order_refunded": N_("Your order was refunded"),
        "buyer_cancelled": N_("A buyer cancelled a paid order before it shipped: do not ship it"),
    },
)


@router.get("/u/{user_id}")
async def profile(request: Request, user_id: uuid.UUID, viewer: MaybeUser, uow: UoW, paging: Paging) -> Response:
    person = await service.profile(uow, user_id, viewer)
    posts, next_cursor = await content.user_posts(uow, user_id, paging)
    showcase = []
    if person.user.role == Role.creator:
        showcase = [e.product for e in (await affiliate.showcase(uow, user_id, PageParams(None, 8), viewer))[0]]
    return render(
        request,
        "social/profile.html",
        {"person": person, "posts": posts, "next_cursor": next_cursor, "showcase": showcase},
    )


async def _people_page(
    request: Request, uow: UoW, user_id: uuid.UUID, viewer: Principal | None, paging: PageParams, which: str
) -> Response:
    person = await service.profile(uow, user_id, viewer)  # 404 for an account out of sight
    listing = service.followers if which == "followers" else service.following
    people, next_cursor = await listing(uow, user_id, paging)
    context = {"person": person, "people": people, "next_cursor": next_cursor, "which": which}
    return render(request, "social/people.html", context)


@router.get("/u/{user_id}/followers")
async def followers(request: Request, user_id: uuid.UUID, viewer: MaybeUser, uow: UoW, paging: Paging) -> Response:
    return await _people_page(request, uow, user_id, viewer, paging, "followers")


@router.get("/u/{user_id}/following")
async def following(request: Request, user_id: uuid.UUID, viewer: MaybeUser, uow: UoW, paging: Paging) -> Response:
    return await _people_page(request, uow, user_id, viewer, paging, "following")


@router.get("/me/favorites")
async def favorites(request: Request, user: CurrentUser, uow: UoW, paging: Paging) -> Response:
    ids, next_cursor = await service.favorite_post_ids(uow, user, paging)
    posts = await content.views(uow, ids)
    return render(request, "social/favorites.html", {"posts": posts, "next_cursor": next_cursor})


@router.post("/u/{user_id}/follow")
async def follow(request: Request, user_id: uuid.UUID, form: CsrfForm, user: CurrentUser, uow: UoW) -> Response:
    action = service.unfollow if text(form, "action") == "unfollow" else service.follow
    back = safe_next(text(form, "next", 500) or None, f"/u/{user_id}")
    return await act(request, uow, action(uow, user, user_id), redirect=back, messages=ERRORS)


@router.post("/posts/{post_id}/like")
async def like(request: Request, post_id: uuid.UUID, form: CsrfForm, user: CurrentUser, uow: UoW) -> Response:
    action = service.unlike if text(form, "action") == "unlike" else service.like
    return await act(request, uow, action(uow, user, post_id), redirect=form_page(request, f"/posts/{post_id}"))


@router.post("/posts/{post_id}/favorite")
async def favorite(request: Request, post_id: uuid.UUID, form: CsrfForm, user: CurrentUser, uow: UoW) -> Response:
    action = service.unfavorite if text(form, "action") == "unfavorite" else service.favorite
    return await act(request, uow, action(uow, user, post_id), redirect=form_page(request, f"/posts/{post_id}"))


@router.post("/posts/{post_id}/comments")
async def comment(request: Request, post_id: uuid.UUID, form: CsrfForm, user: CurrentUser, uow: UoW) -> Response:
    body = text(form, "body", 1000)
    reply_to = uuid_field(form, "reply_to")
    # A reply_to that is not an id is a broken form, not a top-level comment: refuse it.
    malformed_reply = bool(text(form, "reply_to", 100)) and reply_to is None
    path, _, query = form_page(request, f"/posts/{post_id}").split("#")[0].partition("?")
    kept = [(k, v) for k, v in parse_qsl(query) if k != "draft"]  # older pages carried the draft here
    back = path + ("?" + urlencode(kept) if kept else "")
    if reply_to is None and not malformed_reply:  # a reply leaves the comment box's draft alone
        await service.forget_draft(uow, user, post_id)

    async def keep() -> None:  # refused (too fast, or blank): the comment waits in its box, not lost
        if body and reply_to is None and not malformed_reply:
            await service.keep_draft(uow, user, post_id, body)

    async def refuse_malformed() -> Comment:
        raise Invalid("Reply to a comment on this post.", code="invalid_reply_to", fields={"reply_to": "malformed"})

    async def post_it() -> Comment:
        # The form's key and what it says: the same form sent twice (a double tap, a resend)
        # posts once; the same form sent again with other words is another comment.
        send_key = text(form, "send_key", 64)
        said = hashlib.sha256(f"{reply_to}:{body}".encode()).hexdigest()[:16]
        made, _ = await service.comment(
            uow, user, post_id, body, reply_to, idempotency_key=f"{send_key}:{said}" if send_key else None
        )
        return made

    def shown(made: Comment) -> str:
        # From a thread's page, to the page of that thread that starts with the new reply
        # (a long thread's first page does not hold it); elsewhere back to the comments.
        if made.parent_id is not None and path == f"/comments/{made.parent_id}":
            return f"{path}?from={made.id}#reply-{made.id}"
        return back + "#comments"

    return await act(
        request,
        uow,
        refuse_malformed() if malformed_reply else post_it(),
        redirect=shown,
        on_error=back + "#comments",
        done=N_("Comment posted."),
        messages=ERRORS,
        on_failure=keep,
    )


@router.post("/comments/{comment_id}/pin")
async def pin(request: Request, comment_id: uuid.UUID, form: CsrfForm, user: CurrentUser, uow: UoW) -> Response:
    action = service.unpin if text(form, "action") == "unpin" else service.pin
    return await act(request, uow, action(uow, user, comment_id), redirect=form_page(request, "/feed"))


@router.post("/comments/{comment_id}/delete")
async def delete_comment(
    request: Request, comment_id: uuid.UUID, form: CsrfForm, user: CurrentUser, uow: UoW
) -> Response:
    return await act(
        request,
        uow,
        service.delete_comment(uow, user, comment_id),
        redirect=form_page(request, "/feed"),
        done=N_("Comment deleted."),
    )


@router.get("/comments/{comment_id}")
async def thread(
    request: Request,
    comment_id: uuid.UUID,
    viewer: MaybeUser,
    uow: UoW,
    paging: Paging,
    from_: Annotated[uuid.UUID | None, Query(alias="from")] = None,
) -> Response:
    """A comment and all its replies (a post shows the first few), oldest first; ``from``
    starts the page at one reply (where a new reply is shown to its author)."""
    top, replies, next_cursor = await service.replies(uow, comment_id, paging, since=from_)
    post = await content.live_post(uow, top.comment.post_id)  # its author may delete replies
    context = {"top": top, "replies": replies, "next_cursor": next_cursor, "post_author_id": post.author_id}
    return render(request, "social/thread.html", context)


@router.get("/notifications")
async def notifications(
    request: Request, user: CurrentUser, uow: UoW, paging: Paging, unread: Annotated[bool, Query()] = False
) -> Response:
    shown_at = uow.now()  # before the read: what arrives meanwhile is not covered by it
    rows, next_cursor = await service.notifications(uow, user, paging, unread)
    return render(
        request,
        "social/notifications.html",
        {
            "rows": rows,
            "next_cursor": next_cursor,
            "unread": unread,
            "unread_count": await service.unread_count(uow, user),
            # "Mark all read" marks what this page shows, and what had arrived a while before.
            "shown_at": shown_at.isoformat(),
            "shown_ids": ",".join(str(r.notification.id) for r in rows if not r.notification.read_at),
        },
    )


# A notification is stamped when its delivery writes it but seen once that commits: one
# stamped just before a page was shown may not have been on it. Those stay unread.
SEEN_GRACE = timedelta(seconds=2)


@router.post("/notifications/read")
async def mark_read(request: Request, form: CsrfForm, user: CurrentUser, uow: UoW) -> Response:
    """Mark all read that the page showed (``shown_ids``) or that had arrived a while before
    it was shown (``shown_at``)."""
    shown: list[uuid.UUID] = []
    for raw in text(form, "shown_ids", 40 * 101).split(","):
        try:
            shown.append(uuid.UUID(raw))
        except ValueError:
            continue
    try:
        seen_at: datetime | None = datetime.fromisoformat(text(form, "shown_at", 40))
        if seen_at is not None:
            # Must exist in UTC too ("0001-01-01T00:00+14:00" does not), or the database refuses it.
            seen_at = seen_at.replace(tzinfo=UTC) if seen_at.tzinfo is None else seen_at.astimezone(UTC)
        if seen_at is not None:
            seen_at -= SEEN_GRACE
    except (ValueError, OverflowError):
        seen_at = None  # a form without it (an old page): everything, as the API's {} does

    async def go() -> None:
        if shown:
            await service.mark_read(uow, user, shown[:100])
        await service.mark_read(uow, user, None, seen_at=seen_at)

    return await act(request, uow, go(), redirect="/notifications")
