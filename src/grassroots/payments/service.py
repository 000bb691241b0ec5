"""Payments: one interface for payment providers, and the rules around them.

Only a verified provider webhook changes a payment's outcome. Each provider event is
recorded once (``webhook_receipts``), so duplicated, replayed or late deliveries change
nothing; a forged or stale signature is refused. Commerce learns of outcomes through
subscribers registered here, called in the webhook's own transaction (payments does not
depend on commerce).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from grassroots.kernel.auth import Principal, Role
from grassroots.kernel.db import insert_new
from grassroots.kernel.errors import BadRequest, Conflict, Invalid, NotFound
from grassroots.kernel.ids import new_id
from grassroots.kernel.money import Money
from grassroots.kernel.pagination import PageParams
from grassroots.kernel.uow import UnitOfWork
from grassroots.payments import repository
from grassroots.payments.models import Payment, PaymentStatus, Refund, RefundStatus

log = logging.getLogger("grassroots.payments")


@dataclass(frozen=True, slots=True)
class Checkout:
    provider_ref: str
    redirect_url: str


@dataclass(frozen=True, slots=True)
class ProviderEvent:
    id: str
    type: str  # payment.succeeded | payment.failed | refund.succeeded | refund.failed
    payment_id: uuid.UUID | None
    refund_id: uuid.UUID | None
    amount_minor: int
    currency: str
    reason: str | None = None


class PaymentProvider(Protocol):
    name: str

    async def create_checkout(
        self, uow: UnitOfWork, payment: Payment, *, description: str, return_url: str
    ) -> Checkout:
        """Open a hosted checkout for ``payment``; the buyer is sent to ``redirect_url``."""
        ...

    async def refund(self, uow: UnitOfWork, payment: Payment, refund: Refund) -> str:
        """Ask the provider to return ``refund.amount_minor``; the outcome arrives by webhook."""
        ...

    async def expire_checkout(self, uow: UnitOfWork, payment_id: uuid.UUID, provider_ref: str | None) -> None:
        """Close the hosted checkout so the buyer can no longer pay it. A payment the buyer
        already made still arrives by webhook (and is refunded if the order is gone)."""
        ...

    async def checkout_ended_unpaid(self, uow: UnitOfWork, payment: Payment) -> bool:
        """Whether the hosted checkout ended without the buyer paying (declined, expired),
        though the webhook saying so may still be on its way (a real provider: retrieve
        the session). A paid checkout is not: its money is on the way."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> ProviderEvent:
        """Verify the signature and freshness of a delivery and decode it, or raise BadRequest."""
        ...


PaymentHook = Callable[[UnitOfWork, Payment], Awaitable[None]]
RefundHook = Callable[[UnitOfWork, Refund], Awaitable[None]]
_on_payment_succeeded: list[PaymentHook] = []
_on_refund_succeeded: list[RefundHook] = []


def on_payment_succeeded(fn: PaymentHook) -> PaymentHook:
    _on_payment_succeeded.append(fn)
    return fn


def on_refund_succeeded(fn: RefundHook) -> RefundHook:
    _on_refund_succeeded.append(fn)
    return fn


def providers(uow: UnitOfWork) -> dict[str, PaymentProvider]:
    from grassroots.payments.sandbox import SANDBOX

    return {SANDBOX.name: SANDBOX} if uow.settings.sandbox_enabled else {}


def provider(uow: UnitOfWork, name: str) -> PaymentProvider:
    found = providers(uow).get(name)
    if found is None:
        raise Invalid(f"Unknown payment provider {name!r}.", code="unknown_provider", fields={"provider": "unknown"})
    return found


def webhook_secret(secret_key: str, provider_name: str) -> str:
    """The secret a provider signs its webhooks with (derived per provider from the platform key)."""
    return hmac.new(secret_key.encode(), f"webhook:{provider_name}".encode(), hashlib.sha256).hexdigest()


async def start_payment(
    uow: UnitOfWork,
    *,
    order_id: uuid.UUID,
    payer_id: uuid.UUID,
    amount: Money,
    description: str,
    return_url: str,
    provider_name: str,
) -> Payment:
    """A hosted checkout for the order; asking again while one is open returns it."""
    chosen = provider(uow, provider_name)
    earlier = await repository.payments_for_order(uow.session, order_id)
    for p in earlier:
        if p.status == PaymentStatus.succeeded:
            raise Conflict("This order is already paid.", code="invalid_state")
    for p in earlier:
        if p.status == PaymentStatus.failed and p.provider == chosen.name:
            # A declined card can leave the provider's checkout open for another try. It is
            # closed before a new one opens, so no order has two checkouts that both take money.
            await chosen.expire_checkout(uow, p.id, p.provider_ref)
            if not await chosen.checkout_ended_unpaid(uow, p):
                return p  # paid there after all, a moment ago: its webhook is on the way
            continue
        # A checkout declined a moment ago stays pending here until its webhook arrives;
        # the buyer who presses Pay again meanwhile gets a new one, not the closed page.
        if p.status != PaymentStatus.pending or p.provider != chosen.name:
            continue
        if not await chosen.checkout_ended_unpaid(uow, p):
            return p
        # The provider says so itself (its webhook will find this done); one pending
        # payment per order, so this one is closed before the new one opens.
        await repository.transition(
            uow.session,
            p.id,
            {PaymentStatus.pending},
            PaymentStatus.failed,
            settled_at=uow.now(),
            failure_reason="the checkout ended unpaid",
        )
    payment = Payment(
        id=new_id(),
        order_id=order_id,
        payer_id=payer_id,
        provider=chosen.name,
        redirect_url="",
        status=PaymentStatus.pending,
        amount_minor=amount.amount,
        currency=amount.currency,
        created_at=uow.now(),
    )
    checkout = await chosen.create_checkout(uow, payment, description=description, return_url=return_url)
    payment.provider_ref = checkout.provider_ref
    payment.redirect_url = checkout.redirect_url
    await insert_new(uow.session, payment)  # stays transient: returned, not changed
    return payment


async def expire_open_payments(uow: UnitOfWork, order_id: uuid.UUID, *, skip_locked: bool = False) -> None:
    """Close the order's open checkouts, here and at their providers (a page still open in
    another tab must not take the money); ``skip_locked`` leaves one a webhook is settling."""
    known = providers(uow)
    for payment_id, provider_name, provider_ref in await repository.expire_open(
        uow.session, order_id, skip_locked=skip_locked
    ):
        chosen = known.get(provider_name)
        if chosen is not None:  # a provider since switched off has no page to close
            await chosen.expire_checkout(uow, payment_id, provider_ref)
    # A declined card can leave the provider's checkout open for another try: close those too.
    for p in await repository.payments_for_order(uow.session, order_id):
        chosen = known.get(p.provider)
        if p.status == PaymentStatus.failed and chosen is not None:
            await chosen.expire_checkout(uow, p.id, p.provider_ref)


async def get_payment(uow: UnitOfWork, payment_id: uuid.UUID, viewer: Principal | None = None) -> Payment:
    payment = await repository.get(uow.session, payment_id)
    if payment is None or (viewer is not None and viewer.role != Role.admin and viewer.id != payment.payer_id):
        raise NotFound("No such payment.", code="payment_not_found")
    return payment


async def payments_for_order(uow: UnitOfWork, order_id: uuid.UUID) -> list[Payment]:
    return await repository.payments_for_order(uow.session, order_id)


async def list_refunds(
    uow: UnitOfWork, params: PageParams, status: RefundStatus | None = None
) -> tuple[list[Refund], str | None]:
    """Every refund, newest first (an operator's worklist: the failed ones to send again)."""
    return await repository.refunds_page(uow.session, params, status)


async def refunds_for_order(uow: UnitOfWork, order_id: uuid.UUID) -> list[Refund]:
    return await repository.refunds_for_order(uow.session, order_id)


async def refund(uow: UnitOfWork, payment: Payment, reason: str) -> Refund:
    """Return a succeeded payment in full, through its provider."""
    chosen = providers(uow).get(payment.provider)
    if chosen is None:
        raise Conflict(f"The {payment.provider} provider is not available.", code="provider_unavailable")
    record = Refund(
        id=new_id(),
        payment_id=payment.id,
        order_id=payment.order_id,
        status=RefundStatus.pending,
        amount_minor=payment.amount_minor,
        currency=payment.currency,
        reason=reason[:200],
        created_at=uow.now(),
    )
    await repository.add(uow.session, record)
    record.provider_ref = await chosen.refund(uow, payment, record)
    return record


async def refund_payment(uow: UnitOfWork, payment_id: uuid.UUID, reason: str) -> Refund:
    payment = await repository.get(uow.session, payment_id)
    if payment is None or payment.status != PaymentStatus.succeeded:
        raise Conflict("Only a succeeded payment can be refunded.", code="refund_not_possible")
    return await refund(uow, payment, reason)


async def retry_refund(uow: UnitOfWork, refund_id: uuid.UUID) -> Refund:
    failed = await repository.get_refund(uow.session, refund_id)
    if failed is None:
        raise NotFound("No such refund.", code="refund_not_found")
    if failed.status != RefundStatus.failed:
        raise Conflict(f"The refund is {failed.status.value}; only failed refunds are retried.", code="invalid_state")
    payment = await repository.get(uow.session, failed.payment_id)
    assert payment is not None
    chosen = providers(uow).get(payment.provider)
    if chosen is None:
        raise Conflict(f"The {payment.provider} provider is not available.", code="provider_unavailable")
    # Conditional: of two retries at once, one reaches the provider; the other is told so.
    if not await repository.transition_refund(
        uow.session, failed.id, {RefundStatus.failed}, RefundStatus.pending, failure_reason=None, completed_at=None
    ):
        raise Conflict("The refund is already being retried.", code="invalid_state")
    await uow.session.refresh(failed)
    failed.provider_ref = await chosen.refund(uow, payment, failed)
    return failed


async def handle_webhook(uow: UnitOfWork, provider_name: str, headers: Mapping[str, str], body: bytes) -> str:
    """Apply one verified provider event; ``processed``, ``duplicate`` or ``ignored``."""
    chosen = providers(uow).get(provider_name)
    if chosen is None:
        raise NotFound("No such payment provider.", code="not_found")
    event = chosen.parse_webhook(headers, body, webhook_secret(uow.platform.secret_key, chosen.name))
    if not await repository.record_receipt(uow.session, chosen.name, event.id, event.type, uow.now()):
        return "duplicate"
    now = uow.now()
    if event.type == "payment.succeeded" and event.payment_id is not None:
        # Pending, expired while the buyer was paying, or failed before a retry succeeded
        # (the money arrived either way), in one statement; anything else (unknown,
        # mismatched, settled) takes the closer look below.
        payment = await repository.succeed(
            uow.session,
            event.payment_id,
            provider=chosen.name,
            amount_minor=event.amount_minor,
            currency=event.currency,
            at=now,
        )
        if payment is not None:
            uow.emit("payments.payment_succeeded", {"payment_id": payment.id, "order_id": payment.order_id})
            for hook in _on_payment_succeeded:
                await hook(uow, payment)
            return "processed"
    if event.type in ("payment.succeeded", "payment.failed"):
        payment = await repository.get(uow.session, event.payment_id) if event.payment_id else None
        if payment is None or payment.provider != chosen.name:
            log.warning("webhook %s for unknown payment %s", event.id, event.payment_id)
            return "ignored"
        if event.type == "payment.failed":
            await repository.transition(
                uow.session,
                payment.id,
                {PaymentStatus.pending},
                PaymentStatus.failed,
                settled_at=now,
                failure_reason=(event.reason or "declined")[:200],
            )
            return "processed"
        if (event.amount_minor, event.currency) != (payment.amount_minor, payment.currency):
            raise BadRequest("The event's amount does not match the payment.", code="amount_mismatch")
        return "processed"  # a matching payment that ``succeed`` left alone is settled already
    if event.type in ("refund.succeeded", "refund.failed"):
        record = await repository.get_refund(uow.session, event.refund_id) if event.refund_id else None
        if record is None:
            log.warning("webhook %s for unknown refund %s", event.id, event.refund_id)
            return "ignored"
        paid = await repository.get(uow.session, record.payment_id)
        if paid is None or paid.provider != chosen.name:
            log.warning("webhook %s for refund %s of another provider", event.id, record.id)
            return "ignored"
        if (event.amount_minor, event.currency) != (record.amount_minor, record.currency):
            raise BadRequest("The event's amount does not match the refund.", code="amount_mismatch")
        if event.type == "refund.failed":
            await repository.transition_refund(
                uow.session,
                record.id,
                {RefundStatus.pending},
                RefundStatus.failed,
                completed_at=now,
                failure_reason=(event.reason or "failed")[:200],
            )
            uow.emit("payments.refund_failed", {"refund_id": record.id, "order_id": record.order_id})
            return "processed"
        # From failed too: a success reported after a failure means the buyer has the money
        # (and the refund must leave the operator's list of refunds to send again).
        moved = await repository.transition_refund(
            uow.session,
            record.id,
            {RefundStatus.pending, RefundStatus.failed},
            RefundStatus.succeeded,
            completed_at=now,
        )
        if moved:
            for refund_hook in _on_refund_succeeded:
                await refund_hook(uow, record)
        return "processed"
    log.info("ignoring %s event %s", event.type, event.id)
    return "ignored"
