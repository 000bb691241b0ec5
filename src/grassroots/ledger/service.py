"""The double-entry ledger: the order split, settlement after the return window, and
refunds (a reversal before settlement, a claw-back after).

Every transaction's entries sum to zero. Debits are positive. What the platform owes a
supplier, promoter or MCN is the negated balance of their accounts; a claw-back after
settlement can make it negative, and it is shown so.

Payment of an order total T, goods G (= T for now):
    platform  clearing            +T   (money held at the payment provider)
    platform  fee_revenue         -F   (technical service fee, ``fee_bps`` of G)
    promoter  commission_pending  -P   (commission minus the MCN share)
    mcn       mcn_pending         -M   (``share_bps`` of the commission)
    supplier  supplier_pending    -S   (the rest)
Settlement moves each ``*_pending`` to ``*_available``. A refund negates the payment's
split (from ``*_available`` once settled) against ``refunds_payable``, which the
provider's confirmation of the refund then clears against ``clearing``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from grassroots.kernel.ids import new_id
from grassroots.kernel.money import BPS, Money, split
from grassroots.kernel.pagination import PageParams
from grassroots.kernel.uow import UnitOfWork
from grassroots.ledger import repository
from grassroots.ledger.models import LedgerEntry, LedgerTransaction

PLATFORM = "platform"
USER = "user"

CLEARING = "clearing"
FEE_REVENUE = "fee_revenue"
REFUNDS_PAYABLE = "refunds_payable"
SUPPLIER_PENDING = "supplier_pending"
SUPPLIER_AVAILABLE = "supplier_available"
COMMISSION_PENDING = "commission_pending"
COMMISSION_AVAILABLE = "commission_available"
MCN_PENDING = "mcn_pending"
MCN_AVAILABLE = "mcn_available"

AVAILABLE_OF = {
    SUPPLIER_PENDING: SUPPLIER_AVAILABLE,
    COMMISSION_PENDING: COMMISSION_AVAILABLE,
    MCN_PENDING: MCN_AVAILABLE,
}
PENDING_ACCOUNTS = frozenset(AVAILABLE_OF)
AVAILABLE_ACCOUNTS = frozenset(AVAILABLE_OF.values())

PAYMENT = "payment"
SETTLEMENT = "settlement"
REFUND = "refund"
CLAWBACK = "clawback"
REFUND_PAID = "refund_paid"
LATE_PAYMENT = "late_payment"


# ------------------------------------------------------------------ the split (pure)


@dataclass(frozen=True, slots=True)
class Line:
    amount: Money
    commission_bps: int  # 0 when the product pays no commission to this promoter


@dataclass(frozen=True, slots=True)
class Split:
    total: Money
    fee: Money
    commission: Money  # gross: promoter + mcn
    promoter: Money
    mcn: Money
    supplier: Money

    def parts(self) -> list[Money]:
        return [self.fee, self.promoter, self.mcn, self.supplier]


def compute_split(lines: Sequence[Line], fee_bps: int, mcn_share_bps: int | None = None) -> Split:
    """Split each line into fee, commission and supplier with ``Money.split``, then the
    commission into MCN share and promoter; every part is exact to the minor unit, and a
    rounding tie goes to the earlier part. Computed once, when an order is paid."""
    if not lines:
        raise ValueError("an order has at least one line")
    currency = lines[0].amount.currency
    zero = Money.zero(currency)
    fee = commission = supplier = zero
    for line in lines:
        if not 0 <= fee_bps + line.commission_bps <= BPS:
            raise ValueError("fee and commission exceed the whole")
        f, c, s = split(line.amount, [fee_bps, line.commission_bps, BPS - fee_bps - line.commission_bps])
        fee, commission, supplier = fee + f, commission + c, supplier + s
    mcn = zero
    promoter = commission
    if mcn_share_bps and commission:
        mcn, promoter = split(commission, [mcn_share_bps, BPS - mcn_share_bps])
    total = sum((line.amount for line in lines), zero)
    return Split(total=total, fee=fee, commission=commission, promoter=promoter, mcn=mcn, supplier=supplier)


# ------------------------------------------------------------------ posting


@dataclass(frozen=True, slots=True)
class Posting:
    party_kind: str
    party_id: uuid.UUID | None
    account: str
    amount: int


async def _post(
    uow: UnitOfWork,
    order_id: uuid.UUID,
    kind: str,
    currency: str,
    postings: Sequence[Posting],
    ref_id: uuid.UUID | None = None,
) -> bool:
    postings = [p for p in postings if p.amount != 0]
    if sum(p.amount for p in postings) != 0:
        raise AssertionError(f"unbalanced {kind} transaction for order {order_id}")
    now = uow.now()
    txn_id = new_id()
    txn = {
        "id": txn_id,
        "kind": kind,
        "order_id": order_id,
        "ref_id": ref_id or order_id,
        "currency": currency,
        "created_at": now,
    }
    entries = [
        {
            "id": new_id(),
            "transaction_id": txn_id,
            "kind": kind,
            "party_kind": p.party_kind,
            "party_id": p.party_id,
            "account": p.account,
            "currency": currency,
            "amount_minor": p.amount,
            "order_id": order_id,
            "created_at": now,
        }
        for p in postings
    ]
    posted = await repository.insert(uow.session, txn, entries)
    if posted:
        uow.emit("ledger.posted", {"order_id": order_id, "kind": kind, "currency": currency})
    return posted


async def post_payment(
    uow: UnitOfWork,
    *,
    order_id: uuid.UUID,
    split_: Split,
    supplier_id: uuid.UUID,
    promoter_id: uuid.UUID | None,
    mcn_id: uuid.UUID | None,
) -> bool:
    """Record a paid order's split. False (and nothing posted) when already recorded."""
    if split_.promoter.amount and promoter_id is None:
        raise ValueError("a commission needs a promoter")
    if split_.mcn.amount and mcn_id is None:
        raise ValueError("an MCN share needs an MCN")
    return await _post(
        uow,
        order_id,
        PAYMENT,
        split_.total.currency,
        [
            Posting(PLATFORM, None, CLEARING, split_.total.amount),
            Posting(PLATFORM, None, FEE_REVENUE, -split_.fee.amount),
            Posting(USER, promoter_id, COMMISSION_PENDING, -split_.promoter.amount),
            Posting(USER, mcn_id, MCN_PENDING, -split_.mcn.amount),
            Posting(USER, supplier_id, SUPPLIER_PENDING, -split_.supplier.amount),
        ],
    )


async def _payment_entries(uow: UnitOfWork, order_id: uuid.UUID) -> tuple[LedgerTransaction, list[LedgerEntry]] | None:
    txn = await repository.transaction(uow.session, order_id, PAYMENT)
    if txn is None:
        return None
    return txn, await repository.entries_of(uow.session, txn.id)


async def post_settlement(uow: UnitOfWork, order_id: uuid.UUID) -> dict[str, int]:
    """Make an order's pending amounts available; what each pending account released (by
    account, positive). Empty when there is nothing to settle (not paid, already settled,
    or refunded)."""
    kinds = await repository.kinds_for_order(uow.session, order_id)
    if PAYMENT not in kinds or kinds & {SETTLEMENT, REFUND, CLAWBACK}:
        return {}
    found = await _payment_entries(uow, order_id)
    assert found is not None
    txn, entries = found
    postings: list[Posting] = []
    released: dict[str, int] = {}
    for e in entries:
        if e.account in PENDING_ACCOUNTS:
            postings.append(Posting(e.party_kind, e.party_id, e.account, -e.amount_minor))
            postings.append(Posting(e.party_kind, e.party_id, AVAILABLE_OF[e.account], e.amount_minor))
            released[e.account] = released.get(e.account, 0) - e.amount_minor
    return released if await _post(uow, order_id, SETTLEMENT, txn.currency, postings) else {}


async def post_refund(uow: UnitOfWork, order_id: uuid.UUID) -> str | None:
    """Undo a paid order's split: a reversal of the pending amounts before settlement, a
    claw-back from the available ones after. Returns the kind posted, None if nothing was."""
    kinds = await repository.kinds_for_order(uow.session, order_id)
    if PAYMENT not in kinds or kinds & {REFUND, CLAWBACK}:
        return None
    found = await _payment_entries(uow, order_id)
    assert found is not None
    txn, entries = found
    settled = SETTLEMENT in kinds
    total = 0
    postings: list[Posting] = []
    for e in entries:
        if e.account == CLEARING:
            total = e.amount_minor
            continue
        account = AVAILABLE_OF.get(e.account, e.account) if settled else e.account
        postings.append(Posting(e.party_kind, e.party_id, account, -e.amount_minor))
    postings.append(Posting(PLATFORM, None, REFUNDS_PAYABLE, -total))
    kind = CLAWBACK if settled else REFUND
    return kind if await _post(uow, order_id, kind, txn.currency, postings) else None


async def post_late_payment(uow: UnitOfWork, *, order_id: uuid.UUID, payment_id: uuid.UUID, amount: Money) -> bool:
    """Money arrived for an order that was already cancelled: held for refunding."""
    return await _post(
        uow,
        order_id,
        LATE_PAYMENT,
        amount.currency,
        [Posting(PLATFORM, None, CLEARING, amount.amount), Posting(PLATFORM, None, REFUNDS_PAYABLE, -amount.amount)],
        ref_id=payment_id,
    )


async def post_refund_paid(uow: UnitOfWork, *, order_id: uuid.UUID, refund_id: uuid.UUID, amount: Money) -> bool:
    """The provider returned ``amount`` to the buyer: that much of the refund payable is
    cleared against clearing. Once per refund."""
    kinds = await repository.kinds_for_order(uow.session, order_id)
    if not kinds & {REFUND, CLAWBACK, LATE_PAYMENT}:
        return False
    return await _post(
        uow,
        order_id,
        REFUND_PAID,
        amount.currency,
        [Posting(PLATFORM, None, REFUNDS_PAYABLE, amount.amount), Posting(PLATFORM, None, CLEARING, -amount.amount)],
        ref_id=refund_id,
    )


async def posted_kinds(uow: UnitOfWork, order_id: uuid.UUID) -> set[str]:
    return await repository.kinds_for_order(uow.session, order_id)


# ------------------------------------------------------------------ reading


@dataclass
class Balance:
    currency: str
    pending: int = 0
    available: int = 0
    by_account: dict[str, int] = field(default_factory=dict)


async def balances(uow: UnitOfWork, party_id: uuid.UUID) -> dict[str, Balance]:
    """What the platform owes the party, per currency: pending and available."""
    out: dict[str, Balance] = {}
    for currency, account, balance in await repository.party_balances(uow.session, party_id):
        b = out.setdefault(currency, Balance(currency))
        owed = -balance
        b.by_account[account] = owed
        if account in PENDING_ACCOUNTS:
            b.pending += owed
        elif account in AVAILABLE_ACCOUNTS:
            b.available += owed
    return out


async def entries(
    uow: UnitOfWork, party_id: uuid.UUID, currency: str, params: PageParams
) -> tuple[list[LedgerEntry], str | None]:
    return await repository.party_entries(uow.session, party_id, currency, params)


@dataclass(frozen=True, slots=True)
class AccountBalance:
    party_kind: str
    party_id: uuid.UUID | None
    account: str
    currency: str
    balance: int


async def trial_balance(uow: UnitOfWork) -> list[AccountBalance]:
    return [AccountBalance(*row) for row in await repository.trial_balance(uow.session)]


async def unbalanced_transactions(uow: UnitOfWork) -> list[uuid.UUID]:
    return await repository.unbalanced_transactions(uow.session)
