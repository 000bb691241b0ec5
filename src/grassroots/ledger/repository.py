"""All queries on ledger tables."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy import insert as sql_insert
from sqlalchemy.ext.asyncio import AsyncSession

from grassroots.kernel.db import insert_if_absent, table
from grassroots.kernel.pagination import PageParams, paginate
from grassroots.ledger.models import LedgerEntry, LedgerTransaction


async def insert(session: AsyncSession, txn: dict[str, Any], entries: Sequence[dict[str, Any]]) -> bool:
    """Insert a transaction and its entries; False (nothing written) when that (order, kind)
    was already posted."""
    if not await insert_if_absent(session, LedgerTransaction, **txn):
        return False
    if entries:
        # Core, built once: every entry carries every column (party_id None included), so
        # they go as one statement; the ORM's bulk insert would split them by which keys
        # are None.
        await session.execute(_INSERT_ENTRIES, list(entries))
    return True


_INSERT_ENTRIES = sql_insert(table(LedgerEntry))


async def transaction(session: AsyncSession, order_id: uuid.UUID, kind: str) -> LedgerTransaction | None:
    stmt = select(LedgerTransaction).where(LedgerTransaction.order_id == order_id, LedgerTransaction.kind == kind)
    return (await session.scalars(stmt)).one_or_none()


async def entries_of(session: AsyncSession, transaction_id: uuid.UUID) -> list[LedgerEntry]:
    stmt = select(LedgerEntry).where(LedgerEntry.transaction_id == transaction_id).order_by(LedgerEntry.id)
    return list((await session.scalars(stmt)).all())


async def kinds_for_order(session: AsyncSession, order_id: uuid.UUID) -> set[str]:
    rows = await session.scalars(select(LedgerTransaction.kind).where(LedgerTransaction.order_id == order_id))
    return set(rows.all())


async def party_balances(session: AsyncSession, party_id: uuid.UUID) -> list[tuple[str, str, int]]:
    """(currency, account, balance) for every account of a party."""
    stmt = (
        select(LedgerEntry.currency, LedgerEntry.account, func.sum(LedgerEntry.amount_minor))
        .where(LedgerEntry.party_id == party_id)
        .group_by(LedgerEntry.currency, LedgerEntry.account)
    )
    return [(c, a, int(b or 0)) for c, a, b in (await session.execute(stmt))]


async def party_entries(
    session: AsyncSession, party_id: uuid.UUID, currency: str, params: PageParams
) -> tuple[list[LedgerEntry], str | None]:
    stmt = select(LedgerEntry).where(LedgerEntry.party_id == party_id, LedgerEntry.currency == currency)
    return await paginate(session, stmt, params, [LedgerEntry.id])


async def trial_balance(session: AsyncSession) -> list[tuple[str, uuid.UUID | None, str, str, int]]:
    stmt = (
        select(
            LedgerEntry.party_kind,
            LedgerEntry.party_id,
            LedgerEntry.account,
            LedgerEntry.currency,
            func.sum(LedgerEntry.amount_minor),
        )
        .group_by(LedgerEntry.party_kind, LedgerEntry.party_id, LedgerEntry.account, LedgerEntry.currency)
        .order_by(LedgerEntry.currency, LedgerEntry.party_kind, LedgerEntry.account)
    )
    return [(k, p, a, c, int(b or 0)) for k, p, a, c, b in (await session.execute(stmt))]


async def unbalanced_transactions(session: AsyncSession) -> list[uuid.UUID]:
    """Transactions whose entries do not sum to zero in some currency (a yuan cannot pay a dollar)."""
    total = func.sum(LedgerEntry.amount_minor)
    stmt = (
        select(LedgerEntry.transaction_id)
        .group_by(LedgerEntry.transaction_id, LedgerEntry.currency)
        .having(total != 0)
        .distinct()
    )
    return list(await session.scalars(stmt))
