"""Content reacts to sales: a paid order bought from a post counts on that post, and a
refunded one stops counting."""

from __future__ import annotations

import uuid
from typing import Any

from grassroots.content import service
from grassroots.kernel.events import Event, on
from grassroots.kernel.jobs import periodic
from grassroots.kernel.platform import Platform
from grassroots.kernel.uow import UnitOfWork


def _from_post(payload: dict[str, Any]) -> bool:
    return bool(payload.get("post_id"))


@on("commerce.order_paid", key="content.count_post_order", when=_from_post)
async def count_post_order(uow: UnitOfWork, event: Event) -> None:
    post_id = event.payload.get("post_id")
    if post_id:
        await service.bump(uow, uuid.UUID(post_id), orders=1)


@on("commerce.order_refunded", key="content.uncount_post_order", when=_from_post)
async def uncount_post_order(uow: UnitOfWork, event: Event) -> None:
    post_id = event.payload.get("post_id")
    if post_id:
        await service.bump(uow, uuid.UUID(post_id), orders=-1)


@periodic(3600, name="content.purge_unattached_media")
async def purge_unattached_media(platform: Platform) -> int:
    total = 0
    while True:
        async with platform.unit_of_work() as uow:
            n = await service.purge_unattached_media(uow)
        total += n
        if n < 500:
            return total
