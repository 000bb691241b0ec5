"""All queries on payment tables."""

from __future__ import annotations

import functools
import uuid
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import ReturningUpdate

from grassroots.kernel.db import insert_if_absent
from grassroots.kernel.pagination import PageParams, paginate
from grassroots.payments.models import (
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    SandboxCharge,
    SandboxChargeStatus,
    SandboxRefund,
    WebhookReceipt,
)


async def get(session: AsyncSession, payment_id: uuid.UUID) -> Payment | None:
    return await session.get(Payment, payment_id)


async def add(session: AsyncSession, obj: object) -> None:
    session.add(obj)


async def payments_for_order(session: AsyncSession, order_id: uuid.UUID) -> list[Payment]:
    return list((await session.scalars(_FOR_ORDER, {"order_id": order_id})).all())


_FOR_ORDER = select(Payment).where(Payment.order_id == bindparam("order_id")).order_by(Payment.id)


async def transition(
    session: AsyncSession, payment_id: uuid.UUID, from_: set[PaymentStatus], to: PaymentStatus, **values: object
) -> bool:
    """Move a payment's status only from one of ``from_``: one conditional UPDATE."""
    result = await session.execute(
        update(Payment)
        .where(Payment.id == payment_id, Payment.status.in_(from_))
        .values(status=to, **values)
        .execution_options(synchronize_session="evaluate")
    )
    return bool(getattr(result, "rowcount", 0))


async def expire_open(
    session: AsyncSession, order_id: uuid.UUID, *, skip_locked: bool = False
) -> list[tuple[uuid.UUID, str, str | None]]:
    """Expire the order's pending payments; (id, provider, provider_ref) of each. ``skip_locked``
    (PostgreSQL; SQLite has one writer) passes over a row another transaction holds
    instead of waiting for it."""
    open_ = (Payment.order_id == order_id, Payment.status == PaymentStatus.pending)
    stmt = update(Payment).values(status=PaymentStatus.expired)
    if skip_locked:
        free = select(Payment.id).where(*open_).with_for_update(skip_locked=True)
        stmt = stmt.where(Payment.id.in_(free.scalar_subquery()), *open_)
        sync = "fetch"
    else:
        stmt = stmt.where(*open_)
        sync = "evaluate"
    returning = stmt.returning(Payment.id, Payment.provider, Payment.provider_ref)
    rows = await session.execute(returning.execution_options(synchronize_session=sync))
    return [(r.id, r.provider, r.provider_ref) for r in rows]


async def get_refund(session: AsyncSession, refund_id: uuid.UUID) -> Refund | None:
    return await session.get(Refund, refund_id)


async def refunds_page(
    session: AsyncSession, params: PageParams, status: RefundStatus | None
) -> tuple[list[Refund], str | None]:
    stmt = select(Refund)
    if status is not None:
        stmt = stmt.where(Refund.status == status)
    return await paginate(session, stmt, params, [Refund.id])


async def refunds_for_order(session: AsyncSession, order_id: uuid.UUID) -> list[Refund]:
    return list((await session.scalars(select(Refund).where(Refund.order_id == order_id).order_by(Refund.id))).all())


async def transition_refund(
    session: AsyncSession, refund_id: uuid.UUID, from_: set[RefundStatus], to: RefundStatus, **values: object
) -> bool:
    result = await session.execute(
        update(Refund)
        .where(Refund.id == refund_id, Refund.status.in_(from_))
        .values(status=to, **values)
        .execution_options(synchronize_session="evaluate")
    )
    return bool(getattr(result, "rowcount", 0))


async def record_receipt(session: AsyncSession, provider: str, event_id: str, type_: str, at: datetime) -> bool:
    """False when this provider event was already received (a duplicate or a replay)."""
    return await insert_if_absent(
        session, WebhookReceipt, provider=provider, event_id=event_id, type=type_, received_at=at
    )


async def succeed(
    session: AsyncSession, payment_id: uuid.UUID, *, provider: str, amount_minor: int, currency: str, at: datetime
) -> Payment | None:
    """The provider confirmed this amount: mark the payment succeeded if it is pending (or
    expired while the buyer paid) and matches. One UPDATE … RETURNING on the hot path; None
    when nothing matched (the caller looks closer to say why)."""
    params = {"b_id": payment_id, "b_provider": provider, "b_amount": amount_minor, "b_currency": currency, "b_at": at}
    return (await session.scalars(_SUCCEED, params)).one_or_none()


# Built once, as the other statements on the checkout path: building one costs more than
# running it. (An UPDATE's parameters may not be named after its table's columns.)
_SUCCEED = (
    update(Payment)
    .where(
        Payment.id == bindparam("b_id"),
        Payment.provider == bindparam("b_provider"),
        Payment.amount_minor == bindparam("b_amount"),
        Payment.currency == bindparam("b_currency"),
        # Failed too: a provider may report a success after a failure (a declined card,
        # then a retry on the same checkout); the money arrived and must be booked.
        Payment.status.in_((PaymentStatus.pending, PaymentStatus.expired, PaymentStatus.failed)),
    )
    .values(status=PaymentStatus.succeeded, settled_at=bindparam("b_at"))
    .returning(Payment)
    .execution_options(synchronize_session=False, populate_existing=True)
)


async def close_open_charge(
    session: AsyncSession, payment_id: uuid.UUID, to: SandboxChargeStatus, *, fail_refunds: bool = False
) -> SandboxCharge | None:
    """Move the payment's sandbox charge from open to ``to``: one UPDATE … RETURNING, so two
    racing presses of Pay cannot both capture; None when it is not open (or not there)."""
    params = {"b_payment_id": payment_id, "b_fail_refunds": fail_refunds}
    return (await session.scalars(_close_charge(to), params)).one_or_none()


@functools.cache
def _close_charge(to: SandboxChargeStatus) -> ReturningUpdate[SandboxCharge]:
    return (
        update(SandboxCharge)
        .where(SandboxCharge.payment_id == bindparam("b_payment_id"), SandboxCharge.status == SandboxChargeStatus.open)
        .values(status=to, fail_refunds=bindparam("b_fail_refunds"))
        .returning(SandboxCharge)
        .execution_options(synchronize_session=False, populate_existing=True)
    )


async def sandbox_charge_for(session: AsyncSession, payment_id: uuid.UUID) -> SandboxCharge | None:
    return (await session.scalars(select(SandboxCharge).where(SandboxCharge.payment_id == payment_id))).one_or_none()


async def sandbox_charge(session: AsyncSession, charge_id: str) -> SandboxCharge | None:
    return await session.get(SandboxCharge, charge_id)


async def sandbox_refunded_total(session: AsyncSession, charge_id: str) -> int:
    rows = await session.scalars(
        select(SandboxRefund.amount_minor).where(SandboxRefund.charge_id == charge_id, SandboxRefund.failed.is_(False))
    )
    return sum(rows.all())
