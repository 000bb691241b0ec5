"""Commerce API: orders, fulfilment, returns, reviews and settlement."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Request, Response

from grassroots.affiliate import service as affiliate
from grassroots.commerce import service
from grassroots.commerce.models import Order, OrderStatus, ReturnRequest, ReturnStatus
from grassroots.commerce.schemas import (
    ApproveIn,
    CancelRefundIn,
    OrderIn,
    OrderItemOut,
    OrderOut,
    PayIn,
    PayOut,
    RefundIn,
    RejectIn,
    ReturnIn,
    ReturnOut,
    ReviewIn,
    ReviewOut,
    ReviewsOut,
    ReviewSummary,
    SettleIn,
    SettlementOut,
    ShipIn,
)
from grassroots.kernel.auth import AdminUser, MaybeUser, Principal, Role, require
from grassroots.kernel.deps import UoW
from grassroots.kernel.pagination import Page, Paging

router = APIRouter(prefix="/api/v1", tags=["commerce"])

Buyer = Annotated[Principal, Depends(require(Role.consumer))]
Supplier = Annotated[Principal, Depends(require(Role.supplier))]
OrderViewer = Annotated[Principal, Depends(require(Role.consumer, Role.supplier, Role.admin))]
SupplierOrAdmin = Annotated[Principal, Depends(require(Role.supplier, Role.admin))]
IdempotencyKey = Annotated[
    str | None,
    # No max_length here: a key too long is 400 invalid_idempotency_key, as other bad keys are.
    Header(
        alias="Idempotency-Key", description="Required, 1-255 printable characters: retries with one key make one order"
    ),
]


def order_out(order: Order, viewer: Principal | None = None) -> OrderOut:
    """The order as ``viewer`` may see it (None: its buyer, who placed or changed it)."""
    return OrderOut(
        id=order.id,
        status=order.status.value,
        buyer_id=order.buyer_id,
        supplier_id=order.supplier_id,
        items=[OrderItemOut.model_validate(i) for i in order.items],
        goods_minor=order.goods_minor,
        total_minor=order.total_minor,
        currency=order.currency,
        promoter_id=order.promoter_id,
        scene=order.scene.value,
        post_id=order.post_id,
        share_link_id=order.share_link_id,
        attributed_by=order.attributed_by,
        source=order.source,
        shipping_address=order.shipping_address if viewer is None or service.sees_address(order, viewer) else None,
        created_at=order.created_at,
        expires_at=order.expires_at,
        paid_at=order.paid_at,
        shipped_at=order.shipped_at,
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        received_at=order.received_at,
        completed_at=order.completed_at,
        cancelled_at=order.cancelled_at,
        cancel_reason=order.cancel_reason,
        refunded_at=order.refunded_at,
    )


def return_out(r: ReturnRequest) -> ReturnOut:
    return ReturnOut(
        id=r.id,
        order_id=r.order_id,
        status=r.status.value,
        reason=r.reason,
        restock=r.restock,
        decision_note=r.decision_note,
        created_at=r.created_at,
        decided_at=r.decided_at,
    )


@router.post("/orders", status_code=201, response_model=OrderOut)
async def create_order(
    body: OrderIn,
    buyer: Buyer,
    uow: UoW,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> OrderOut:
    """Place an order with one supplier's goods. Stock is reserved with the order (409
    ``out_of_stock`` with ``fields.sku_id`` when it runs short); unpaid orders are cancelled
    after the payment deadline. Retrying with the same ``Idempotency-Key``
    returns the same order (header ``Idempotent-Replayed: true``)."""
    visitor = affiliate.valid_visitor(request.cookies.get(affiliate.VISITOR_COOKIE))
    order, created = await service.create_order(uow, buyer, body, idempotency_key, visitor)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return order_out(order)


@router.get("/orders", response_model=Page[OrderOut])
async def list_orders(
    viewer: OrderViewer, uow: UoW, paging: Paging, status: OrderStatus | None = None
) -> Page[OrderOut]:
    """Your orders: as a buyer, those you placed; as a supplier, those for your goods."""
    orders, next_cursor = await service.list_orders(uow, viewer, paging, status)
    return Page(items=[order_out(o, viewer) for o in orders], next_cursor=next_cursor)


@router.get("/orders/{order_id}", response_model=OrderOut)
async def get_order(order_id: uuid.UUID, viewer: OrderViewer, uow: UoW) -> OrderOut:
    return order_out(await service.get_order(uow, order_id, viewer), viewer)


@router.post("/orders/{order_id}/cancel", response_model=OrderOut)
async def cancel(order_id: uuid.UUID, buyer: Buyer, uow: UoW) -> OrderOut:
    return order_out(await service.cancel(uow, buyer, order_id))


@router.post("/orders/{order_id}/cancel-and-refund", response_model=OrderOut)
async def cancel_and_refund(
    order_id: uuid.UUID, buyer: Buyer, uow: UoW, body: Annotated[CancelRefundIn | None, Body()] = None
) -> OrderOut:
    """Take back a paid order not yet shipped: refunded in full at once (409 ``invalid_state``
    once shipped: then it is a return)."""
    return order_out(await service.cancel_and_refund(uow, buyer, order_id, body.reason if body else ""))


@router.post("/orders/{order_id}/pay", response_model=PayOut)
async def pay(order_id: uuid.UUID, buyer: Buyer, uow: UoW, body: Annotated[PayIn | None, Body()] = None) -> PayOut:
    """Start paying: go to ``redirect_url`` (the provider's hosted page). The order becomes
    ``paid`` when the provider's signed webhook confirms the money."""
    payment = await service.pay(uow, buyer, order_id, (body or PayIn()).provider)
    return PayOut(payment_id=payment.id, redirect_url=payment.redirect_url, status=payment.status.value)


@router.post("/orders/{order_id}/ship", response_model=OrderOut)
async def ship(order_id: uuid.UUID, body: ShipIn, supplier: Supplier, uow: UoW) -> OrderOut:
    return order_out(await service.ship(uow, supplier, order_id, body.carrier, body.tracking_number))


@router.post("/orders/{order_id}/receive", response_model=OrderOut)
async def receive(order_id: uuid.UUID, buyer: Buyer, uow: UoW) -> OrderOut:
    return order_out(await service.receive(uow, buyer, order_id))


@router.post("/orders/{order_id}/returns", status_code=201, response_model=ReturnOut)
async def request_return(order_id: uuid.UUID, body: ReturnIn, buyer: Buyer, uow: UoW) -> ReturnOut:
    """No-reason return within ``GRASSROOTS_RETURN_WINDOW_DAYS`` (7 by default) of receipt (not for
    perishable, custom or digital goods); after it, 409 ``return_window_closed``."""
    return return_out(await service.request_return(uow, buyer, order_id, body.reason))


@router.get("/returns", response_model=Page[ReturnOut])
async def list_returns(
    viewer: OrderViewer, uow: UoW, paging: Paging, status: ReturnStatus | None = None
) -> Page[ReturnOut]:
    items, next_cursor = await service.list_returns(uow, viewer, paging, status)
    return Page(items=[return_out(r) for r in items], next_cursor=next_cursor)


@router.post("/returns/{return_id}/approve", response_model=ReturnOut)
async def approve_return(
    return_id: uuid.UUID, supplier: Supplier, uow: UoW, body: Annotated[ApproveIn | None, Body()] = None
) -> ReturnOut:
    """Refund the order through the payment provider; ``restock`` (default true) puts the goods back."""
    return return_out(await service.approve_return(uow, supplier, return_id, (body or ApproveIn()).restock))


@router.post("/returns/{return_id}/reject", response_model=ReturnOut)
async def reject_return(return_id: uuid.UUID, body: RejectIn, supplier: Supplier, uow: UoW) -> ReturnOut:
    return return_out(await service.reject_return(uow, supplier, return_id, body.note))


@router.post("/orders/{order_id}/refund", response_model=OrderOut)
async def refund(order_id: uuid.UUID, body: RefundIn, actor: SupplierOrAdmin, uow: UoW) -> OrderOut:
    """After-sales refund of a paid order in full; after settlement the split is clawed back.
    Goods that had not shipped go back on sale; an open return request is approved with it."""
    return order_out(await service.refund(uow, actor, order_id, body.reason))


@router.post("/orders/{order_id}/reviews", status_code=201, response_model=ReviewOut)
async def review(order_id: uuid.UUID, body: ReviewIn, buyer: Buyer, uow: UoW) -> ReviewOut:
    """A verified-purchase review, one per order, after receipt."""
    return ReviewOut.model_validate(await service.review(uow, buyer, order_id, body.rating, body.body))


@router.get("/products/{product_id}/reviews", response_model=ReviewsOut)
async def product_reviews(product_id: uuid.UUID, viewer: MaybeUser, uow: UoW, paging: Paging) -> ReviewsOut:
    rows, next_cursor, summary = await service.product_reviews(uow, product_id, paging, viewer)
    return ReviewsOut(
        summary=ReviewSummary(
            count=summary.count,
            average=summary.average,
            distribution={str(k): v for k, v in summary.distribution.items()},
        ),
        items=[ReviewOut.model_validate(r) for r in rows],
        next_cursor=next_cursor,
    )


@router.post("/admin/settlements", response_model=SettlementOut)
async def run_settlement(_admin: AdminUser, uow: UoW, body: Annotated[SettleIn | None, Body()] = None) -> SettlementOut:
    """Settle now every order whose return window has closed (also runs on a schedule)."""
    settled = await service.settle_due(uow)
    return SettlementOut(settled=len(settled), order_ids=settled)
