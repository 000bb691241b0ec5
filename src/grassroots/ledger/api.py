"""Ledger API: what each party has earned, and the operator's trial balance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from grassroots.kernel.auth import AdminUser, Principal, Role, require
from grassroots.kernel.deps import UoW
from grassroots.kernel.pagination import Paging
from grassroots.ledger import service
from grassroots.ledger.schemas import AccountOut, CurrencyBalanceOut, EarningEntryOut, EarningsOut, TrialBalanceOut

router = APIRouter(prefix="/api/v1", tags=["ledger"])

Earner = Annotated[Principal, Depends(require(Role.creator, Role.mcn, Role.supplier, Role.consumer))]


@router.get("/me/earnings", response_model=EarningsOut)
async def earnings(
    earner: Earner,
    uow: UoW,
    paging: Paging,
    currency: Annotated[str | None, Query(min_length=3, max_length=3, pattern="^[A-Z]{3}$")] = None,
) -> EarningsOut:
    """Pending and available earnings in one currency (default: your first), with entries newest first."""
    balances = await service.balances(uow, earner.id)
    chosen = currency or (sorted(balances)[0] if balances else uow.settings.default_currency)
    balance = balances.get(chosen, service.Balance(chosen))
    rows, next_cursor = await service.entries(uow, earner.id, chosen, paging)
    return EarningsOut(
        currency=chosen,
        pending_minor=balance.pending,
        available_minor=balance.available,
        entries=[
            EarningEntryOut(
                id=e.id,
                order_id=e.order_id,
                kind=e.kind,
                account=e.account,
                amount_minor=-e.amount_minor,
                created_at=e.created_at,
            )
            for e in rows
        ],
        next_cursor=next_cursor,
        currencies=sorted(balances),
        balances=[
            CurrencyBalanceOut(currency=c, pending_minor=b.pending, available_minor=b.available)
            for c, b in sorted(balances.items())
        ],
    )


@router.get("/admin/ledger/trial-balance", response_model=TrialBalanceOut)
async def trial_balance(_admin: AdminUser, uow: UoW) -> TrialBalanceOut:
    """Every account's balance; each currency (and so the whole) sums to zero."""
    accounts = await service.trial_balance(uow)
    totals: dict[str, int] = {}
    for a in accounts:
        totals[a.currency] = totals.get(a.currency, 0) + a.balance
    return TrialBalanceOut(
        # Zero only when every currency is: opposite errors in two currencies must not cancel.
        total_minor=sum(abs(t) for t in totals.values()),
        totals=totals,
        accounts=[
            AccountOut(
                party_kind=a.party_kind,
                party_id=a.party_id,
                account=a.account,
                currency=a.currency,
                balance_minor=a.balance,
            )
            for a in accounts
        ],
        unbalanced_transactions=await service.unbalanced_transactions(uow),
    )
