"""Keeps the search index in step with products, posts and users."""

from __future__ import annotations

import uuid

from grassroots.flow import service
from grassroots.kernel.events import Event, on
from grassroots.kernel.jobs import periodic
from grassroots.kernel.platform import Platform
from grassroots.kernel.uow import UnitOfWork


@on("catalog.product_created", key="flow.index_new_product")
@on("catalog.product_updated", key="flow.index_product")
async def index_product(uow: UnitOfWork, event: Event) -> None:
    await service.index_product(uow, uuid.UUID(event.payload["product_id"]))


@on("content.post_published", key="flow.index_post")
@on("content.post_deleted", key="flow.unindex_post")
async def index_post(uow: UnitOfWork, event: Event) -> None:
    await service.index_post(uow, uuid.UUID(event.payload["post_id"]))


@on("identity.user_signed_up", key="flow.index_user")
async def index_user(uow: UnitOfWork, event: Event) -> None:
    await service.index_user(uow, uuid.UUID(event.payload["user_id"]))


@on("identity.user_suspended", key="flow.unindex_suspended_user")
@on("identity.user_reinstated", key="flow.index_reinstated_user")
async def account_suspended_or_back(uow: UnitOfWork, event: Event) -> None:
    """The account leaves (or rejoins) search, and discover ranks without (or with) its posts."""
    await service.index_user(uow, uuid.UUID(event.payload["user_id"]))
    await service.rank_again_soon(uow)


@periodic(3600, name="flow.refresh_search")
async def refresh_search(platform: Platform) -> int:
    """Hourly: search popularity follows recent posts' engagement and products' sales."""
    async with platform.unit_of_work() as uow:
        posts = await service.refresh_recent_posts(uow)
    return posts + await service.refresh_product_popularity(platform)
