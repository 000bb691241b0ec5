"""Social tables: the follow graph, likes and favourites, comments, in-app
notifications and the little a profile adds to an account."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Enum, ForeignKey, Index, String, Text, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from grassroots.kernel.db import Base, JSONType, UTCDateTime


class Follow(Base):
    __tablename__ = "follows"

    follower_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), primary_key=True)
    followee_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_follows_followee", "followee_id", "created_at", "follower_id"),)


class Like(Base):
    __tablename__ = "post_likes"

    post_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_post_likes_user", "user_id", "created_at"),)


class Favorite(Base):
    __tablename__ = "post_favorites"

    post_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_post_favorites_user", "user_id", "created_at"),)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    post_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("posts.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    # One level of replies: a reply points at a top-level comment, never at a reply.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, ForeignKey("comments.id"), default=None)
    reply_to_user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    body: Mapped[str] = mapped_column(Text)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (
        Index("ix_comments_post", "post_id", "parent_id", "id"),
        Index("ix_comments_parent", "parent_id", "id"),  # a comment's replies, and their count
        # At most one pinned comment per post, whatever races.
        Index(
            "uq_comments_pinned",
            "post_id",
            unique=True,
            sqlite_where=text("pinned"),
            postgresql_where=text("pinned"),
        ),
    )


class NotificationKind(StrEnum):
    new_follower = "new_follower"
    comment = "comment"
    reply = "reply"
    order_shipped = "order_shipped"
    order_received = "order_received"
    commission_earned = "commission_earned"
    commission_settled = "commission_settled"
    mcn_share_earned = "mcn_share_earned"  # to the MCN: its share of a creator's commission
    mcn_share_settled = "mcn_share_settled"
    contract_offered = "contract_offered"  # to the creator
    contract_accepted = "contract_accepted"  # to the MCN
    contract_declined = "contract_declined"  # to the MCN: the creator said no to its offer
    contract_withdrawn = "contract_withdrawn"  # to the creator: the MCN took its offer back
    contract_ended = "contract_ended"  # to the other party of an active contract
    return_requested = "return_requested"  # to the supplier: a buyer asks to send goods back
    return_rejected = "return_rejected"  # to the buyer, with the supplier's note
    order_refunded = "order_refunded"  # to the buyer: the provider has paid a refund back
    buyer_cancelled = "buyer_cancelled"  # to the supplier: a paid order taken back before shipping


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"))
    kind: Mapped[NotificationKind] = mapped_column(Enum(NotificationKind, native_enum=False, length=24))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    post_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    order_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    # Made from the event that caused it, so a redelivered event notifies once.
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the event happened
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # When it was delivered (later than created_at when its event waited): what "mark all
    # read" compares with the time the page was shown. Null only in rows from before 0011.
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (Index("ix_notifications_user", "user_id", "id"),)


class Profile(Base):
    __tablename__ = "profiles"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), primary_key=True)
    bio: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
