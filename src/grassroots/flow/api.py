"""Flow API: the feeds, behaviour events and keyword search."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from grassroots.affiliate import service as affiliate
from grassroots.catalog.api import product_out
from grassroots.content.api import post_out
from grassroots.content.service import PostView
from grassroots.content.service import views as post_views
from grassroots.flow import service
from grassroots.flow.schemas import EventsIn, EventsOut, FeedItemOut, FeedPage, SearchPage
from grassroots.identity.api import client_ip
from grassroots.kernel.auth import MaybeUser
from grassroots.kernel.deps import UoW
from grassroots.kernel.errors import Unauthorized
from grassroots.kernel.pagination import Paging
from grassroots.kernel.uow import UnitOfWork
from grassroots.social.schemas import PersonOut

router = APIRouter(prefix="/api/v1", tags=["flow"])


def feed_items(views: list[PostView]) -> list[FeedItemOut]:
    items = []
    for v in views:
        post = post_out(v)
        items.append(FeedItemOut(post=post, products=post.products))
    return items


async def discover_items(uow: UnitOfWork, ids: list[uuid.UUID]) -> dict[uuid.UUID, bytes]:
    """The discover feed's items as JSON, by post id (gone posts left out)."""
    views = await post_views(uow, ids)
    return {v.post.id: item.model_dump_json().encode() for v, item in zip(views, feed_items(views), strict=True)}


@router.get("/feed", response_model=FeedPage)
async def feed(
    viewer: MaybeUser,
    uow: UoW,
    paging: Paging,
    tab: Literal["following", "discover"] = "discover",
) -> Response:
    """Following: the newest posts of the accounts you follow (log in). Discover: recent
    posts ranked by engagement with time decay; pages of one scroll never repeat a post
    and never show one author more than twice in a row."""
    if tab == "following":
        if viewer is None:
            raise Unauthorized("Log in to see the accounts you follow.", code="not_authenticated")
        views, next_cursor = await service.following_feed(uow, viewer, paging)
        body = FeedPage(items=feed_items(views), next_cursor=next_cursor)
        return Response(body.model_dump_json(), media_type="application/json")
    part = await service.discover_slice(uow, paging)
    rendered = await service.items.get(uow, part.ids, discover_items, part.ahead)
    # FeedPage's JSON, put together from the cached items
    cursor = b"null" if part.next_cursor is None else b'"' + part.next_cursor.encode() + b'"'
    raw = b'{"items":[' + b",".join(rendered) + b'],"next_cursor":' + cursor + b"}"
    return Response(raw, media_type="application/json")


@router.post("/events", status_code=202, response_model=EventsOut)
async def events(body: EventsIn, request: Request, viewer: MaybeUser, uow: UoW) -> EventsOut:
    """Impressions, views and clicks on posts, in batches of up to 100 (the feed page
    sends them as you scroll). Views are counted once per viewer and post per half hour."""
    visitor = affiliate.valid_visitor(request.cookies.get(affiliate.VISITOR_COOKIE))
    batch = [service.EventIn(e.type, e.post_id, e.ms) for e in body.events]
    sender = f"user:{viewer.id}" if viewer else f"ip:{client_ip(request)}"
    return EventsOut(accepted=await service.record_events(uow, viewer, visitor, batch, sender=sender))


@router.get("/search", response_model=SearchPage)
async def search(
    viewer: MaybeUser,
    uow: UoW,
    paging: Paging,
    q: Annotated[str, Query(max_length=200, description="Keywords; every one must match (Chinese or English)")],
    type: Literal["products", "posts", "users"] = "products",
) -> SearchPage:
    """Keyword search: title matches first, then the more popular."""
    found = await service.search(uow, q, type, paging)
    items: list[object]
    if type == "products":
        items = [product_out(p) for p in found.products]
    elif type == "posts":
        items = [post_out(v) for v in found.posts]
    else:
        items = [PersonOut(id=u.id, handle=u.handle, role=u.role.value) for u in found.users]
    return SearchPage(type=type, items=items, next_cursor=found.next_cursor)
