"""The sandbox provider's hosted checkout page (stands in for a real provider's site)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from grassroots.kernel.auth import AdminUser, Role, open_access
from grassroots.kernel.deps import UoW
from grassroots.kernel.i18n import N_
from grassroots.kernel.pagination import Paging
from grassroots.payments import sandbox, service
from grassroots.payments.api import shop_url
from grassroots.payments.models import RefundStatus
from grassroots.web import nav
from grassroots.web.actions import act, safe_next
from grassroots.web.forms import text
from grassroots.web.session import CsrfForm
from grassroots.web.templating import render

router = APIRouter(include_in_schema=False)  # the sandbox's hosted page: only while it is on
admin_router = APIRouter(include_in_schema=False)
nav.register("/admin/refunds", N_("Refunds"), (Role.admin,), order=30)
RETRY_ERRORS = {
    "invalid_state": N_("This refund is no longer waiting to be sent again: it was sent already."),
    "provider_unavailable": N_("Its payment provider is switched off here; switch it on to send the refund."),
    "refund_not_possible": N_("The payment provider has nothing left to refund for this payment."),
}
TABS = [("failed", N_("To send again")), ("pending", N_("Pending")), ("succeeded", N_("Succeeded"))]


@router.get("/sandbox/payments/{payment_id}", dependencies=[Depends(open_access)])
async def hosted_checkout(request: Request, payment_id: uuid.UUID, uow: UoW) -> Response:
    charge = await sandbox.charge_for(uow, payment_id)
    back = shop_url(charge.return_url, charge.status.value)
    return render(request, "payments/sandbox_checkout.html", {"charge": charge, "payment_id": payment_id, "back": back})


@admin_router.get("/admin/refunds")
async def refunds(request: Request, _admin: AdminUser, uow: UoW, paging: Paging, status: str = "failed") -> Response:
    chosen = RefundStatus(status) if status in RefundStatus.__members__ else RefundStatus.failed
    rows, next_cursor = await service.list_refunds(uow, paging, chosen)
    return render(
        request,
        "payments/admin_refunds.html",
        {"refunds": rows, "next_cursor": next_cursor, "status": chosen.value, "tabs": TABS},
    )


@admin_router.post("/admin/refunds/{refund_id}/retry")
async def retry_refund(request: Request, refund_id: uuid.UUID, form: CsrfForm, _admin: AdminUser, uow: UoW) -> Response:
    back = safe_next(text(form, "next", 300), "/admin/refunds?status=failed")
    done = N_("Sent to the payment provider again.")
    action = service.retry_refund(uow, refund_id)
    return await act(request, uow, action, redirect=back, done=done, messages=RETRY_ERRORS)
