"""All queries on MCN tables."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from grassroots.kernel.pagination import PageParams, paginate
from grassroots.mcn.models import Contract, ContractStatus


async def get(session: AsyncSession, contract_id: uuid.UUID, *, for_update: bool = False) -> Contract | None:
    """The contract; ``for_update`` locks its row (PostgreSQL; SQLite writers are serialised
    anyway) and reads it afresh, so what it says is what the change acts on."""
    if for_update:
        return await session.get(Contract, contract_id, with_for_update=True, populate_existing=True)
    return await session.get(Contract, contract_id)


async def add(session: AsyncSession, contract: Contract) -> bool:
    """Insert; False when this MCN's earlier offer to the creator is still unanswered."""
    try:
        async with session.begin_nested():
            session.add(contract)
    except IntegrityError:
        return False
    return True


async def activate(session: AsyncSession, contract_id: uuid.UUID, at: datetime) -> str:
    """Activate a pending contract: ``ok``; ``stale`` when it is no longer pending (a racing
    termination won); ``conflict`` when the creator already has an active contract."""
    try:
        async with session.begin_nested():
            result = await session.execute(
                update(Contract)
                .where(Contract.id == contract_id, Contract.status == ContractStatus.pending)
                .values(status=ContractStatus.active, accepted_at=at)
                .execution_options(synchronize_session="evaluate")
            )
    except IntegrityError:
        return "conflict"
    return "ok" if getattr(result, "rowcount", 0) else "stale"


async def terminate(session: AsyncSession, contract_id: uuid.UUID, by: uuid.UUID, at: datetime) -> bool:
    result = await session.execute(
        update(Contract)
        .where(Contract.id == contract_id, Contract.status != ContractStatus.terminated)
        .values(status=ContractStatus.terminated, ended_at=at, ended_by=by)
        .execution_options(synchronize_session="evaluate")
    )
    return bool(getattr(result, "rowcount", 0))


async def active_for_creator(session: AsyncSession, creator_id: uuid.UUID) -> Contract | None:
    stmt = select(Contract).where(Contract.creator_id == creator_id, Contract.status == ContractStatus.active)
    return (await session.scalars(stmt)).one_or_none()


async def page_for(
    session: AsyncSession, party_id: uuid.UUID, params: PageParams, status: ContractStatus | None
) -> tuple[list[Contract], str | None]:
    stmt = select(Contract).where(or_(Contract.mcn_id == party_id, Contract.creator_id == party_id))
    if status is not None:
        stmt = stmt.where(Contract.status == status)
    return await paginate(session, stmt, params, [Contract.id])


async def active_creator_ids(session: AsyncSession, mcn_id: uuid.UUID) -> list[uuid.UUID]:
    stmt = select(Contract.creator_id).where(Contract.mcn_id == mcn_id, Contract.status == ContractStatus.active)
    return list((await session.scalars(stmt)).all())
