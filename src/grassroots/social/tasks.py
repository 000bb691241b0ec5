"""Notifications, made from domain events. Each has a key derived from its event, so a
redelivered event notifies once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from grassroots.kernel.events import Event, on
from grassroots.kernel.uow import UnitOfWork
from grassroots.social import service
from grassroots.social.models import NotificationKind


def _id(payload: dict[str, Any], name: str) -> uuid.UUID | None:
    value = payload.get(name)
    return uuid.UUID(value) if value else None


@on("social.followed", key="social.notify_follow")
async def notify_follow(uow: UnitOfWork, event: Event) -> None:
    p = event.payload
    followee, follower = _id(p, "followee_id"), _id(p, "follower_id")
    assert followee is not None
    await service.notify(
        uow,
        followee,
        NotificationKind.new_follower,
        f"follow:{follower}:{followee}",
        actor_id=follower,
        at=event.created_at,
    )


@on("social.commented", key="social.notify_comment")
async def notify_comment(uow: UnitOfWork, event: Event) -> None:
    p = event.payload
    author, post_author, replied = _id(p, "author_id"), _id(p, "post_author_id"), _id(p, "reply_to_user_id")
    post_id, comment_id = _id(p, "post_id"), p["comment_id"]
    data = {"comment_id": comment_id}
    if replied is not None and replied != author:
        await service.notify(
            uow,
            replied,
            NotificationKind.reply,
            f"reply:{comment_id}",
            actor_id=author,
            post_id=post_id,
            data=data,
            at=event.created_at,
        )
    if post_author is not None and post_author not in (author, replied):
        await service.notify(
            uow,
            post_author,
            NotificationKind.comment,
            f"comment:{comment_id}",
            actor_id=author,
            post_id=post_id,
            data=data,
            at=event.created_at,
        )


async def _order_step(uow: UnitOfWork, event: Event, to: str, kind: NotificationKind, key: str) -> None:
    """One party (``to``: a payload field) hears of a step of their order; ``key`` names
    the step once per order or return, so a redelivered event notifies once."""
    party, order_id = _id(event.payload, to), _id(event.payload, "order_id")
    assert party is not None
    await service.notify(uow, party, kind, key, order_id=order_id, at=event.created_at)


def _given(*fields: str) -> Callable[[dict[str, Any]], bool]:
    return lambda payload: all(payload.get(f) for f in fields)


@on("commerce.order_shipped", key="social.notify_shipped")
async def notify_shipped(uow: UnitOfWork, event: Event) -> None:
    await _order_step(uow, event, "buyer_id", NotificationKind.order_shipped, f"shipped:{event.payload['order_id']}")


@on("commerce.order_received", key="social.notify_received", when=_given("supplier_id"))
async def notify_received(uow: UnitOfWork, event: Event) -> None:
    key = f"received:{event.payload['order_id']}"
    await _order_step(uow, event, "supplier_id", NotificationKind.order_received, key)


@on("commerce.return_requested", key="social.notify_return_requested")
async def notify_return_requested(uow: UnitOfWork, event: Event) -> None:
    key = f"return:{event.payload['return_id']}:requested"
    await _order_step(uow, event, "supplier_id", NotificationKind.return_requested, key)


# Events from before these carried the buyer are passed over: the order page says it all.
@on("commerce.return_rejected", key="social.notify_return_rejected", when=_given("buyer_id"))
async def notify_return_rejected(uow: UnitOfWork, event: Event) -> None:
    key = f"return:{event.payload['return_id']}:rejected"
    await _order_step(uow, event, "buyer_id", NotificationKind.return_rejected, key)


# Told when the provider has paid the money back: a refund it refused is retried by an
# operator, and the buyer hears once, when the money is theirs again.
@on("commerce.refund_completed", key="social.notify_refund_paid", when=_given("buyer_id"))
async def notify_refund_paid(uow: UnitOfWork, event: Event) -> None:
    p = event.payload
    buyer, order_id = _id(p, "buyer_id"), _id(p, "order_id")
    assert buyer is not None
    await service.notify(
        uow,
        buyer,
        NotificationKind.order_refunded,
        f"refunded:{order_id}",
        order_id=order_id,
        data={"amount_minor": int(p["amount_minor"]), "currency": p["currency"]},
        at=event.created_at,
    )


@on(
    "commerce.order_refunded",
    key="social.notify_buyer_cancelled",
    when=lambda p: p.get("by") == "buyer" and bool(p.get("supplier_id")),
)
async def notify_buyer_cancelled(uow: UnitOfWork, event: Event) -> None:
    key = f"buyer-cancelled:{event.payload['order_id']}"
    await _order_step(uow, event, "supplier_id", NotificationKind.buyer_cancelled, key)


_earns = _given("promoter_id", "commission_minor")
_mcn_earns = _given("mcn_id", "mcn_minor")


async def _notify_part(
    uow: UnitOfWork, event: Event, kind: NotificationKind, prefix: str, *, to: str, amount: str
) -> None:
    """A party's part of an order paid or settled: the promoter's commission (with the post
    it came from), or the MCN's share (with the creator whose sale it was)."""
    p = event.payload
    party, order_id = _id(p, to), _id(p, "order_id")
    assert party is not None
    mcn = to == "mcn_id"
    await service.notify(
        uow,
        party,
        kind,
        f"{prefix}:{order_id}",
        actor_id=_id(p, "promoter_id") if mcn else None,
        order_id=order_id,
        post_id=None if mcn else _id(p, "post_id"),
        data={"amount_minor": int(p[amount]), "currency": p.get("currency") or "CNY"},
        at=event.created_at,
    )


@on("commerce.order_paid", key="social.notify_commission_earned", when=_earns)
async def notify_commission_earned(uow: UnitOfWork, event: Event) -> None:
    await _notify_part(
        uow, event, NotificationKind.commission_earned, "earned", to="promoter_id", amount="commission_minor"
    )


@on("commerce.order_settled", key="social.notify_commission_settled", when=_earns)
async def notify_commission_settled(uow: UnitOfWork, event: Event) -> None:
    await _notify_part(
        uow, event, NotificationKind.commission_settled, "settled", to="promoter_id", amount="commission_minor"
    )


@on("commerce.order_paid", key="social.notify_mcn_share_earned", when=_mcn_earns)
async def notify_mcn_share_earned(uow: UnitOfWork, event: Event) -> None:
    await _notify_part(uow, event, NotificationKind.mcn_share_earned, "mcn-earned", to="mcn_id", amount="mcn_minor")


@on("commerce.order_settled", key="social.notify_mcn_share_settled", when=_mcn_earns)
async def notify_mcn_share_settled(uow: UnitOfWork, event: Event) -> None:
    await _notify_part(uow, event, NotificationKind.mcn_share_settled, "mcn-settled", to="mcn_id", amount="mcn_minor")


# ------------------------------------------------------------------ MCN contracts


async def _contract_step(
    uow: UnitOfWork, event: Event, to: uuid.UUID | None, actor: uuid.UUID | None, kind: NotificationKind, step: str
) -> None:
    assert to is not None
    key = f"contract:{event.payload['contract_id']}:{step}"
    await service.notify(uow, to, kind, key, actor_id=actor, at=event.created_at)


@on("mcn.contract_offered", key="social.notify_contract_offered")
async def notify_contract_offered(uow: UnitOfWork, event: Event) -> None:
    p = event.payload
    await _contract_step(
        uow, event, _id(p, "creator_id"), _id(p, "mcn_id"), NotificationKind.contract_offered, "offered"
    )


@on("mcn.contract_accepted", key="social.notify_contract_accepted")
async def notify_contract_accepted(uow: UnitOfWork, event: Event) -> None:
    p = event.payload
    await _contract_step(
        uow, event, _id(p, "mcn_id"), _id(p, "creator_id"), NotificationKind.contract_accepted, "accepted"
    )


@on("mcn.contract_terminated", key="social.notify_contract_ended", when=lambda p: bool(p.get("mcn_id")))
async def notify_contract_ended(uow: UnitOfWork, event: Event) -> None:
    """The other party hears of it: an offer declined (to the MCN) or withdrawn (to the
    creator), or a contract ended (to whichever side did not end it)."""
    p = event.payload
    by, mcn, creator = _id(p, "by"), _id(p, "mcn_id"), _id(p, "creator_id")
    if p.get("was") == "pending":
        kind = NotificationKind.contract_withdrawn if by == mcn else NotificationKind.contract_declined
    else:
        kind = NotificationKind.contract_ended
    await _contract_step(uow, event, creator if by == mcn else mcn, by, kind, "ended")
