"""MCN API: contracts between agencies and creators."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from grassroots.kernel.auth import Principal, Role, require
from grassroots.kernel.deps import UoW
from grassroots.kernel.pagination import Page, Paging
from grassroots.mcn import service
from grassroots.mcn.models import ContractStatus
from grassroots.mcn.schemas import ContractIn, ContractOut

router = APIRouter(prefix="/api/v1/mcn", tags=["mcn"])

McnUser = Annotated[Principal, Depends(require(Role.mcn))]
CreatorUser = Annotated[Principal, Depends(require(Role.creator))]
Party = Annotated[Principal, Depends(require(Role.mcn, Role.creator))]


@router.post("/contracts", status_code=201, response_model=ContractOut)
async def offer(body: ContractIn, mcn: McnUser, uow: UoW) -> ContractOut:
    return ContractOut.model_validate(await service.offer(uow, mcn, body.creator_id, body.share_bps))


@router.get("/contracts", response_model=Page[ContractOut])
async def contracts(party: Party, uow: UoW, paging: Paging, status: ContractStatus | None = None) -> Page[ContractOut]:
    """The caller's contracts (as the MCN or as the creator), newest first."""
    items, next_cursor = await service.contracts(uow, party, paging, status)
    return Page(items=[ContractOut.model_validate(c) for c in items], next_cursor=next_cursor)


@router.post("/contracts/{contract_id}/accept", response_model=ContractOut)
async def accept(contract_id: uuid.UUID, creator: CreatorUser, uow: UoW) -> ContractOut:
    return ContractOut.model_validate(await service.accept(uow, creator, contract_id))


@router.post("/contracts/{contract_id}/terminate", response_model=ContractOut)
async def terminate(contract_id: uuid.UUID, party: Party, uow: UoW) -> ContractOut:
    return ContractOut.model_validate(await service.terminate(uow, party, contract_id))
