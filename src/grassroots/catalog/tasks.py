"""A supplier's goods follow its account: off sale while suspended, back on sale after."""

from __future__ import annotations

import uuid

from grassroots.catalog import service
from grassroots.kernel.events import Event, on
from grassroots.kernel.uow import UnitOfWork


@on("identity.user_suspended", key="catalog.suspend_goods")
@on("identity.user_reinstated", key="catalog.restore_goods")
async def follow_account(uow: UnitOfWork, event: Event) -> None:
    await service.follow_supplier_account(uow, uuid.UUID(event.payload["user_id"]))
