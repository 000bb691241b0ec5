"""Affiliate tables: each creator's showcase (橱窗) of products picked from the pool, and
anyone's share links with their (deduplicated) clicks."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from grassroots.kernel.db import Base, UTCDateTime


class ShowcaseItem(Base):
    __tablename__ = "showcase_items"

    creator_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_showcase_items_creator_added", "creator_id", "added_at", "product_id"),)


class ShareLink(Base):
    """A user's link to a product (optionally through one of the posts tagging it). Orders
    that come through it pay its owner the product's commission."""

    __tablename__ = "share_links"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    token: Mapped[str] = mapped_column(String(24), unique=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("products.id", ondelete="CASCADE"))
    post_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    # "<product>:<post or ->": one link per owner and target (NULLs would not be unique).
    target_key: Mapped[str] = mapped_column(String(80))
    click_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("owner_id", "target_key", name="uq_share_links_owner_target"),
        Index("ix_share_links_owner", "owner_id", "id"),
    )


class ShareClick(Base):
    """Clicks on a link, one row per visitor per day; ``last_at`` moves on repeat clicks so
    "the last click" is right for attribution while counts stay deduplicated."""

    __tablename__ = "share_clicks"

    link_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("share_links.id", ondelete="CASCADE"), primary_key=True)
    visitor_key: Mapped[str] = mapped_column(String(80), primary_key=True)  # user id, else the visitor cookie
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD (UTC)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    visitor_id: Mapped[str | None] = mapped_column(String(64), default=None)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_share_clicks_user", "user_id", "last_at"),
        Index("ix_share_clicks_visitor", "visitor_id", "last_at"),
    )
