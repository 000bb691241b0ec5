"""The sandbox payment provider: behaves like a hosted-checkout provider, with no money.

The buyer is sent to a hosted page (``/sandbox/payments/{payment_id}``) with Pay and
Decline buttons. Its answers, and refunds, reach the platform only as HMAC-signed
webhooks delivered asynchronously (through the outbox, retried until accepted), exactly
like a real provider's: ``Sandbox-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
"t.body">``; deliveries older than five minutes are refused. The provider keeps its own
records (``sandbox_charges``, ``sandbox_refunds``) as a real one keeps them on its side.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from grassroots.kernel.db import insert_new
from grassroots.kernel.errors import BadRequest, Conflict, NotFound
from grassroots.kernel.text import storable
from grassroots.kernel.uow import UnitOfWork
from grassroots.payments import repository
from grassroots.payments.models import Payment, Refund, SandboxCharge, SandboxChargeStatus, SandboxRefund
from grassroots.payments.service import Checkout, ProviderEvent

if TYPE_CHECKING:
    from grassroots.kernel.platform import Platform

SIGNATURE_HEADER = "sandbox-signature"
TOLERANCE_SECONDS = 300
MAX_MINOR = 2**63 - 1  # the largest amount a BIGINT column holds
WEBHOOK_EVENT = "payments.sandbox_webhook"
WEBHOOK_PATH = "/api/v1/payments/sandbox/webhook"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _event(uow: UnitOfWork, type_: str, data: dict[str, Any]) -> None:
    body = {"id": "evt_" + secrets.token_hex(12), "type": type_, "created": int(time.time()), "data": data}
    uow.emit(WEBHOOK_EVENT, {"body": body})


class SandboxProvider:
    name = "sandbox"

    async def create_checkout(
        self, uow: UnitOfWork, payment: Payment, *, description: str, return_url: str
    ) -> Checkout:
        charge = SandboxCharge(
            id="sbx_ch_" + secrets.token_hex(10),
            payment_id=payment.id,
            amount_minor=payment.amount_minor,
            currency=payment.currency,
            description=description[:300],
            return_url=return_url,
            status=SandboxChargeStatus.open,
            fail_refunds=False,
            created_at=uow.now(),
        )
        await insert_new(uow.session, charge)
        return Checkout(provider_ref=charge.id, redirect_url=f"/sandbox/payments/{payment.id}")

    async def refund(self, uow: UnitOfWork, payment: Payment, refund: Refund) -> str:
        charge = await repository.sandbox_charge_for(uow.session, payment.id)
        if charge is None or charge.status != SandboxChargeStatus.captured:
            raise Conflict("The sandbox has no captured charge for this payment.", code="refund_not_possible")
        already = await repository.sandbox_refunded_total(uow.session, charge.id)
        if already + refund.amount_minor > charge.amount_minor:
            raise Conflict("The refund is larger than what is left of the charge.", code="refund_not_possible")
        record = SandboxRefund(
            id="sbx_re_" + secrets.token_hex(10),
            charge_id=charge.id,
            refund_id=refund.id,
            amount_minor=refund.amount_minor,
            failed=charge.fail_refunds,
            created_at=uow.now(),
        )
        await repository.add(uow.session, record)
        data = {
            "refund_id": str(refund.id),
            "payment_id": str(payment.id),
            "amount_minor": refund.amount_minor,
            "currency": refund.currency,
        }
        if charge.fail_refunds:
            _event(uow, "refund.failed", {**data, "reason": "the card issuer refused the refund"})
        else:
            _event(uow, "refund.succeeded", data)
        return record.id

    async def expire_checkout(self, uow: UnitOfWork, payment_id: uuid.UUID, provider_ref: str | None) -> None:
        # The same conditional UPDATE as Pay and Decline: whichever commits first wins.
        await repository.close_open_charge(uow.session, payment_id, SandboxChargeStatus.expired)

    async def checkout_ended_unpaid(self, uow: UnitOfWork, payment: Payment) -> bool:
        charge = await repository.sandbox_charge_for(uow.session, payment.id)
        return charge is not None and charge.status in (SandboxChargeStatus.declined, SandboxChargeStatus.expired)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> ProviderEvent:
        header = headers.get(SIGNATURE_HEADER, "")
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        try:
            timestamp = int(parts.get("t", ""))
        except ValueError:
            raise BadRequest("Missing or malformed webhook signature.", code="webhook_signature_invalid") from None
        expected = sign(secret, body, timestamp).split("v1=", 1)[1]
        given = parts.get("v1", "")
        if not hmac.compare_digest(expected.encode(), given.encode("utf-8", "surrogateescape")):
            raise BadRequest("The webhook signature does not match.", code="webhook_signature_invalid")
        if abs(time.time() - timestamp) > TOLERANCE_SECONDS:
            raise BadRequest("The webhook delivery is too old (possible replay).", code="webhook_signature_invalid")
        try:
            payload = json.loads(body)
            data = payload["data"]
            amount = data.get("amount_minor", 0)
            if type(amount) is not int or not 0 <= amount <= MAX_MINOR:  # not 5000.7, true, Infinity or 10**30
                raise ValueError("amount_minor")
            reason = data.get("reason")
            if reason is not None:
                reason = _text(reason)
            return ProviderEvent(
                id=_text(str(payload["id"]))[:100],
                type=_text(str(payload["type"])),
                payment_id=uuid.UUID(data["payment_id"]) if data.get("payment_id") else None,
                refund_id=uuid.UUID(data["refund_id"]) if data.get("refund_id") else None,
                amount_minor=amount,
                currency=_text(str(data.get("currency", ""))),
                reason=reason,
            )
        # RecursionError: JSON nested too deep for the parser.
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError):
            raise BadRequest("The webhook body is not a sandbox event.", code="webhook_malformed") from None


def _text(value: object) -> str:
    """A string a column can hold."""
    if not isinstance(value, str) or not storable(value):
        raise ValueError("not storable text")
    return value


SANDBOX = SandboxProvider()


# ------------------------------------------------------------------ the hosted page's actions


async def charge_for(uow: UnitOfWork, payment_id: uuid.UUID) -> SandboxCharge:
    charge = await repository.sandbox_charge_for(uow.session, payment_id)
    if charge is None:
        raise NotFound("No such sandbox checkout.", code="checkout_not_found")
    return charge


async def _closed(uow: UnitOfWork, payment_id: uuid.UUID, done: SandboxChargeStatus) -> SandboxCharge:
    """The charge was not open: the same answer again when it already went ``done``'s way,
    else 409 (or 404 when there is no such checkout)."""
    charge = await charge_for(uow, payment_id)
    if charge.status != done:
        raise Conflict(f"This checkout was {charge.status.value}.", code="checkout_closed")
    return charge


async def confirm(uow: UnitOfWork, payment_id: uuid.UUID, *, fail_refunds: bool = False) -> SandboxCharge:
    """The buyer pressed Pay: capture, and tell the platform by webhook (asynchronously)."""
    captured = SandboxChargeStatus.captured
    charge = await repository.close_open_charge(uow.session, payment_id, captured, fail_refunds=fail_refunds)
    if charge is None:
        return await _closed(uow, payment_id, captured)
    _event(
        uow,
        "payment.succeeded",
        {"payment_id": str(payment_id), "amount_minor": charge.amount_minor, "currency": charge.currency},
    )
    return charge


async def decline(uow: UnitOfWork, payment_id: uuid.UUID) -> SandboxCharge:
    charge = await repository.close_open_charge(uow.session, payment_id, SandboxChargeStatus.declined)
    if charge is None:
        return await _closed(uow, payment_id, SandboxChargeStatus.declined)
    _event(
        uow,
        "payment.failed",
        {
            "payment_id": str(payment_id),
            "amount_minor": charge.amount_minor,
            "currency": charge.currency,
            "reason": "declined by the buyer",
        },
    )
    return charge


async def deliver_locally(platform: Platform) -> int:
    """Deliver the sandbox's pending webhooks without HTTP, signed and verified as usual
    (seeding a demo, or tests that drive services directly). Returns how many."""
    from sqlalchemy import select

    from grassroots.kernel.models import OutboxEvent
    from grassroots.payments.service import handle_webhook, webhook_secret

    async with platform.unit_of_work(write=False) as uow:
        stmt = select(OutboxEvent).where(OutboxEvent.name == WEBHOOK_EVENT, OutboxEvent.dispatched_at.is_(None))
        pending = [(e.id, json.dumps(e.payload["body"]).encode()) for e in await uow.session.scalars(stmt)]
    secret = webhook_secret(platform.secret_key, SANDBOX.name)
    for event_id, body in pending:
        async with platform.unit_of_work() as uow:
            await handle_webhook(uow, SANDBOX.name, {SIGNATURE_HEADER: sign(secret, body, int(time.time()))}, body)
            row = await uow.session.get(OutboxEvent, event_id)
            if row is not None:
                row.dispatched_at = uow.now()
    return len(pending)
