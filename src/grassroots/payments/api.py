"""Payments API: payment status, the providers' webhooks, and the sandbox provider's
hosted-checkout actions."""

from __future__ import annotations

import uuid
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from grassroots.kernel.auth import AdminUser, Principal, Role, open_access, require
from grassroots.kernel.deps import UoW
from grassroots.kernel.errors import Invalid
from grassroots.kernel.pagination import Page, Paging
from grassroots.payments import sandbox, service
from grassroots.payments.models import RefundStatus
from grassroots.payments.schemas import PaymentOut, RefundOut, SandboxActionIn, SandboxChargeOut, WebhookAck

router = APIRouter(prefix="/api/v1", tags=["payments"])
sandbox_router = APIRouter(prefix="/sandbox/payments", tags=["sandbox provider"])

Payer = Annotated[Principal, Depends(require(Role.consumer, Role.admin))]


@router.get("/payments/{payment_id}", response_model=PaymentOut)
async def get_payment(payment_id: uuid.UUID, viewer: Payer, uow: UoW) -> PaymentOut:
    return PaymentOut.model_validate(await service.get_payment(uow, payment_id, viewer))


@router.post("/payments/{provider}/webhook", response_model=WebhookAck, dependencies=[Depends(open_access)])
async def webhook(provider: str, request: Request, uow: UoW) -> WebhookAck:
    """Where providers report outcomes. Only a correctly signed, fresh delivery is applied;
    a repeated event id changes nothing (``duplicate``)."""
    status = await service.handle_webhook(uow, provider, request.headers, await request.body())
    return WebhookAck(status=status)


@router.get("/admin/refunds", response_model=Page[RefundOut])
async def list_refunds(
    _admin: AdminUser, uow: UoW, paging: Paging, status: RefundStatus | None = None
) -> Page[RefundOut]:
    """Every refund, newest first; ``status=failed``: the ones the provider refused, to send again."""
    rows, next_cursor = await service.list_refunds(uow, paging, status)
    return Page(items=[RefundOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.post("/admin/refunds/{refund_id}/retry", response_model=RefundOut)
async def retry_refund(refund_id: uuid.UUID, _admin: AdminUser, uow: UoW) -> RefundOut:
    """Send a failed refund to the provider again. Only a failed refund is retried, once at a
    time: a second retry, or one of a refund that is not failed, is 409 ``invalid_state``."""
    return RefundOut.model_validate(await service.retry_refund(uow, refund_id))


def shop_url(return_url: str, charge_status: str) -> str:
    """Where the sandbox sends the buyer back: the return URL after a payment; else (a
    provider's cancel URL) the same without ``processing`` and with ``unpaid=1``: nothing
    to confirm, and the shop says the payment did not go through."""
    if charge_status == "captured":
        return return_url
    path, _, query = return_url.partition("?")
    kept = [(k, v) for k, v in parse_qsl(query) if k not in ("processing", "unpaid")]
    return path + "?" + urlencode([*kept, ("unpaid", "1")])


def _sandbox_answer(request: Request, charge_status: str, payment_id: uuid.UUID, return_url: str) -> Response:
    if "text/html" in request.headers.get("accept", ""):
        # back to the shop, as a real provider does
        return RedirectResponse(shop_url(return_url, charge_status), status_code=303)
    return Response(
        SandboxChargeOut(payment_id=payment_id, status=charge_status, return_url=return_url).model_dump_json(),
        media_type="application/json",
    )


async def _sandbox_options(request: Request) -> SandboxActionIn:
    """The hosted page posts a form; API clients may post JSON (or nothing)."""
    content_type = request.headers.get("content-type", "")
    if "form" in content_type:
        form = await request.form()
        return SandboxActionIn(fail_refunds=bool(form.get("fail_refunds")))
    raw = await request.body()
    if not raw.strip():
        return SandboxActionIn()
    try:
        return SandboxActionIn.model_validate_json(raw)
    except ValueError:
        raise Invalid('Send {} or {"fail_refunds": true}.', code="validation_error") from None


SandboxOptions = Annotated[SandboxActionIn, Depends(_sandbox_options)]


@sandbox_router.post(
    "/{payment_id}/confirm",
    response_model=SandboxChargeOut,
    dependencies=[Depends(open_access)],
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"fail_refunds": {"type": "boolean"}},
                        "additionalProperties": False,
                    }
                }
            },
        }
    },
)
async def sandbox_confirm(payment_id: uuid.UUID, options: SandboxOptions, request: Request, uow: UoW) -> Response:
    """The hosted page's Pay button: the sandbox captures the money and reports it to the
    platform by signed webhook, asynchronously. ``fail_refunds`` makes later refunds fail."""
    charge = await sandbox.confirm(uow, payment_id, fail_refunds=options.fail_refunds)
    return _sandbox_answer(request, charge.status.value, payment_id, charge.return_url)


@sandbox_router.post("/{payment_id}/decline", response_model=SandboxChargeOut, dependencies=[Depends(open_access)])
async def sandbox_decline(payment_id: uuid.UUID, request: Request, uow: UoW) -> Response:
    charge = await sandbox.decline(uow, payment_id)
    return _sandbox_answer(request, charge.status.value, payment_id, charge.return_url)
