"""Commerce tables: orders and their items, return requests and verified reviews."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grassroots.kernel.db import Base, JSONType, UTCDateTime


class OrderStatus(StrEnum):
    pending_payment = "pending_payment"
    paid = "paid"
    shipped = "shipped"
    received = "received"
    completed = "completed"
    cancelled = "cancelled"
    refunded = "refunded"


class Scene(StrEnum):
    feed = "feed"
    note = "note"
    video = "video"
    live = "live"
    search = "search"
    showcase = "showcase"
    share = "share"
    direct = "direct"


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    buyer_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    supplier_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    status: Mapped[OrderStatus] = mapped_column(Enum(OrderStatus, native_enum=False, length=20))
    currency: Mapped[str] = mapped_column(String(3))
    goods_minor: Mapped[int] = mapped_column(BigInteger)
    total_minor: Mapped[int] = mapped_column(BigInteger)
    # Attribution, fixed when the order is placed.
    scene: Mapped[Scene] = mapped_column(Enum(Scene, native_enum=False, length=16))
    promoter_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    post_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)  # the note or video that sold it
    share_link_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    attributed_by: Mapped[str] = mapped_column(String(8), default="none")  # source | click | none
    mcn_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    mcn_share_bps: Mapped[int] = mapped_column(Integer, default=0)
    fee_bps: Mapped[int] = mapped_column(Integer)
    source: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    carrier: Mapped[str | None] = mapped_column(String(50), default=None)
    tracking_number: Mapped[str | None] = mapped_column(String(64), default=None)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    cancel_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)  # the payment that paid it
    # The promoter's part of the split posted when it was paid: reports add these up in SQL
    # rather than recompute every order's split (and stay right if the rounding ever changed).
    promoter_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)

    items: Mapped[list[OrderItem]] = relationship(lazy="raise", order_by="OrderItem.position")

    __table_args__ = (
        CheckConstraint("total_minor > 0", name="total_positive"),
        Index("ix_orders_buyer", "buyer_id", "id"),
        Index("ix_orders_supplier", "supplier_id", "status", "id"),
        Index("ix_orders_promoter", "promoter_id", "id"),
        Index("ix_orders_post", "post_id"),
        Index("ix_orders_status_expires", "status", "expires_at"),
        Index("ix_orders_status_shipped", "status", "shipped_at"),
        Index("ix_orders_status_received", "status", "received_at"),
    )


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger)
    sku_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    title: Mapped[str] = mapped_column(String(200))
    sku_name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(32))
    unit_price_minor: Mapped[int] = mapped_column(BigInteger)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total_minor: Mapped[int] = mapped_column(BigInteger)
    # The commission this line pays the order's promoter (0 without one), fixed at order time.
    commission_bps: Mapped[int] = mapped_column(Integer)
    returnable: Mapped[bool] = mapped_column(Boolean)


class ReturnStatus(StrEnum):
    requested = "requested"
    approved = "approved"
    rejected = "rejected"


class ReturnRequest(Base):
    __tablename__ = "return_requests"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("orders.id"), unique=True)
    buyer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    supplier_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ReturnStatus] = mapped_column(Enum(ReturnStatus, native_enum=False, length=16))
    restock: Mapped[bool | None] = mapped_column(Boolean, default=None)
    decision_note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (
        Index("ix_return_requests_supplier", "supplier_id", "status", "id"),
        Index("ix_return_requests_buyer", "buyer_id", "id"),
    )


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("orders.id"), unique=True)
    buyer_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    rating: Mapped[int] = mapped_column(SmallInteger)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("rating >= 1 AND rating <= 5", name="rating"),)
