"""Identity tables: accounts with one role each."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Enum, Index, Integer, String, Uuid, text
from sqlalchemy.orm import Mapped, mapped_column

from grassroots.kernel.auth import Role
from grassroots.kernel.db import Base, UTCDateTime


class User(Base):
    __tablename__ = "users"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # normalised, lower-case
    handle: Mapped[str] = mapped_column(String(30))  # as the user typed it
    handle_key: Mapped[str] = mapped_column(String(30), unique=True)  # case-folded, for uniqueness
    role: Mapped[Role] = mapped_column(Enum(Role, name="user_role", native_enum=False, length=16))
    password_hash: Mapped[str] = mapped_column(String(255))
    # Bumped to invalidate every token and session of the account at once.
    auth_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Suspended by an operator: no sign-in, no public presence, no sales, no new commission.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # No Python default: an INSERT leaves them out, so signing up works on a schema before 0008.
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    disabled_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    __table_args__ = (
        # The few suspended accounts, which lists and counts of people leave out.
        Index(
            "ix_users_suspended",
            "id",
            sqlite_where=text("disabled_at IS NOT NULL"),
            postgresql_where=text("disabled_at IS NOT NULL"),
        ),
    )
