"""Commerce use cases: orders from creation to completion, with the money and stock
rules around them.

- Creating an order reserves stock atomically (all items or none) and fixes the
  attribution: scene, promoter, each line's commission rate, the promoter's MCN share.
- ``Idempotency-Key`` makes creation safe to retry, also concurrently.
- Only a verified payment webhook moves an order to ``paid`` (payments calls
  ``on_payment_succeeded``); the ledger records the split in the same transaction.
- ``pending_payment → paid → shipped → received → completed``, plus ``cancelled`` (unpaid)
  and ``refunded``. Every transition is a conditional UPDATE; an illegal one is 409
  ``invalid_state``.
- Returns within the window after receipt refund through the provider; settlement makes
  the split available once the window has closed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from grassroots.affiliate import service as affiliate
from grassroots.catalog import service as catalog
from grassroots.catalog.models import ProductStatus
from grassroots.commerce import repository
from grassroots.commerce.models import (
    Order,
    OrderItem,
    OrderStatus,
    ReturnRequest,
    ReturnStatus,
    Review,
    Scene,
)
from grassroots.commerce.schemas import MAX_QUANTITY, OrderIn
from grassroots.content import service as content
from grassroots.identity import service as identity
from grassroots.kernel import idempotency
from grassroots.kernel.auth import Principal, Role
from grassroots.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from grassroots.kernel.i18n import N_
from grassroots.kernel.ids import new_id
from grassroots.kernel.money import Money
from grassroots.kernel.pagination import PageParams
from grassroots.kernel.uow import UnitOfWork
from grassroots.ledger import service as ledger
from grassroots.mcn import service as mcn
from grassroots.payments import service as payments
from grassroots.payments.models import Payment, Refund

log = logging.getLogger("grassroots.commerce")

IDEMPOTENCY_SCOPE = "orders.create"
# Refund reasons the platform writes itself (pages show them translated; people's own as typed).
RETURN_REASON = N_("no-reason return")
BUYER_CANCELLED = N_("cancelled by the buyer before shipping")
LATE_PAYMENT_REASON = N_("payment arrived after the order was cancelled")
REFUNDABLE = (OrderStatus.paid, OrderStatus.shipped, OrderStatus.received, OrderStatus.completed)


def invalid_state(order: Order, action: str) -> Conflict:
    return Conflict(f"Cannot {action} an order that is {order.status.value}.", code="invalid_state")


# ------------------------------------------------------------------ reading


def _may_see(order: Order, viewer: Principal) -> bool:
    return viewer.role == Role.admin or viewer.id in (order.buyer_id, order.supplier_id)


async def get_order(uow: UnitOfWork, order_id: uuid.UUID, viewer: Principal, *, for_update: bool = False) -> Order:
    order = await repository.get(uow.session, order_id, for_update=for_update)
    if order is None or not _may_see(order, viewer):
        raise NotFound("No such order.", code="order_not_found")
    return order


async def orders_by_id(uow: UnitOfWork, order_ids: Sequence[uuid.UUID], viewer: Principal) -> dict[uuid.UUID, Order]:
    """The orders among ``order_ids`` that ``viewer`` may see, in one query (a page's list)."""
    found = await repository.get_many(uow.session, order_ids)
    return {i: o for i, o in found.items() if _may_see(o, viewer)}


async def list_orders(
    uow: UnitOfWork, viewer: Principal, params: PageParams, status: OrderStatus | None = None
) -> tuple[list[Order], str | None]:
    """The buyer's orders, the supplier's orders, or (operators) every order."""
    if viewer.role == Role.admin:
        return await repository.page(uow.session, params, status=status)
    if viewer.role == Role.supplier:
        return await repository.page(uow.session, params, supplier_id=viewer.id, status=status)
    return await repository.page(uow.session, params, buyer_id=viewer.id, status=status)


# ------------------------------------------------------------------ creating


@dataclass(frozen=True, slots=True)
class Attribution:
    scene: Scene
    promoter_id: uuid.UUID | None = None
    # The products that pay the promoter: a post's tags, a link's product, a showcase.
    promoted: frozenset[uuid.UUID] = frozenset()
    post_id: uuid.UUID | None = None
    share_link_id: uuid.UUID | None = None
    by: str = "none"


# How many suspended accounts' links the click rule passes over before it gives up.
MAX_SUSPENDED_CLICKS = 3


def _bad_source(field_name: str, message: str) -> Invalid:
    return Invalid(message, code="invalid_source", fields={f"source.{field_name}": "unknown"})


async def _attribution(
    uow: UnitOfWork,
    buyer: Principal,
    data: OrderIn,
    visitor_id: str | None,
    product_ids: frozenset[uuid.UUID],
    supplier_id: uuid.UUID,
) -> Attribution:
    """Who brought this order, and from where. The first source the buy button named whose
    promoter promoted goods in this order wins (share link, then post, then showcase);
    otherwise the buyer's last click within the click window on a share link for goods in
    this order. One promoter per order, paid only for goods they promoted, never the buyer
    nor the goods' supplier (whose commission would be paid to itself). A post deleted
    since the buyer saw it brings no one; it is not an error."""
    src = data.source
    not_promoters = (buyer.id, supplier_id)
    explicit_scene = Scene(src.scene) if src.scene else None
    named: list[Attribution] = []
    if src.share_token:
        link = await affiliate.link_by_token(uow, src.share_token)
        if link is None:
            raise _bad_source("share_token", "The share link does not exist.")
        # The link's own post only: a post named beside it did not bring the order.
        # The link's post is where the order came from only if the link is to these goods.
        post_id = link.post_id if link.product_id in product_ids else None
        named.append(Attribution(Scene.share, link.owner_id, frozenset({link.product_id}), post_id, link.id, "source"))
    if src.post_id:
        try:
            post = await content.live_post(uow, src.post_id)
        except NotFound:
            if not await content.titles(uow, [src.post_id]):  # never was: a client's mistake
                raise _bad_source("post_id", "The source names no post.") from None
            post = None
        if post is not None:
            author = await identity.get_user(uow, post.author_id)
            scene = Scene.video if post.kind.value == "video" else Scene.note
            tagged = frozenset(await content.tagged_products(uow, post.id))
            # The post is where the order came from only if it shows some of these goods.
            shown = post.id if tagged & product_ids else None
            if author.role == Role.creator:
                named.append(Attribution(scene, author.id, tagged, shown, None, "source"))
            else:
                named.append(Attribution(scene, None, frozenset(), shown))
    if src.creator_id:
        try:
            creator = await identity.get_user(uow, src.creator_id)
        except NotFound:
            creator = None
        if creator is None or creator.role != Role.creator:
            raise _bad_source("creator_id", "The source names no creator.")
        showcased = frozenset(await affiliate.showcased_product_ids(uow, creator.id))
        named.append(Attribution(Scene.showcase, creator.id, showcased, by="source"))
    if src.live_room_id:
        named.append(Attribution(Scene.live))
    # Where the buyer was: the first thing the button named (a shared post is still a share).
    found = named[0] if named else Attribution(Scene.direct)
    paying = [a for a in named if a.promoter_id not in (None, *not_promoters) and a.promoted & product_ids]
    if paying:  # a suspended account earns nothing new
        suspended = await identity.suspended_among(uow, [a.promoter_id for a in paying if a.promoter_id])
        paying = [a for a in paying if a.promoter_id not in suspended]
    if paying:
        found = paying[0]
    else:
        passed_over: tuple[uuid.UUID, ...] = not_promoters
        for _ in range(MAX_SUSPENDED_CLICKS + 1):
            link = await affiliate.last_clicked_link(
                uow, buyer.id, visitor_id, uow.now(), product_ids, not_owned_by=passed_over
            )
            if link is None or not await identity.is_suspended(uow, link.owner_id):
                break
            # A suspended account's link is passed over, as the buyer's and supplier's are.
            passed_over, link = (*passed_over, link.owner_id), None
        if link is not None:
            found = Attribution(
                Scene.share if found.scene == Scene.direct else found.scene,
                link.owner_id,
                frozenset({link.product_id}),
                link.post_id,  # as for a named link: the post it was made through brought the order
                link.id,
                "click",
            )
        elif found.promoter_id is not None:  # named, but for none of these goods (or a non-promoter)
            found = Attribution(found.scene, None, frozenset(), found.post_id)
    if explicit_scene is not None and explicit_scene != found.scene:
        found = Attribution(
            explicit_scene, found.promoter_id, found.promoted, found.post_id, found.share_link_id, found.by
        )
    return found


async def order_for_key(uow: UnitOfWork, buyer: Principal, idempotency_key: str) -> Order | None:
    """The order this buyer already placed with this key (with whatever body), if any."""
    found = await idempotency.resource_for(uow, IDEMPOTENCY_SCOPE, buyer.id, idempotency_key.strip())
    return await repository.get(uow.session, found) if found is not None else None


async def create_order(
    uow: UnitOfWork,
    buyer: Principal,
    data: OrderIn,
    idempotency_key: str | None,
    visitor_id: str | None = None,
    *,
    stock_now: bool = False,
) -> tuple[Order, bool]:
    """Place an order; returns it and whether it was new (False: an idempotent replay).

    On PostgreSQL the stock is taken at commit unless ``stock_now`` (a page that shows a
    shortage in its form needs the answer before it renders)."""
    key = idempotency.check_key(idempotency_key)
    digest = idempotency.request_hash(data.model_dump(mode="json"))
    order_id = new_id()
    earlier = await idempotency.claim(uow, IDEMPOTENCY_SCOPE, buyer.id, key, digest, order_id)
    if earlier is not None:
        return await get_order(uow, earlier, buyer), False

    quantities: dict[uuid.UUID, int] = {}
    for item in data.items:
        quantities[item.sku_id] = quantities.get(item.sku_id, 0) + item.quantity
    if any(n > MAX_QUANTITY for n in quantities.values()):
        raise Invalid(
            f"At most {MAX_QUANTITY} of one SKU per order.", code="validation_error", fields={"items": "quantity"}
        )
    found = await catalog.skus_for_order(uow, list(quantities))
    # A draft was never on sale: its SKUs answer as unknown ones do, so nothing tells them apart.
    missing = [str(s) for s in quantities if s not in found or found[s][1].status == ProductStatus.draft]
    if missing:
        raise Invalid("Some items name no SKU.", code="unknown_sku", fields={"items": ", ".join(missing)})
    products = {p.id: p for _, p in found.values()}
    if any(p.status != ProductStatus.active for p in products.values()):
        raise Conflict("A product in the order is not on sale.", code="product_unavailable")
    if len({p.supplier_id for p in products.values()}) > 1:
        raise Invalid("One order holds one supplier's goods; place one order per supplier.", code="multiple_suppliers")
    if len({sku.currency for sku, _ in found.values()}) > 1:
        raise Invalid("One order is paid in one currency.", code="mixed_currency")
    short = sorted(sku_id for sku_id, q in quantities.items() if q > found[sku_id][0].stock)
    if short:
        # Fast refusal without taking row locks; the atomic reservation below is the guard.
        raise Conflict("Not enough stock for one of the items.", code="out_of_stock", fields={"sku_id": str(short[0])})

    now = uow.now()
    supplier_id = next(iter(products.values())).supplier_id
    who = await _attribution(uow, buyer, data, visitor_id, frozenset(products), supplier_id)
    rates = await affiliate.commission_rates(uow, who.promoter_id, list(products.values()), now)
    # Commission only on goods the promoter actually promoted.
    rates = {pid: (bps if pid in who.promoted else 0) for pid, bps in rates.items()}
    share = await mcn.active_share(uow, who.promoter_id) if who.promoter_id else None
    if share is not None and await identity.is_suspended(uow, share.mcn_id):
        share = None  # a suspended MCN takes no share of new orders: the creator keeps it

    first_sku = next(iter(found.values()))[0]
    order = Order(
        id=order_id,
        buyer_id=buyer.id,
        supplier_id=supplier_id,
        status=OrderStatus.pending_payment,
        currency=first_sku.currency,
        goods_minor=0,
        total_minor=0,
        scene=who.scene,
        promoter_id=who.promoter_id,
        post_id=who.post_id,
        share_link_id=who.share_link_id,
        attributed_by=who.by,
        mcn_id=share.mcn_id if share else None,
        mcn_share_bps=share.share_bps if share else 0,
        fee_bps=uow.settings.platform_fee_bps,
        source=data.source.model_dump(mode="json", exclude_none=True),
        shipping_address=data.shipping_address.model_dump(mode="json", exclude_none=True),
        created_at=now,
        expires_at=now + timedelta(seconds=uow.settings.order_payment_ttl_seconds),
    )
    items = []
    for position, (sku_id, quantity) in enumerate(quantities.items()):
        sku, product = found[sku_id]
        items.append(
            OrderItem(
                id=new_id(),
                order_id=order.id,
                position=position,
                sku_id=sku.id,
                product_id=product.id,
                title=product.title,
                sku_name=sku.name,
                category=product.category,
                unit_price_minor=sku.price_minor,
                quantity=quantity,
                line_total_minor=sku.price_minor * quantity,
                commission_bps=rates.get(product.id, 0),
                returnable=catalog.returnable(product.category),
            )
        )
    order.goods_minor = order.total_minor = sum(i.line_total_minor for i in items)
    if data.expected_total_minor is not None and data.expected_total_minor != order.total_minor:
        raise Conflict(
            f"The total is now {order.total_minor}: a price changed since you looked.",
            code="price_changed",
            fields={"total_minor": str(order.total_minor)},
        )
    order.items = items
    await repository.add(uow.session, order)
    uow.emit(
        "commerce.order_created",
        {"order_id": order.id, "buyer_id": buyer.id, "promoter_id": order.promoter_id, "scene": order.scene.value},
    )
    if uow.session.get_bind().dialect.name != "postgresql":
        # SQLite (one writer at a time): take the stock now, last before the commit. On a
        # shortage this raises and the unit of work rolls back the order with the rest.
        await catalog.reserve_stock(uow, quantities)
    elif stock_now:
        await repository.take_stock_now(uow.session)
    # Otherwise PostgreSQL takes it at COMMIT (the order_items trigger, ADR 0015): a
    # best-selling SKU's row is locked only inside the commit, not while this process gets
    # back to it. A shortage fails the commit with 409 out_of_stock, and nothing is kept.
    return order, True


def sees_address(order: Order, viewer: Principal) -> bool:
    """The buyer's name, phone and address are for delivering a paid order: its supplier
    sees them once the order is paid, never on one left unpaid or cancelled before payment."""
    return viewer.id != order.supplier_id or order.paid_at is not None


# ------------------------------------------------------------------ paying


async def pay(uow: UnitOfWork, buyer: Principal, order_id: uuid.UUID, provider_name: str) -> Payment:
    # The order row is locked: concurrent "pay" clicks take turns and share one checkout.
    order = await get_order(uow, order_id, buyer, for_update=True)
    if order.buyer_id != buyer.id:
        raise Forbidden("Only the buyer pays for an order.", code="not_buyer")
    if order.status != OrderStatus.pending_payment:
        raise invalid_state(order, "pay for")
    if order.expires_at <= uow.now():
        raise Conflict("The order expired before it was paid.", code="order_expired")
    if await identity.is_suspended(uow, order.supplier_id):
        # Its unpaid orders are being cancelled; one placed as that happened is refused here.
        raise Conflict("The shop is suspended: this order cannot be paid.", code="supplier_suspended")
    description = ", ".join(f"{i.title} × {i.quantity}" for i in order.items)
    return await payments.start_payment(
        uow,
        order_id=order.id,
        payer_id=buyer.id,
        amount=Money(order.total_minor, order.currency),
        description=description,
        return_url=f"/orders/{order.id}?processing=1",
        provider_name=provider_name,
    )


def order_split(order: Order) -> ledger.Split:
    lines = [ledger.Line(Money(i.line_total_minor, order.currency), i.commission_bps) for i in order.items]
    return ledger.compute_split(lines, order.fee_bps, order.mcn_share_bps or None)


@payments.on_payment_succeeded
async def on_payment_succeeded(uow: UnitOfWork, payment: Payment) -> None:
    """The provider confirmed the money: mark the order paid and post its split, or, if the
    order was cancelled meanwhile (it expired), give the money back."""
    order = await repository.get(uow.session, payment.order_id)
    assert order is not None
    split = order_split(order)
    paid = await repository.transition(
        uow.session,
        order.id,
        [OrderStatus.pending_payment],
        OrderStatus.paid,
        paid_at=uow.now(),
        payment_id=payment.id,
        promoter_minor=split.promoter.amount,
    )
    if not paid:
        log.warning("payment %s arrived for order %s in state %s; refunding", payment.id, order.id, order.status)
        await ledger.post_late_payment(
            uow, order_id=order.id, payment_id=payment.id, amount=Money(payment.amount_minor, payment.currency)
        )
        await payments.refund(uow, payment, LATE_PAYMENT_REASON)
        return
    await ledger.post_payment(
        uow,
        order_id=order.id,
        split_=split,
        supplier_id=order.supplier_id,
        promoter_id=order.promoter_id if split.promoter.amount else None,
        mcn_id=order.mcn_id if split.mcn.amount else None,
    )
    uow.emit(
        "commerce.order_paid",
        {
            "order_id": order.id,
            "buyer_id": order.buyer_id,
            "supplier_id": order.supplier_id,
            "promoter_id": order.promoter_id,
            "commission_minor": split.promoter.amount,
            "mcn_id": order.mcn_id if split.mcn.amount else None,
            "mcn_minor": split.mcn.amount,
            "currency": order.currency,
            "post_id": order.post_id,
            "share_link_id": order.share_link_id,
        },
    )
    units: dict[uuid.UUID, int] = {}
    for item in order.items:
        units[item.product_id] = units.get(item.product_id, 0) + item.quantity
    await uow.session.flush()
    await catalog.record_sales(uow, units)  # a hot row for best sellers: lock it last


@payments.on_refund_succeeded
async def on_refund_succeeded(uow: UnitOfWork, refund: Refund) -> None:
    await ledger.post_refund_paid(
        uow, order_id=refund.order_id, refund_id=refund.id, amount=Money(refund.amount_minor, refund.currency)
    )
    # The buyer hears of a refund once the provider has paid it back, not when it was asked for.
    order = await repository.get(uow.session, refund.order_id)
    uow.emit(
        "commerce.refund_completed",
        {
            "order_id": refund.order_id,
            "refund_id": refund.id,
            "buyer_id": order.buyer_id if order is not None else None,
            "amount_minor": refund.amount_minor,
            "currency": refund.currency,
        },
    )


# ------------------------------------------------------------------ the buyer's actions


async def _buyers_order(uow: UnitOfWork, buyer: Principal, order_id: uuid.UUID, *, lock: bool = False) -> Order:
    order = await get_order(uow, order_id, buyer, for_update=lock)
    if order.buyer_id != buyer.id:
        raise Forbidden("Only the buyer can do this.", code="not_buyer")
    return order


async def _cancel(uow: UnitOfWork, order: Order, reason: str) -> bool:
    # Payments first, then the order: the same lock order as a payment webhook, so the two
    # cannot deadlock. A checkout expired here can still succeed; the money is then refunded.
    await payments.expire_open_payments(uow, order.id)
    moved = await repository.transition(
        uow.session,
        order.id,
        [OrderStatus.pending_payment],
        OrderStatus.cancelled,
        cancelled_at=uow.now(),
        cancel_reason=reason,
    )
    if not moved:
        raise invalid_state(order, "cancel")
    # A Pay that committed between the two statements opened a checkout the first one did
    # not see: expire it too. One a webhook is settling right now is skipped (waiting for it
    # could deadlock); that money arrives for a cancelled order and is refunded.
    await payments.expire_open_payments(uow, order.id, skip_locked=True)
    await catalog.release_stock(uow, {i.sku_id: i.quantity for i in order.items})
    uow.emit("commerce.order_cancelled", {"order_id": order.id, "reason": reason})
    return moved


async def cancel(uow: UnitOfWork, buyer: Principal, order_id: uuid.UUID) -> Order:
    order = await _buyers_order(uow, buyer, order_id)
    await _cancel(uow, order, "buyer")
    return order


async def cancel_and_refund(uow: UnitOfWork, buyer: Principal, order_id: uuid.UUID, reason: str = "") -> Order:
    """The buyer takes back a paid order the supplier has not shipped: refunded in full at
    once and its goods put back on sale, so no buyer waits on a supplier who never ships.
    Once shipped it is a return instead (409 ``invalid_state``)."""
    # The order row locked first, as shipping takes it: a ship at the same moment either
    # lands first (and this is refused) or finds the order refunded.
    order = await _buyers_order(uow, buyer, order_id, lock=True)
    if order.status != OrderStatus.paid:
        raise invalid_state(order, "cancel and refund")
    await _refund(uow, order, reason.strip() or BUYER_CANCELLED, restock=True, by="buyer")
    return order


async def receive(uow: UnitOfWork, buyer: Principal, order_id: uuid.UUID) -> Order:
    order = await _buyers_order(uow, buyer, order_id)
    if not await _receive(uow, order):
        raise invalid_state(order, "confirm receipt of")
    return order


async def _receive(uow: UnitOfWork, order: Order, *, automatic: bool = False) -> bool:
    moved = await repository.transition(
        uow.session, order.id, [OrderStatus.shipped], OrderStatus.received, received_at=uow.now()
    )
    if moved:
        uow.emit(
            "commerce.order_received",
            {
                "order_id": order.id,
                "buyer_id": order.buyer_id,
                "supplier_id": order.supplier_id,
                "automatic": automatic,
            },
        )
    return moved


async def request_return(uow: UnitOfWork, buyer: Principal, order_id: uuid.UUID, reason: str) -> ReturnRequest:
    """No-reason return (Consumer Protection Law art. 25: 7 days, the default window), counted from receipt."""
    # The order row is locked first, as a refund and a return decision lock it: a refund
    # that lands meanwhile either sees this request or is seen by it.
    order = await _buyers_order(uow, buyer, order_id, lock=True)
    # Completed is what settlement makes of a received order once its window has closed.
    if order.status not in (OrderStatus.received, OrderStatus.completed) or order.received_at is None:
        raise invalid_state(order, "return")
    if order.status == OrderStatus.completed or uow.now() > order.received_at + timedelta(
        days=uow.settings.return_window_days
    ):
        raise Conflict("The return window for this order has closed.", code="return_window_closed")
    if not all(i.returnable for i in order.items):
        raise Conflict("Perishable, custom-made and digital goods have no no-reason return.", code="not_returnable")
    request = ReturnRequest(
        id=new_id(),
        order_id=order.id,
        buyer_id=buyer.id,
        supplier_id=order.supplier_id,
        reason=reason.strip(),
        status=ReturnStatus.requested,
        created_at=uow.now(),
    )
    if not await repository.add_unique(uow.session, request):
        raise Conflict("This order already has a return request.", code="return_exists")
    uow.emit(
        "commerce.return_requested", {"return_id": request.id, "order_id": order.id, "supplier_id": order.supplier_id}
    )
    return request


async def review(uow: UnitOfWork, buyer: Principal, order_id: uuid.UUID, rating: int, body: str) -> Review:
    order = await _buyers_order(uow, buyer, order_id, lock=True)  # not while a return is decided
    # Received goods, kept or sent back and refunded: the one who returned them has often
    # the most to say, and a supplier must not silence a review by refunding first.
    reviewable = (OrderStatus.received, OrderStatus.completed, OrderStatus.refunded)
    if order.status not in reviewable or order.received_at is None:
        raise Conflict("Review an order after you have received it.", code="invalid_state")
    pending = await repository.return_for_order(uow.session, order.id)
    if pending is not None and pending.status == ReturnStatus.requested:
        raise Conflict("Review the order once its return is decided.", code="invalid_state")
    if not 1 <= rating <= 5:
        raise Invalid("A rating is 1 to 5.", code="validation_error", fields={"rating": "1-5"})
    record = Review(
        id=new_id(), order_id=order.id, buyer_id=buyer.id, rating=rating, body=body.strip(), created_at=uow.now()
    )
    if not await repository.add_unique(uow.session, record):
        raise Conflict("You have already reviewed this order.", code="already_reviewed")
    uow.emit(
        "commerce.reviewed",
        {"order_id": order.id, "rating": rating, "product_ids": sorted({str(i.product_id) for i in order.items})},
    )
    return record


@dataclass(frozen=True, slots=True)
class ReviewSummary:
    count: int
    average: float | None  # to two places, half up
    distribution: dict[int, int]
    shown: str | None = None  # to one place, half up, from the exact average (not from ``average``)
    stars: int = 0  # whole stars, half up


def _half_up(total: int, count: int, places: str) -> Decimal:
    return (Decimal(total) / Decimal(count)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


async def product_reviews(
    uow: UnitOfWork, product_id: uuid.UUID, params: PageParams, viewer: Principal | None
) -> tuple[list[Review], str | None, ReviewSummary]:
    await catalog.get_product(uow, product_id, viewer)  # a draft's reviews: its supplier's and operators' only
    rows, next_cursor = await repository.reviews_page(uow.session, product_id, params)
    dist = await repository.rating_distribution(uow.session, product_id)
    return rows, next_cursor, summarize(dist)


def summarize(dist: dict[int, int]) -> ReviewSummary:
    """Count, average and distribution of ratings (rating -> how many). Each figure shown is
    rounded once, half up, from the exact average: 17/11 = 1.5454 is 1.55 and 1.5, never the
    1.6 that rounding 1.55 again would give."""
    count = sum(dist.values())
    total = sum(r * n for r, n in dist.items())
    distribution = {r: dist.get(r, 0) for r in range(1, 6)}
    if not count:
        return ReviewSummary(0, None, distribution)
    return ReviewSummary(
        count,
        float(_half_up(total, count, "0.01")),
        distribution,
        str(_half_up(total, count, "0.1")),
        int(_half_up(total, count, "1")),
    )


# ------------------------------------------------------------------ the supplier's actions


async def _suppliers_order(uow: UnitOfWork, supplier: Principal, order_id: uuid.UUID) -> Order:
    order = await get_order(uow, order_id, supplier)
    if order.supplier_id != supplier.id:
        raise Forbidden("Only the order's supplier can do this.", code="not_supplier")
    return order


async def ship(uow: UnitOfWork, supplier: Principal, order_id: uuid.UUID, carrier: str, tracking: str) -> Order:
    order = await _suppliers_order(uow, supplier, order_id)
    moved = await repository.transition(
        uow.session,
        order.id,
        [OrderStatus.paid],
        OrderStatus.shipped,
        shipped_at=uow.now(),
        carrier=carrier.strip(),
        tracking_number=tracking.strip(),
    )
    if not moved:
        raise invalid_state(order, "ship")
    uow.emit("commerce.order_shipped", {"order_id": order.id, "buyer_id": order.buyer_id})
    return order


async def _returns_order(uow: UnitOfWork, supplier: Principal, return_id: uuid.UUID) -> ReturnRequest:
    request = await repository.get_return(uow.session, return_id)
    if request is None or supplier.id not in (request.supplier_id, request.buyer_id):
        raise NotFound("No such return request.", code="return_not_found")
    if request.supplier_id != supplier.id:
        raise Forbidden("Only the order's supplier decides a return.", code="not_supplier")
    if request.status != ReturnStatus.requested:
        raise Conflict(f"The return was already {request.status.value}.", code="invalid_state")
    return request


async def approve_return(uow: UnitOfWork, supplier: Principal, return_id: uuid.UUID, restock: bool) -> ReturnRequest:
    request = await _returns_order(uow, supplier, return_id)
    order = await get_order(uow, request.order_id, supplier, for_update=True)  # order first, then the return
    await _decide(uow, request, ReturnStatus.approved, restock=restock)
    await _refund(uow, order, RETURN_REASON, restock=restock)
    return request


async def _decide(uow: UnitOfWork, request: ReturnRequest, status: ReturnStatus, **values: object) -> None:
    """Decide a return once: a conditional UPDATE, so approve and reject cannot both win."""
    if not await repository.decide_return(uow.session, request.id, status, decided_at=uow.now(), **values):
        raise Conflict("The return was already decided.", code="invalid_state")


async def reject_return(uow: UnitOfWork, supplier: Principal, return_id: uuid.UUID, note: str) -> ReturnRequest:
    request = await _returns_order(uow, supplier, return_id)
    await get_order(uow, request.order_id, supplier, for_update=True)  # order first, then the return
    await _decide(uow, request, ReturnStatus.rejected, decision_note=note.strip())
    uow.emit(
        "commerce.return_rejected",
        {"return_id": request.id, "order_id": request.order_id, "buyer_id": request.buyer_id},
    )
    return request


async def list_returns(
    uow: UnitOfWork, viewer: Principal, params: PageParams, status: ReturnStatus | None
) -> tuple[list[ReturnRequest], str | None]:
    if viewer.role == Role.supplier:
        return await repository.returns_page(uow.session, params, supplier_id=viewer.id, buyer_id=None, status=status)
    if viewer.role == Role.admin:
        return await repository.returns_page(uow.session, params, supplier_id=None, buyer_id=None, status=status)
    return await repository.returns_page(uow.session, params, supplier_id=None, buyer_id=viewer.id, status=status)


async def return_for_order(uow: UnitOfWork, order_id: uuid.UUID) -> ReturnRequest | None:
    return await repository.return_for_order(uow.session, order_id)


async def review_for_order(uow: UnitOfWork, order_id: uuid.UUID) -> Review | None:
    return await repository.review_for_order(uow.session, order_id)


async def refund(uow: UnitOfWork, actor: Principal, order_id: uuid.UUID, reason: str) -> Order:
    """An after-sales refund by the order's supplier or an operator, at any time after
    payment; after settlement the ledger claws the split back."""
    # The order row is locked first, as shipping, a return request and a return decision
    # take it: its status and the open request read next stay as read until the commit.
    order = await get_order(uow, order_id, actor, for_update=True)
    if actor.role != Role.admin and actor.id != order.supplier_id:
        raise Forbidden("Only the order's supplier or an operator can refund it.", code="not_supplier")
    # The refund settles an open return request. A failed refund below rolls this back with it.
    request = await repository.return_for_order(uow.session, order.id)
    if request is not None and request.status == ReturnStatus.requested:
        await repository.decide_return(
            uow.session, request.id, ReturnStatus.approved, decided_at=uow.now(), restock=False
        )
    # Refunded before it shipped, the goods never left: they go back on sale.
    await _refund(uow, order, reason, restock=order.status == OrderStatus.paid)
    return order


async def _refund(uow: UnitOfWork, order: Order, reason: str, *, restock: bool, by: str = "seller") -> None:
    """Refund the order: reverse or claw back its split, return the money, maybe restock."""
    # A paid order the buyer took back says so (cancel_reason "buyer"), as a cancelled one does.
    said = {"cancel_reason": "buyer"} if by == "buyer" else {}
    moved = await repository.transition(
        uow.session, order.id, list(REFUNDABLE), OrderStatus.refunded, refunded_at=uow.now(), **said
    )
    if not moved:
        raise invalid_state(order, "refund")
    kind = await ledger.post_refund(uow, order.id)
    if order.payment_id is not None:
        await payments.refund_payment(uow, order.payment_id, reason)
    if restock:
        await catalog.release_stock(uow, {i.sku_id: i.quantity for i in order.items})
    # Refunded units were not sold after all ("Sold" and the pool's sales order say so).
    # The product row last, as when the payment counted them: best sellers' rows are hot.
    units: dict[uuid.UUID, int] = {}
    for i in order.items:
        units[i.product_id] = units.get(i.product_id, 0) - i.quantity
    await catalog.record_sales(uow, units)
    uow.emit(
        "commerce.order_refunded",
        {
            "order_id": order.id,
            "buyer_id": order.buyer_id,
            "supplier_id": order.supplier_id,
            "by": by,  # "buyer": taken back before shipping; else the supplier or an operator
            "ledger": kind,
            "reason": reason,
            "post_id": order.post_id,
            "total_minor": order.total_minor,
            "currency": order.currency,
        },
    )


# ------------------------------------------------------------------ jobs (time passing)

BATCH = 200


async def due_for_expiry(uow: UnitOfWork) -> list[uuid.UUID]:
    return await repository.due_for_expiry(uow.session, uow.now(), BATCH)


async def expire(uow: UnitOfWork, order_id: uuid.UUID) -> bool:
    """Cancel an unpaid order past its payment deadline and release its stock. One order
    per unit of work: SKU rows are never held locked across a batch."""
    order = await repository.get(uow.session, order_id)
    if order is None or order.status != OrderStatus.pending_payment or order.expires_at > uow.now():
        return False
    try:
        return await _cancel(uow, order, "expired")
    except Conflict:
        return False  # paid in the meantime


SUPPLIER_SUSPENDED = "supplier_suspended"


async def cancel_unpaid_of_suspended_supplier(uow: UnitOfWork, supplier_id: uuid.UUID) -> int:
    """A suspended supplier cannot ship: its unpaid orders are cancelled (their open
    checkouts closed, their stock released) rather than left for buyers to pay. Reads the
    account's state, so a late delivery after a reinstatement cancels nothing."""
    if not await identity.is_suspended(uow, supplier_id, lock=True):
        return 0
    done = 0
    for order_id in await repository.unpaid_of_supplier(uow.session, supplier_id):
        order = await repository.get(uow.session, order_id)
        if order is None or order.status != OrderStatus.pending_payment:
            continue
        try:
            done += await _cancel(uow, order, SUPPLIER_SUSPENDED)
        except Conflict:
            continue  # paid in the meantime: the order stands; an operator may refund it
    return done


async def auto_receive_due(uow: UnitOfWork) -> tuple[int, bool]:
    """Orders shipped long enough ago count as received: up to ``BATCH`` of them. Returns
    how many, and whether more may be due (the caller runs another batch)."""
    cutoff = uow.now() - timedelta(days=uow.settings.auto_receive_days)
    done = 0
    due = await repository.due_for_auto_receipt(uow.session, cutoff, BATCH)
    for order_id in due:
        order = await repository.get(uow.session, order_id)
        if order is not None and await _receive(uow, order, automatic=True):
            done += 1
    return done, len(due) == BATCH


async def settle_due(uow: UnitOfWork) -> list[uuid.UUID]:
    """Settle every order whose return window has closed, in this unit of work."""
    settled: list[uuid.UUID] = []
    while True:
        batch, more = await settle_batch(uow)
        settled += batch
        if not more:
            return settled


async def settle_batch(uow: UnitOfWork) -> tuple[list[uuid.UUID], bool]:
    """Make the split of up to ``BATCH`` orders whose return window has closed available,
    and complete those orders. Returns them, and whether more may be due."""
    cutoff = uow.now() - timedelta(days=uow.settings.return_window_days)
    settled = []
    due = await repository.due_for_settlement(uow.session, cutoff, BATCH)
    for order_id in due:
        # The order first, as a return request locks it; then a fresh look for its return:
        # one requested at the window's last instant, committed while we waited for the
        # lock, is not in the snapshot that chose this batch, and keeps the order open.
        order = await repository.get(uow.session, order_id, for_update=True)
        if order is None or order.status != OrderStatus.received:
            continue
        if await repository.has_open_return(uow.session, order_id):
            continue
        moved = await repository.transition(
            uow.session, order_id, [OrderStatus.received], OrderStatus.completed, completed_at=uow.now()
        )
        if not moved:
            continue
        released = await ledger.post_settlement(uow, order_id)
        commission = order.promoter_minor or 0  # as posted when it was paid
        mcn_share = released.get(ledger.MCN_PENDING, 0)
        uow.emit(
            "commerce.order_settled",
            {
                "order_id": order_id,
                "promoter_id": order.promoter_id,
                "commission_minor": commission,
                "mcn_id": order.mcn_id if mcn_share else None,
                "mcn_minor": mcn_share,
                "currency": order.currency,
                "post_id": order.post_id,
            },
        )
        settled.append(order_id)
    return settled, len(due) == BATCH


@dataclass
class PromotionStats:
    """Orders one promoter brought in one currency: goods they promoted, their commission."""

    currency: str
    orders: int = 0
    gmv_minor: int = 0  # the promoted goods of orders not refunded
    commission_minor: int = 0  # the promoter's part of those orders
    refunded: int = 0
    settled_minor: int = 0


ByCurrency = dict[str, PromotionStats]


async def promotion_stats(
    uow: UnitOfWork, promoter_id: uuid.UUID
) -> tuple[dict[uuid.UUID, ByCurrency], dict[uuid.UUID, ByCurrency], ByCurrency]:
    """(by post, by share link, total), each per currency, over all the promoter's paid
    orders, added up in SQL. Only promoted goods count; refunded orders count as orders but
    earn nothing."""
    by_post: dict[uuid.UUID, ByCurrency] = {}
    by_link: dict[uuid.UUID, ByCurrency] = {}
    total: ByCurrency = {}
    for group in await repository.promotion_totals(uow.session, promoter_id):
        refunded = group.status == OrderStatus.refunded
        earned = 0 if refunded else group.promoter_minor
        c = group.currency
        buckets = [total.setdefault(c, PromotionStats(c))]
        if group.post_id is not None:
            buckets.append(by_post.setdefault(group.post_id, {}).setdefault(c, PromotionStats(c)))
        if group.share_link_id is not None:
            buckets.append(by_link.setdefault(group.share_link_id, {}).setdefault(c, PromotionStats(c)))
        for b in buckets:
            b.orders += group.orders
            b.gmv_minor += 0 if refunded else group.promoted_minor
            b.commission_minor += earned
            b.refunded += group.orders if refunded else 0
            b.settled_minor += earned if group.status == OrderStatus.completed else 0
    return by_post, by_link, total
