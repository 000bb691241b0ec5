"""MCN tables: contracts between an agency and the creators it signs."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Integer, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from grassroots.kernel.db import Base, UTCDateTime


class ContractStatus(StrEnum):
    pending = "pending"
    active = "active"
    terminated = "terminated"


class Contract(Base):
    __tablename__ = "mcn_contracts"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    mcn_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    creator_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id"), index=True)
    # The MCN's share of the creator's commission, in basis points of that commission.
    share_bps: Mapped[int] = mapped_column(Integer)
    status: Mapped[ContractStatus] = mapped_column(Enum(ContractStatus, native_enum=False, length=16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    ended_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)

    __table_args__ = (
        CheckConstraint("share_bps >= 0 AND share_bps <= 10000", name="share"),
        # A creator has at most one active contract: enforced by the database, not by a read.
        Index(
            "uq_mcn_contracts_one_active",
            "creator_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        # An MCN has one unanswered offer to a creator at a time (a second is 409 offer_pending).
        Index(
            "uq_mcn_contracts_one_pending_offer",
            "mcn_id",
            "creator_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )
