"""Commerce jobs driven by time: expiring unpaid orders, receiving long-shipped ones,
settling orders whose return window has closed; and cancelling a suspended supplier's
unpaid orders. They read time from the platform clock,
so the test clock moves them too."""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from grassroots.commerce import service
from grassroots.kernel import idempotency
from grassroots.kernel.events import Event, on
from grassroots.kernel.jobs import periodic
from grassroots.kernel.uow import UnitOfWork

if TYPE_CHECKING:
    from grassroots.kernel.platform import Platform

log = logging.getLogger("grassroots.commerce")


@periodic(30, name="commerce.expire_unpaid_orders")
async def expire_unpaid_orders(platform: Platform) -> int:
    total = 0
    while True:
        async with platform.unit_of_work(write=False) as uow:
            due = await service.due_for_expiry(uow)
        for order_id in due:
            async with platform.unit_of_work() as uow:
                total += await service.expire(uow, order_id)
        if len(due) < service.BATCH:
            return total


@periodic(300, name="commerce.auto_receive")
async def auto_receive(platform: Platform) -> int:
    total, more = 0, True
    while more:  # a batch per transaction, until none is left
        async with platform.unit_of_work() as uow:
            done, more = await service.auto_receive_due(uow)
        total += done
    return total


@periodic(600, name="commerce.settle")
async def settle(platform: Platform) -> int:
    total, more = 0, True
    while more:  # a batch per transaction, until none is left
        async with platform.unit_of_work() as uow:
            settled, more = await service.settle_batch(uow)
        total += len(settled)
    if total:
        log.info("settled orders", extra={"count": total})
    return total


@periodic(3600, name="kernel.purge_idempotency_keys")
async def purge_idempotency_keys(platform: Platform) -> int:
    async with platform.unit_of_work() as uow:
        return await idempotency.purge(uow)


@on("identity.user_suspended", key="commerce.cancel_unpaid_of_suspended_supplier")
async def cancel_unpaid_of_suspended_supplier(uow: UnitOfWork, event: Event) -> None:
    await service.cancel_unpaid_of_suspended_supplier(uow, uuid.UUID(event.payload["user_id"]))
