"""Affiliate tables: each creator's showcase (橱窗) of products picked from the pool."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from grassroots.kernel.db import Base, UTCDateTime


class ShowcaseItem(Base):
    __tablename__ = "showcase_items"

    creator_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_showcase_items_creator_added", "creator_id", "added_at", "product_id"),)
