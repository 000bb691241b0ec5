"""MCN use cases: an agency offers a creator a contract with a share of the creator's
commission; the creator accepts; either side can end it. A creator has at most one
active contract, and the MCN's share is paid automatically on every attributed order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from grassroots.identity import service as identity
from grassroots.kernel.auth import Principal, Role
from grassroots.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from grassroots.kernel.ids import new_id
from grassroots.kernel.pagination import PageParams
from grassroots.kernel.uow import UnitOfWork
from grassroots.mcn import repository
from grassroots.mcn.models import Contract, ContractStatus

MAX_SHARE_BPS = 9000  # the creator always keeps at least a tenth of their commission


async def offer(uow: UnitOfWork, mcn: Principal, creator_id: uuid.UUID, share_bps: int) -> Contract:
    if not 0 < share_bps <= MAX_SHARE_BPS:
        raise Invalid(
            f"The MCN share is 1–{MAX_SHARE_BPS} basis points of the creator's commission.",
            code="invalid_share",
            fields={"share_bps": "out of range"},
        )
    try:
        creator = await identity.get_user(uow, creator_id)
    except NotFound:
        raise NotFound("No such creator.", code="creator_not_found") from None
    if creator.role != Role.creator:
        raise Invalid(
            "Contracts are offered to creators.", code="not_a_creator", fields={"creator_id": "not a creator"}
        )
    current = await repository.active_for_creator(uow.session, creator_id)
    if current is not None and current.mcn_id == mcn.id:  # the creator could never accept it
        raise Conflict(
            "This creator already has an active contract with you; end it to offer other terms.",
            code="already_signed",
        )
    contract = Contract(
        id=new_id(),
        mcn_id=mcn.id,
        creator_id=creator_id,
        share_bps=share_bps,
        status=ContractStatus.pending,
        created_at=uow.now(),
    )
    if not await repository.add(uow.session, contract):  # sent twice, or new terms
        raise Conflict(
            "This creator has not answered your earlier offer yet; end it to offer other terms.",
            code="offer_pending",
        )
    uow.emit("mcn.contract_offered", {"contract_id": contract.id, "mcn_id": mcn.id, "creator_id": creator_id})
    return contract


async def _get(uow: UnitOfWork, contract_id: uuid.UUID, viewer: Principal, *, for_update: bool = False) -> Contract:
    contract = await repository.get(uow.session, contract_id, for_update=for_update)
    if contract is None or viewer.id not in (contract.mcn_id, contract.creator_id):
        raise NotFound("No such contract.", code="contract_not_found")
    return contract


async def accept(uow: UnitOfWork, creator: Principal, contract_id: uuid.UUID) -> Contract:
    contract = await _get(uow, contract_id, creator)
    if contract.creator_id != creator.id:
        raise Forbidden("Only the creator named in the contract can accept it.", code="not_contract_creator")
    if contract.status != ContractStatus.pending:
        raise Conflict(f"The contract is {contract.status.value}, not pending.", code="invalid_state")
    outcome = await repository.activate(uow.session, contract.id, uow.now())
    if outcome == "conflict":
        raise Conflict("You already have an active MCN contract; end it first.", code="already_contracted")
    if outcome == "stale":
        raise Conflict("The contract is no longer pending.", code="invalid_state")
    uow.emit("mcn.contract_accepted", {"contract_id": contract.id, "mcn_id": contract.mcn_id, "creator_id": creator.id})
    return contract


async def terminate(uow: UnitOfWork, party: Principal, contract_id: uuid.UUID) -> Contract:
    # Locked: an accept at the same moment either lands first (and this ends a contract in
    # force) or finds the offer withdrawn; never "withdrawn" for a contract that began.
    contract = await _get(uow, contract_id, party, for_update=True)
    was = contract.status  # an offer declined or withdrawn, or a contract ended
    if not await repository.terminate(uow.session, contract.id, party.id, uow.now()):
        raise Conflict("The contract has already ended.", code="invalid_state")
    uow.emit(
        "mcn.contract_terminated",
        {
            "contract_id": contract.id,
            "by": party.id,
            "mcn_id": contract.mcn_id,
            "creator_id": contract.creator_id,
            "was": was.value,
        },
    )
    return contract


async def contracts(
    uow: UnitOfWork, party: Principal, params: PageParams, status: ContractStatus | None = None
) -> tuple[list[Contract], str | None]:
    return await repository.page_for(uow.session, party.id, params, status)


@dataclass(frozen=True, slots=True)
class ActiveShare:
    mcn_id: uuid.UUID
    share_bps: int
    contract_id: uuid.UUID


async def active_share(uow: UnitOfWork, creator_id: uuid.UUID) -> ActiveShare | None:
    contract = await repository.active_for_creator(uow.session, creator_id)
    if contract is None:
        return None
    return ActiveShare(contract.mcn_id, contract.share_bps, contract.id)


async def share_taken(uow: UnitOfWork, creator: Principal) -> int | None:
    """The share of a creator's commission their MCN takes (bps), for the rates a creator is
    shown to be what they keep; None without a contract, or when the MCN is suspended (a
    suspended MCN takes no share, as attribution pays it)."""
    if creator.role != Role.creator:
        return None
    share = await active_share(uow, creator.id)
    if share is None or await identity.is_suspended(uow, share.mcn_id):
        return None
    return share.share_bps


async def signed_creators(uow: UnitOfWork, mcn_id: uuid.UUID) -> list[uuid.UUID]:
    return await repository.active_creator_ids(uow.session, mcn_id)
