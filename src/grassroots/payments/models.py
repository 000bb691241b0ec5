"""Payment tables: our payments and refunds, the webhook receipts that make delivery
idempotent, and the sandbox provider's own records (a stand-in for an external system)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Enum, ForeignKey, Index, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from grassroots.kernel.db import Base, UTCDateTime


class PaymentStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"
    expired = "expired"


class RefundStatus(StrEnum):
    pending = "pending"
    succeeded = "succeeded"
    failed = "failed"


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    payer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    provider: Mapped[str] = mapped_column(String(32))
    provider_ref: Mapped[str | None] = mapped_column(String(100), default=None)
    redirect_url: Mapped[str] = mapped_column(String(500))
    status: Mapped[PaymentStatus] = mapped_column(Enum(PaymentStatus, native_enum=False, length=16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # succeeded or failed
    failure_reason: Mapped[str | None] = mapped_column(String(200), default=None)

    # At most one open checkout per order, whatever races (a second tab, a double click).
    __table_args__ = (
        Index(
            "uq_payments_one_open",
            "order_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("payments.id"), index=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    provider_ref: Mapped[str | None] = mapped_column(String(100), default=None)
    status: Mapped[RefundStatus] = mapped_column(Enum(RefundStatus, native_enum=False, length=16))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    failure_reason: Mapped[str | None] = mapped_column(String(200), default=None)

    __table_args__ = (Index("ix_refunds_status", "status", "id"),)  # the operator's worklist of failed ones


class WebhookReceipt(Base):
    """One row per provider event we accepted: a replayed or duplicated delivery finds its
    row and changes nothing."""

    __tablename__ = "webhook_receipts"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SandboxChargeStatus(StrEnum):
    open = "open"
    captured = "captured"
    declined = "declined"
    expired = "expired"  # the shop closed the checkout (order cancelled or expired)


class SandboxCharge(Base):
    """The sandbox provider's side of a checkout (what a real provider keeps on its servers)."""

    __tablename__ = "sandbox_charges"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str] = mapped_column(String(300))
    return_url: Mapped[str] = mapped_column(String(500))
    status: Mapped[SandboxChargeStatus] = mapped_column(Enum(SandboxChargeStatus, native_enum=False, length=16))
    fail_refunds: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SandboxRefund(Base):
    __tablename__ = "sandbox_refunds"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    charge_id: Mapped[str] = mapped_column(String(40), ForeignKey("sandbox_charges.id"))
    refund_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    failed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_sandbox_refunds_charge", "charge_id"),)
