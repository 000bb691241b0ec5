"""MCN pages: an agency offers contracts; creators accept or end them."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from grassroots.identity import service as identity
from grassroots.kernel.auth import Principal, Role, require
from grassroots.kernel.deps import UoW
from grassroots.kernel.i18n import N_
from grassroots.kernel.pagination import Paging
from grassroots.mcn import service
from grassroots.mcn.models import ContractStatus
from grassroots.web import nav
from grassroots.web.actions import act
from grassroots.web.forms import percent_to_bps, text
from grassroots.web.session import CsrfForm
from grassroots.web.templating import render

router = APIRouter(include_in_schema=False)

Party = Annotated[Principal, Depends(require(Role.mcn, Role.creator))]
Mcn = Annotated[Principal, Depends(require(Role.mcn))]
Creator = Annotated[Principal, Depends(require(Role.creator))]

nav.register("/mcn/contracts", N_("Contracts"), (Role.mcn, Role.creator), order=30)

ERRORS = {
    "user_not_found": N_("No creator has that handle."),
    "not_a_creator": N_("That account is not a creator."),
    "invalid_share": N_("The share is between 0.01% and 90% of the creator's commission."),
    "already_contracted": N_("You already have an active contract; end it before accepting another."),
    "invalid_state": N_("That is not possible for this contract any more."),
    "offer_pending": N_("Your offer to this creator is waiting for their answer; end it to offer other terms."),
    "already_signed": N_("This creator already has an active contract with you; end it to offer other terms."),
}


CONTRACT_TABS = (("", N_("All")), ("active", N_("Active")), ("pending", N_("Pending")), ("terminated", N_("Ended")))


@router.get("/mcn/contracts")
async def contracts(
    request: Request,
    party: Party,
    uow: UoW,
    paging: Paging,
    handle: Annotated[str, Query(max_length=40)] = "",
    share: Annotated[str, Query(max_length=10)] = "30",
    status: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """``handle`` and ``share`` pre-fill the offer form: a refused offer comes back with them.
    ``status`` shows one kind (active, pending, ended): many ended offers must not hide the
    contracts in force behind them."""
    chosen = ContractStatus(status) if status in ContractStatus.__members__ else None
    items, next_cursor = await service.contracts(uow, party, paging, chosen)
    names = await identity.handles(uow, [c.mcn_id for c in items] + [c.creator_id for c in items])
    signed = await service.signed_creators(uow, party.id) if party.role == Role.mcn else []
    return render(
        request,
        "mcn/contracts.html",
        {
            "contracts": items,
            "names": names,
            "next_cursor": next_cursor,
            "signed": len(signed),
            "offer": {"handle": handle, "share": share},
            "status": chosen.value if chosen else "",
            "tabs": CONTRACT_TABS,
        },
    )


async def _act(
    request: Request, uow: UoW, action: Awaitable[object], done: str, on_error: str | None = None
) -> Response:
    return await act(request, uow, action, redirect="/mcn/contracts", done=done, messages=ERRORS, on_error=on_error)


@router.post("/mcn/contracts")
async def offer(request: Request, form: CsrfForm, mcn: Mcn, uow: UoW) -> Response:
    handle, share = text(form, "handle", 40), text(form, "share", 10)

    async def go() -> None:
        creator = await identity.find_by_handle(uow, handle)
        bps = percent_to_bps(share)
        await service.offer(uow, mcn, creator.id, bps if bps is not None else -1)

    typed = "/mcn/contracts?" + urlencode({"handle": handle, "share": share})  # a refusal keeps what was typed
    return await _act(request, uow, go(), N_("Contract offered. It starts when the creator accepts."), typed)


@router.post("/mcn/contracts/{contract_id}/accept")
async def accept(request: Request, contract_id: uuid.UUID, form: CsrfForm, creator: Creator, uow: UoW) -> Response:
    return await _act(request, uow, service.accept(uow, creator, contract_id), N_("Contract accepted."))


@router.post("/mcn/contracts/{contract_id}/terminate")
async def terminate(request: Request, contract_id: uuid.UUID, form: CsrfForm, party: Party, uow: UoW) -> Response:
    if form.get("offer"):  # the button said what it did to an offer not yet taken
        done = N_("Offer declined.") if party.role == Role.creator else N_("Offer withdrawn.")
    else:
        done = N_("Contract ended.")
    return await _act(request, uow, service.terminate(uow, party, contract_id), done)
