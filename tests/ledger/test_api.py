"""The operator's view of the books over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from grassroots.kernel.ids import new_id
from grassroots.kernel.platform import Platform
from grassroots.ledger.models import LedgerEntry, LedgerTransaction
from tests.commerce.test_money import admin_headers


async def test_errors_in_two_currencies_do_not_cancel_out_in_the_trial_balance(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    """A transaction taking 1.00 in yuan and giving 1.00 in dollars sums to zero as numbers,
    but neither currency balances: the trial balance must say so."""
    txn, order, now = new_id(), new_id(), datetime.now(UTC)
    async with platform.unit_of_work() as uow:
        uow.session.add(
            LedgerTransaction(id=txn, kind="payment", order_id=order, ref_id=order, currency="CNY", created_at=now)
        )
        await uow.session.flush()
        for currency, amount in (("CNY", 100), ("USD", -100)):
            uow.session.add(
                LedgerEntry(
                    id=new_id(),
                    transaction_id=txn,
                    kind="payment",
                    party_kind="platform",
                    party_id=None,
                    account="clearing",
                    currency=currency,
                    amount_minor=amount,
                    order_id=order,
                    created_at=now,
                )
            )
    tb = (await client.get("/api/v1/admin/ledger/trial-balance", headers=await admin_headers(client))).json()
    assert tb["totals"] == {"CNY": 100, "USD": -100}
    assert tb["total_minor"] == 200
    assert tb["unbalanced_transactions"] == [str(txn)]
