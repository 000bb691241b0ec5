"""Content tables: uploaded media, posts (notes and short videos), their media, the
products they tag, and their hashtags."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Enum, Float, ForeignKey, Index, Integer, SmallInteger, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from grassroots.kernel.db import Base, UTCDateTime


class MediaKind(StrEnum):
    image = "image"
    video = "video"


class Media(Base):
    __tablename__ = "media"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    kind: Mapped[MediaKind] = mapped_column(Enum(MediaKind, native_enum=False, length=8))
    content_type: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    width: Mapped[int | None] = mapped_column(Integer, default=None)
    height: Mapped[int | None] = mapped_column(Integer, default=None)
    duration_s: Mapped[float | None] = mapped_column(Float, default=None)
    key: Mapped[str] = mapped_column(String(200))  # where the storage keeps the file
    thumb_key: Mapped[str | None] = mapped_column(String(200), default=None)  # image cover / thumbnail
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PostKind(StrEnum):
    note = "note"
    video = "video"


class Post(Base):
    __tablename__ = "posts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    author_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    kind: Mapped[PostKind] = mapped_column(Enum(PostKind, native_enum=False, length=8))
    title: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text, default="")
    cover_key: Mapped[str | None] = mapped_column(String(200), default=None)
    sponsored: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Counters, changed only by atomic increments (social and commerce call content's service).
    like_count: Mapped[int] = mapped_column(Integer, default=0)
    favorite_count: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)
    share_count: Mapped[int] = mapped_column(Integer, default=0)
    view_count: Mapped[int] = mapped_column(BigInteger, default=0)
    order_count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_posts_author", "author_id", "id"),
        Index("ix_posts_live", "deleted_at", "id"),
        Index("ix_posts_created", "created_at"),
    )


class PostMedia(Base):
    __tablename__ = "post_media"

    post_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    media_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("media.id"), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger)


class PostProduct(Base):
    __tablename__ = "post_products"

    post_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("products.id"), primary_key=True)
    position: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (Index("ix_post_products_product", "product_id"),)


class PostHashtag(Base):
    __tablename__ = "post_hashtags"

    post_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(30), primary_key=True)

    __table_args__ = (Index("ix_post_hashtags_tag", "tag", "post_id"),)
