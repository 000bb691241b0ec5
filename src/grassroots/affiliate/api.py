"""Affiliate API: the pool for creators, showcases for everyone."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response

from grassroots.affiliate import service
from grassroots.affiliate.schemas import PoolItemOut, ShowcaseEntryOut, ShowcaseIn
from grassroots.catalog.api import product_out
from grassroots.kernel.auth import MaybeUser, Principal, Role, require
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
    products, next_cursor = await service.pool(uow, paging, category=category, sort=sort)
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
    entries, next_cursor = await service.showcase(uow, creator_id, paging, viewer)
    return Page(
        items=[ShowcaseEntryOut(product=product_out(e.product), added_at=e.added_at) for e in entries],
        next_cursor=next_cursor,
    )
