"""Affiliate API: the pool for creators, showcases for everyone."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from grassroots.affiliate import service
from grassroots.affiliate.models import ShareLink
from grassroots.affiliate.schemas import (
    AttributionOut,
    LinkAttributionOut,
    PoolItemOut,
    PostAttributionOut,
    PromotionOut,
    ShareLinkIn,
    ShareLinkOut,
    ShowcaseEntryOut,
    ShowcaseIn,
)
from grassroots.catalog.api import product_out
from grassroots.commerce import service as commerce
from grassroots.commerce.service import ByCurrency, PromotionStats
from grassroots.content import service as content
from grassroots.kernel.auth import CurrentUser, MaybeUser, Principal, Role, require
from grassroots.kernel.deps import UoW
from grassroots.kernel.pagination import Page, Paging

router = APIRouter(prefix="/api/v1", tags=["affiliate"])

Creator = Annotated[Principal, Depends(require(Role.creator))]


@router.get("/affiliate/pool", response_model=Page[PoolItemOut])
async def pool(
    creator: Creator,
    uow: UoW,
    paging: Paging,
    category: Annotated[str | None, Query(max_length=32)] = None,
    sort: Literal["commission", "sales", "new"] = "commission",
) -> Page[PoolItemOut]:
    """Active products with a commission, best paying (or best selling, or newest) first."""
    # a blank filter (``?category=``) is no filter
    products, next_cursor = await service.pool(uow, paging, category=category or None, sort=sort)
    mine = await service.showcased_product_ids(uow, creator.id)
    items = [PoolItemOut(**product_out(p).model_dump(), in_showcase=p.id in mine) for p in products]
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/showcase", status_code=201, response_model=ShowcaseEntryOut, responses={200: {"model": ShowcaseEntryOut}}
)
async def add(body: ShowcaseIn, creator: Creator, uow: UoW, response: Response) -> ShowcaseEntryOut:
    entry, created = await service.add_to_showcase(uow, creator, body.product_id)
    if not created:
        response.status_code = 200
    return ShowcaseEntryOut(product=product_out(entry.product), added_at=entry.added_at)


@router.delete("/showcase/{product_id}", status_code=204)
async def remove(product_id: uuid.UUID, creator: Creator, uow: UoW) -> Response:
    await service.remove_from_showcase(uow, creator, product_id)
    return Response(status_code=204)


@router.get("/creators/{creator_id}/showcase", response_model=Page[ShowcaseEntryOut])
async def showcase(creator_id: uuid.UUID, viewer: MaybeUser, uow: UoW, paging: Paging) -> Page[ShowcaseEntryOut]:
    await service.showcase_owner(uow, creator_id)
    entries, next_cursor = await service.showcase(uow, creator_id, paging, viewer)
    return Page(
        items=[ShowcaseEntryOut(product=product_out(e.product), added_at=e.added_at) for e in entries],
        next_cursor=next_cursor,
    )


def share_link_out(link: ShareLink) -> ShareLinkOut:
    return ShareLinkOut(
        id=link.id,
        token=link.token,
        url=service.share_path(link.token),
        product_id=link.product_id,
        post_id=link.post_id,
        clicks=link.click_count,
        created_at=link.created_at,
    )


@router.post("/share-links", status_code=201, response_model=ShareLinkOut, responses={200: {"model": ShareLinkOut}})
async def create_share_link(body: ShareLinkIn, user: CurrentUser, uow: UoW, response: Response) -> ShareLinkOut:
    """Your link to a product on sale (optionally through a post that tags it). Anyone
    who buys within the click window after opening it is attributed to you, and you earn
    the product's commission on the sale. Asking again for the same target returns the
    same link (200)."""
    link, created = await service.create_share_link(uow, user, body.product_id, body.post_id)
    if not created:
        response.status_code = 200
    return share_link_out(link)


@router.get("/me/share-links", response_model=Page[ShareLinkOut])
async def my_share_links(user: CurrentUser, uow: UoW, paging: Paging) -> Page[ShareLinkOut]:
    links, next_cursor = await service.my_links(uow, user, paging)
    return Page(items=[share_link_out(x) for x in links], next_cursor=next_cursor)


def _promotion(s: PromotionStats | None) -> dict[str, Any]:
    if s is None:
        return {"currency": None, "orders": 0, "gmv_minor": 0, "commission_minor": 0, "settled_minor": 0, "refunded": 0}
    return {
        "currency": s.currency,
        "orders": s.orders,
        "gmv_minor": s.gmv_minor,
        "commission_minor": s.commission_minor,
        "settled_minor": s.settled_minor,
        "refunded": s.refunded,
    }


def _per_currency(stats: ByCurrency | None) -> list[PromotionStats | None]:
    return list(stats.values()) if stats else [None]


@router.get("/me/attribution", response_model=AttributionOut)
async def attribution(user: CurrentUser, uow: UoW) -> AttributionOut:
    """What your posts and share links brought: clicks, paid orders, sales (GMV) and your
    commission, by post and by link, per currency."""
    by_post, by_link, totals = await commerce.promotion_stats(uow, user.id)
    links = await service.all_links(uow, user.id)
    link_map = {x.id: x for x in links}
    missing = [i for i in by_link if i not in link_map]
    link_map.update(await service.links_by_id(uow, missing))
    post_clicks = await service.clicks_by_post(uow, user.id)
    post_ids = list(dict.fromkeys([*by_post, *post_clicks]))
    titles = await content.titles(uow, post_ids)
    live = await content.live_post_ids(uow, post_ids)
    return AttributionOut(
        totals=[PromotionOut(**_promotion(t)) for t in totals.values()],
        by_post=[
            PostAttributionOut(
                post_id=pid,
                title=titles.get(pid, ""),
                deleted=pid not in live,
                clicks=post_clicks.get(pid, 0),
                **_promotion(s),
            )
            for pid in post_ids
            for s in _per_currency(by_post.get(pid))
        ],
        by_link=[
            LinkAttributionOut(link=share_link_out(link), **_promotion(s))
            for link in link_map.values()
            for s in _per_currency(by_link.get(link.id))
        ],
    )
