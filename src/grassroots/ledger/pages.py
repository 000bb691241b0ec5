"""Ledger pages: each party's earnings, and the operator's trial balance."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from grassroots.identity import service as identity
from grassroots.kernel.auth import AdminUser, Principal, Role, require
from grassroots.kernel.deps import UoW
from grassroots.kernel.i18n import N_
from grassroots.kernel.pagination import Paging
from grassroots.ledger import service
from grassroots.ledger.models import LedgerEntry
from grassroots.web import nav
from grassroots.web.templating import register_global, render

router = APIRouter(include_in_schema=False)

Earner = Annotated[Principal, Depends(require(Role.creator, Role.mcn, Role.supplier, Role.consumer))]

nav.register("/earnings", N_("Earnings"), (Role.creator, Role.mcn, Role.supplier, Role.consumer), order=80)
nav.register("/admin/ledger", N_("Ledger"), (Role.admin,), order=20)

register_global(
    "ledger_labels",
    {
        "payment": N_("Sale"),
        "settlement": N_("Settled"),
        "refund": N_("Refund"),
        "clawback": N_("Claw-back"),
        "late_payment": N_("Late payment"),
        "refund_paid": N_("Refund paid"),
        "commission_pending": N_("Commission, pending"),
        "commission_available": N_("Commission, available"),
        "mcn_pending": N_("MCN share, pending"),
        "mcn_available": N_("MCN share, available"),
        "supplier_pending": N_("Receivable, pending"),
        "supplier_available": N_("Receivable, available"),
        "clearing": N_("Payment clearing"),
        "fee_revenue": N_("Platform fee revenue"),
        "refunds_payable": N_("Refunds payable"),
    },
)


@dataclass
class StatementLine:
    """One line of a party's statement: an entry as the party sees it (what it owes them
    grows: +), or a settlement's two entries as one move from pending to available."""

    kind: str
    account: str
    created_at: datetime
    order_id: uuid.UUID
    amount_minor: int
    transaction_id: uuid.UUID
    moved: bool = False  # pending → available: the party's total did not change


def statement(entries: Sequence[LedgerEntry]) -> list[StatementLine]:
    lines: list[StatementLine] = []
    for e in entries:
        last = lines[-1] if lines else None
        if (
            e.kind == "settlement"
            and last is not None
            and last.kind == "settlement"
            and not last.moved
            and last.transaction_id == e.transaction_id
            and last.amount_minor == e.amount_minor  # shown negated: one +X, the other -X
        ):
            last.amount_minor, last.moved = abs(last.amount_minor), True
            continue
        shown = -e.amount_minor
        lines.append(StatementLine(e.kind, e.account, e.created_at, e.order_id, shown, e.transaction_id))
    return lines


@router.get("/earnings")
async def earnings(request: Request, earner: Earner, uow: UoW, paging: Paging, currency: str = "") -> Response:
    balances = await service.balances(uow, earner.id)
    chosen = currency if currency in balances else (sorted(balances)[0] if balances else uow.settings.default_currency)
    entries, next_cursor = await service.entries(uow, earner.id, chosen, paging)
    return render(
        request,
        "ledger/earnings.html",
        {
            "balance": balances.get(chosen, service.Balance(chosen)),
            "currencies": sorted(balances),
            "entries": statement(entries),
            "next_cursor": next_cursor,
            "currency": chosen,
        },
    )


@router.get("/admin/ledger")
async def trial_balance(request: Request, _admin: AdminUser, uow: UoW) -> Response:
    accounts = await service.trial_balance(uow)
    names = await identity.handles(uow, [a.party_id for a in accounts if a.party_id])
    totals: dict[str, int] = {}
    for a in accounts:
        totals[a.currency] = totals.get(a.currency, 0) + a.balance
    return render(
        request,
        "ledger/trial_balance.html",
        {
            "accounts": accounts,
            "names": names,
            "totals": totals,
            "unbalanced": await service.unbalanced_transactions(uow),
        },
    )
