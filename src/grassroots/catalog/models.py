"""Catalog tables: products, their SKUs with stock, and the history of commission changes."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grassroots.kernel.db import Base, UTCDateTime


class ProductStatus(StrEnum):
    draft = "draft"
    active = "active"
    archived = "archived"
    # Taken off sale with its supplier's account (by an operator); back on sale with it.
    suspended = "suspended"


class Product(Base):
    __tablename__ = "products"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    supplier_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32))
    # Open affiliate commission in basis points; 0 means "not in the pool".
    commission_bps: Mapped[int] = mapped_column(Integer)
    status: Mapped[ProductStatus] = mapped_column(Enum(ProductStatus, native_enum=False, length=16))
    sold_units: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    skus: Mapped[list[Sku]] = relationship(lazy="raise", order_by="Sku.position", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("commission_bps = 0 OR (commission_bps >= 100 AND commission_bps <= 8000)", name="commission"),
        Index("ix_products_pool_commission", "status", "commission_bps", "id"),
        Index("ix_products_pool_sales", "status", "sold_units", "id"),
        Index("ix_products_status", "status", "id"),  # the newest on sale, a page at a time
    )


class Sku(Base):
    __tablename__ = "skus"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("products.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("price_minor > 0", name="price_positive"),
    )


class CommissionChange(Base):
    """Every change of a product's commission, so lowered rates can be honoured for 30 days
    to creators who already promote the product."""

    __tablename__ = "commission_changes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("products.id", ondelete="CASCADE"))
    old_bps: Mapped[int] = mapped_column(Integer)
    new_bps: Mapped[int] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_commission_changes_product", "product_id", "changed_at"),)
