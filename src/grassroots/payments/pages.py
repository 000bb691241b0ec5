"""The sandbox provider's hosted checkout page (stands in for a real provider's site)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from grassroots.kernel.auth import open_access
from grassroots.kernel.deps import UoW
from grassroots.payments import sandbox
from grassroots.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/sandbox/payments/{payment_id}", dependencies=[Depends(open_access)])
async def hosted_checkout(request: Request, payment_id: uuid.UUID, uow: UoW) -> Response:
    charge = await sandbox.charge_for(uow, payment_id)
    return render(request, "payments/sandbox_checkout.html", {"charge": charge, "payment_id": payment_id})
