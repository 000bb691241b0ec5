"""Ledger tables: double-entry transactions whose entries always sum to zero.

An account is (party kind, party id, purpose, currency); there is no account table to
lock, so concurrent payments never contend on a hot balance row. Debits are positive,
credits negative; what the platform owes a party is the negated balance of that party's
accounts.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from grassroots.kernel.db import Base, UTCDateTime


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # payment, settlement, refund, clawback, refund_paid
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # What within the order this posts for: the order itself, or one payment or refund of it.
    ref_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # One transaction per (order, kind, reference): a duplicate webhook or a second
    # settlement run cannot post twice.
    __table_args__ = (UniqueConstraint("order_id", "kind", "ref_id"),)


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    transaction_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("ledger_transactions.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))  # the transaction's kind, for statements
    party_kind: Mapped[str] = mapped_column(String(16))  # platform | user
    party_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    account: Mapped[str] = mapped_column(String(32))
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_ledger_entries_party", "party_id", "currency", "account"),
        Index("ix_ledger_entries_transaction", "transaction_id"),
        Index("ix_ledger_entries_order", "order_id"),
    )
