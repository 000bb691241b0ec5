"""Bodies of the ledger API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field


class EarningEntryOut(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    kind: str = Field(description="payment, settlement, refund, clawback")
    account: str
    amount_minor: int = Field(description="What this entry added to what the platform owes you (negative: took away)")
    created_at: datetime


class CurrencyBalanceOut(BaseModel):
    currency: str
    pending_minor: int
    available_minor: int


class EarningsOut(BaseModel):
    currency: str
    pending_minor: int = Field(description="Earned, waiting for the return window to close")
    available_minor: int = Field(description="Settled; negative after a claw-back")
    entries: list[EarningEntryOut]
    next_cursor: str | None = None
    currencies: list[str] = Field(description="Every currency you have earnings in")
    balances: list[CurrencyBalanceOut] = Field(
        description="Pending and available in every currency you have earnings in, by currency code"
    )


class AccountOut(BaseModel):
    party_kind: str
    party_id: uuid.UUID | None
    account: str
    currency: str
    balance_minor: int


class TrialBalanceOut(BaseModel):
    total_minor: int
    totals: dict[str, int]
    accounts: list[AccountOut]
    unbalanced_transactions: list[uuid.UUID]
