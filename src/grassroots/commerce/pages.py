"""Commerce pages: checkout, the shopper's orders, the supplier's orders and returns."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from grassroots.affiliate import service as affiliate
from grassroots.catalog import service as catalog
from grassroots.catalog.models import ProductStatus
from grassroots.commerce import service
from grassroots.commerce.models import OrderStatus, ReturnStatus
from grassroots.commerce.schemas import SOURCE_PARAMS, AddressIn, ItemIn, OrderIn, source_in, source_params
from grassroots.kernel.auth import AdminUser, Principal, Role, require
from grassroots.kernel.deps import UoW
from grassroots.kernel.errors import Conflict, DomainError
from grassroots.kernel.i18n import N_
from grassroots.kernel.pagination import Paging
from grassroots.payments import service as payments
from grassroots.payments.models import PaymentStatus
from grassroots.web import nav
from grassroots.web.actions import act, error_text, see_other
from grassroots.web.forms import integer, text, uuid_field, whole_number
from grassroots.web.session import CsrfForm, flash
from grassroots.web.templating import gettext, register_global, render
from grassroots.web.templating import ngettext as plural

router = APIRouter(include_in_schema=False)

Shopper = Annotated[Principal, Depends(require(Role.consumer))]
Supplier = Annotated[Principal, Depends(require(Role.supplier))]
OrderViewer = Annotated[Principal, Depends(require(Role.consumer, Role.supplier, Role.admin))]
SupplierOrAdmin = Annotated[Principal, Depends(require(Role.supplier, Role.admin))]

nav.register("/orders", N_("Orders"), (Role.consumer,), order=20)
nav.register("/supplier/orders", N_("Orders"), (Role.supplier,), order=20)
nav.register("/supplier/returns", N_("Returns"), (Role.supplier,), order=30)

STATUS_LABELS = {
    "pending_payment": N_("Awaiting payment"),
    "paid": N_("Paid"),
    "shipped": N_("Shipped"),
    "received": N_("Received"),
    "completed": N_("Completed"),
    "cancelled": N_("Cancelled"),
    "refunded": N_("Refunded"),
    "requested": N_("Return requested"),
    "approved": N_("Approved"),
    "rejected": N_("Rejected"),
    "pending": N_("Pending"),
    "succeeded": N_("Succeeded"),
    "failed": N_("Failed"),
    "expired": N_("Expired"),
    "active": N_("Active"),
    "terminated": N_("Ended"),
    "draft": N_("Draft"),
    "archived": N_("Archived"),
    "suspended": N_("Suspended"),
    "open": N_("Open"),
    "captured": N_("Captured"),
    "declined": N_("Declined"),
}
register_global("status_labels", STATUS_LABELS)
# Refund reasons the platform writes itself: pages show them in the reader's language.
register_global(
    "platform_refund_reasons", {service.RETURN_REASON, service.LATE_PAYMENT_REASON, service.BUYER_CANCELLED}
)

ERRORS = {
    "out_of_stock": N_("Sorry, there is not enough stock left."),
    "product_unavailable": N_("This product is no longer on sale."),
    "price_changed": N_("The price changed since you opened this page. Check the new total and place the order again."),
    "unknown_sku": N_("This product is no longer on sale."),
    "invalid_source": N_("The page that sent you here is gone; place the order again."),
    "invalid_state": N_("That is not possible for this order any more."),
    "refunded_unshipped": N_("This order was cancelled and refunded before it shipped: do not ship it."),
    "shipped_already": N_("The order has shipped: once it arrives you can ask for a return."),
    "order_expired": N_("The time to pay for this order has run out."),
    "supplier_suspended": N_("This shop is suspended: the order cannot be paid."),
    "return_window_closed": N_("The return window for this order has closed."),
    "not_returnable": N_("Perishable, custom-made and digital goods have no no-reason return."),
    "return_exists": N_("You already asked to return this order."),
    "already_reviewed": N_("You already reviewed this order."),
    "validation_error": N_("Please check the form."),
    "provider_unavailable": N_("This order's payment provider is switched off here, so no money can move now."),
    "refund_not_possible": N_("The payment provider has nothing left to refund for this payment."),
}


# ------------------------------------------------------------------ checkout


async def _checkout_context(uow: UoW, sku_id: uuid.UUID | None, qty: int) -> dict[str, Any] | None:
    if sku_id is None:
        return None
    found = await catalog.skus_for_order(uow, [sku_id])
    if sku_id not in found:
        return None
    sku, product = found[sku_id]
    if product.status != ProductStatus.active:
        return None
    return {"sku": sku, "product": product, "qty": qty, "total": sku.price_minor * qty, "stock": sku.stock}


def _sold_out(request: Request, product_id: object) -> Response:
    response = see_other(f"/products/{product_id}")
    _ = gettext(request)
    flash(request, response, _(ERRORS["out_of_stock"]), "error")
    return response


def _fewer_left(request: Request, left: int) -> str:
    ngettext = plural(request)
    return str(
        ngettext(
            "Only %(num)s is left: the quantity is now %(num)s. Check the total and place the order.",
            "Only %(num)s are left: the quantity is now %(num)s. Check the total and place the order.",
            left,
        )
    )


@router.get("/checkout")
async def checkout(request: Request, shopper: Shopper, uow: UoW, sku: str = "", qty: str = "1") -> Response:
    try:
        sku_id = uuid.UUID(sku)
    except ValueError:
        return see_other("/products")
    # An emptied or odd quantity box ("", "1e1") buys one, as the checkout form's own field does.
    quantity = max(1, min(99, whole_number(qty, 10**12) or 1))
    ctx = await _checkout_context(uow, sku_id, quantity)
    if ctx is None:
        return see_other("/products")
    notice = None
    if ctx["stock"] < quantity:  # a link or the product page asked for more than there is
        if not ctx["stock"]:
            return _sold_out(request, ctx["product"].id)
        notice = _fewer_left(request, ctx["stock"])
        ctx = await _checkout_context(uow, sku_id, ctx["stock"])
    return render(
        request,
        "commerce/checkout.html",
        {
            **(ctx or {}),
            "source": source_params(request.query_params),
            "token": secrets.token_urlsafe(16),
            "values": {},
            "error": notice,
        },
    )


@router.post("/checkout")
async def place_order(request: Request, form: CsrfForm, shopper: Shopper, uow: UoW) -> Response:
    _ = gettext(request)
    sku_id = uuid_field(form, "sku")
    quantity = max(1, min(99, integer(form, "qty", 1) or 1))
    source = source_params({k: text(form, k, 64) for k in SOURCE_PARAMS})
    values = {k: text(form, k, 200) for k in ("name", "phone", "line1", "city", "country")}
    token = text(form, "token", 64)
    error = None
    try:
        address = AddressIn(**values)
    except ValueError:
        error = _(
            "Fill in the name, a phone number (digits, with + and spaces if you like), the address, the city "
            "and the country."
        )
    replayed: uuid.UUID | None = None  # the order this form placed before (sent again: back button)
    if error is None and sku_id is not None:
        try:
            async with uow.attempt():
                order, created = await service.create_order(
                    uow,
                    shopper,
                    OrderIn(
                        items=[ItemIn(sku_id=sku_id, quantity=quantity)],
                        shipping_address=address,
                        source=source_in(source),
                        # what the page showed: a price changed since is told, not charged
                        expected_total_minor=whole_number(text(form, "total_shown", 12), 10**12) or None,
                    ),
                    token,
                    affiliate.valid_visitor(request.cookies.get(affiliate.VISITOR_COOKIE)),
                    stock_now=True,  # a shortage re-renders this form
                )
                if not created:
                    replayed = order.id
                    if order.status != OrderStatus.pending_payment:
                        return _already_placed(request, order.id)
                payment = await service.pay(uow, shopper, order.id, "sandbox")
                return see_other(payment.redirect_url)
        except DomainError as exc:
            if replayed is not None:  # it can no longer be paid (it expired just now): show it
                return _already_placed(request, replayed)
            if exc.code == "idempotency_key_reused":  # sent again with changes: that order stands
                earlier = await service.order_for_key(uow, shopper, token)
                if earlier is not None:
                    return _already_placed(request, earlier.id)
            if exc.code == "invalid_source":  # drop the field that names nothing, keep the rest
                bad = {f.removeprefix("source.") for f in exc.fields or {}}
                source = {k: v for k, v in source.items() if SOURCE_PARAMS.get(k) not in bad}
            error = error_text(request, exc, ERRORS)
    ctx = await _checkout_context(uow, sku_id, quantity)
    if ctx is None:  # taken off sale meanwhile: no form to show again, so say why on the way out
        response = see_other("/products")
        if error:
            flash(request, response, error, "error")
        return response
    if ctx["stock"] < quantity:  # what is left, to order again (a new order: a new key)
        if not ctx["stock"]:
            return _sold_out(request, ctx["product"].id)
        error, token = _fewer_left(request, ctx["stock"]), ""
        ctx = await _checkout_context(uow, sku_id, ctx["stock"])
        assert ctx is not None
    return render(
        request,
        "commerce/checkout.html",
        {
            **ctx,
            "source": source,
            "token": token or secrets.token_urlsafe(16),
            "values": values,
            "error": error,
        },
        status=422,
    )


def _already_placed(request: Request, order_id: uuid.UUID) -> Response:
    response = see_other(f"/orders/{order_id}")
    _ = gettext(request)
    flash(request, response, _("You placed this order already; here it is."), "info")
    return response


# ------------------------------------------------------------------ the shopper's orders


@router.get("/orders")
async def my_orders(request: Request, viewer: OrderViewer, uow: UoW, paging: Paging) -> Response:
    if viewer.role == Role.supplier:
        return see_other("/supplier/orders")
    orders, next_cursor = await service.list_orders(uow, viewer, paging)
    return render(request, "commerce/orders.html", {"orders": orders, "next_cursor": next_cursor})


@router.get("/orders/{order_id}")
async def order_page(
    request: Request, order_id: uuid.UUID, viewer: OrderViewer, uow: UoW, processing: str = "", unpaid: str = ""
) -> Response:
    order = await service.get_order(uow, order_id, viewer)
    pays = await payments.payments_for_order(uow, order.id)
    refunds = await payments.refunds_for_order(uow, order.id)
    ret = await service.return_for_order(uow, order.id)
    review = await service.review_for_order(uow, order.id)
    window_ends = order.received_at + timedelta(days=uow.settings.return_window_days) if order.received_at else None
    returnable = all(i.returnable for i in order.items)
    products = await catalog.products_by_id(uow, list({i.product_id for i in order.items}))
    now = uow.now()
    window_open = bool(
        window_ends and now <= window_ends and order.status == OrderStatus.received and ret is None and returnable
    )
    return render(
        request,
        "commerce/order.html",
        {
            "order": order,
            "payments": pays,
            "refunds": refunds,
            "ret": ret,
            "review": review,
            "is_buyer": viewer.id == order.buyer_id,
            "is_supplier": viewer.id == order.supplier_id,
            # After-sales: the order's supplier or an operator refunds it in full.
            "can_refund": (viewer.id == order.supplier_id or viewer.role == Role.admin)
            and order.status in service.REFUNDABLE,
            "is_admin": viewer.role == Role.admin,
            "sees_address": service.sees_address(order, viewer),
            "window_ends": window_ends if returnable else None,  # perishables: no window to show
            # Items link to their product only while it is on sale (else the link is a 404).
            "on_sale": {pid for pid, p in products.items() if p.status == ProductStatus.active},
            # What the latest refund's provider said: the order is refunded before the money is back.
            "refund_state": refunds[-1].status.value if refunds else None,
            "window_open": window_open,  # a return can still be asked for
            # Back from the provider's page: "confirming" only while the latest checkout may
            # still be paid (a declined one is not: its payment has failed).
            "processing": bool(processing)
            and order.status == OrderStatus.pending_payment
            and bool(pays)
            and pays[-1].status == PaymentStatus.pending,
            # Back from a declined checkout (its webhook may not be in yet), or one that failed.
            "unpaid": order.status == OrderStatus.pending_payment
            and bool(pays)
            and (bool(unpaid) or pays[-1].status == PaymentStatus.failed),
        },
    )


async def _order_action(
    request: Request, uow: UoW, order_id: uuid.UUID, action: Awaitable[object], done: str
) -> Response:
    return await act(request, uow, action, redirect=f"/orders/{order_id}", done=done, messages=ERRORS)


@router.post("/orders/{order_id}/pay")
async def pay(request: Request, order_id: uuid.UUID, form: CsrfForm, shopper: Shopper, uow: UoW) -> Response:
    async def go() -> str:
        return (await service.pay(uow, shopper, order_id, "sandbox")).redirect_url

    failed = f"/orders/{order_id}"
    return await act(request, uow, go(), redirect=lambda url: url or failed, messages=ERRORS, on_error=failed)


@router.post("/orders/{order_id}/refund")
async def refund(request: Request, order_id: uuid.UUID, form: CsrfForm, actor: SupplierOrAdmin, uow: UoW) -> Response:
    """After-sales refund in full, by the order's supplier or an operator."""
    reason = text(form, "reason", 200)
    if not reason:
        response = see_other(f"/orders/{order_id}")
        _ = gettext(request)
        flash(request, response, _("Say why the order is refunded."), "error")
        return response
    action = service.refund(uow, actor, order_id, reason)
    return await _order_action(request, uow, order_id, action, N_("Refunded. The money goes back to the buyer."))


async def _done_if_already(
    uow: UoW, shopper: Principal, order_id: uuid.UUID, action: Awaitable[object], *, done: OrderStatus, reason: str = ""
) -> object:
    """The action, where finding it already done (a double tap sent the form twice) is done,
    not refused. Read again locked, so as it is now."""
    try:
        async with uow.attempt():
            return await action
    except DomainError as exc:
        order = await service.get_order(uow, order_id, shopper, for_update=True)
        if exc.code == "invalid_state" and order.status == done and (not reason or order.cancel_reason == reason):
            return order
        raise


@router.post("/orders/{order_id}/cancel")
async def cancel(request: Request, order_id: uuid.UUID, form: CsrfForm, shopper: Shopper, uow: UoW) -> Response:
    action = _done_if_already(
        uow, shopper, order_id, service.cancel(uow, shopper, order_id), done=OrderStatus.cancelled, reason="buyer"
    )
    return await _order_action(request, uow, order_id, action, N_("Order cancelled."))


@router.post("/orders/{order_id}/cancel-and-refund")
async def cancel_and_refund(
    request: Request, order_id: uuid.UUID, form: CsrfForm, shopper: Shopper, uow: UoW
) -> Response:
    reason = text(form, "reason", 200)

    async def go() -> object:
        action = service.cancel_and_refund(uow, shopper, order_id, reason)
        try:
            return await _done_if_already(uow, shopper, order_id, action, done=OrderStatus.refunded)
        except DomainError as exc:  # shipped while the page was open: say what the buyer can do now
            order = await service.get_order(uow, order_id, shopper)
            if exc.code == "invalid_state" and order.status == OrderStatus.shipped:
                raise Conflict(
                    "The order has shipped; ask for a return once it arrives.", code="shipped_already"
                ) from exc
            raise

    # Not "the money is back": the provider confirms a refund later (the order page says when).
    return await _order_action(request, uow, order_id, go(), N_("Order cancelled. The refund is on its way."))


@router.post("/orders/{order_id}/receive")
async def receive(request: Request, order_id: uuid.UUID, form: CsrfForm, shopper: Shopper, uow: UoW) -> Response:
    action = _done_if_already(
        uow, shopper, order_id, service.receive(uow, shopper, order_id), done=OrderStatus.received
    )
    return await _order_action(request, uow, order_id, action, N_("Thanks! Receipt confirmed."))


@router.post("/orders/{order_id}/return")
async def request_return(request: Request, order_id: uuid.UUID, form: CsrfForm, shopper: Shopper, uow: UoW) -> Response:
    reason = text(form, "reason", 500)  # a no-reason return may give none; pages say so in the reader's language
    return await _order_action(
        request,
        uow,
        order_id,
        service.request_return(uow, shopper, order_id, reason),
        N_("Return requested. The supplier will answer soon."),
    )


@router.post("/orders/{order_id}/review")
async def review(request: Request, order_id: uuid.UUID, form: CsrfForm, shopper: Shopper, uow: UoW) -> Response:
    rating = integer(form, "rating", 0) or 0
    return await _order_action(
        request,
        uow,
        order_id,
        service.review(uow, shopper, order_id, rating, text(form, "body", 2000)),
        N_("Thanks for your review."),
    )


# ------------------------------------------------------------------ the supplier's side

SUPPLIER_TABS = [
    ("paid", N_("To ship")),
    ("shipped", N_("Shipped")),
    ("received", N_("Received")),
    ("completed", N_("Completed")),
    ("refunded", N_("Refunded")),
    ("pending_payment", N_("Unpaid")),
]


@router.get("/supplier/orders")
async def supplier_orders(
    request: Request,
    supplier: Supplier,
    uow: UoW,
    paging: Paging,
    status: str = "paid",
    order: Annotated[str, Query(max_length=36)] = "",
    carrier: Annotated[str, Query(max_length=50)] = "",
    tracking_number: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """``order``, ``carrier`` and ``tracking_number`` refill one order's ship form (a refused one)."""
    chosen = OrderStatus(status) if status in OrderStatus.__members__ else OrderStatus.paid
    orders, next_cursor = await service.list_orders(uow, supplier, paging, chosen)
    return render(
        request,
        "commerce/supplier_orders.html",
        {
            "orders": orders,
            "next_cursor": next_cursor,
            "status": chosen.value,
            "tabs": SUPPLIER_TABS,
            "typed": {"order": order, "carrier": carrier, "tracking_number": tracking_number},
        },
    )


@router.post("/supplier/orders/{order_id}/ship")
async def ship(request: Request, order_id: uuid.UUID, form: CsrfForm, supplier: Supplier, uow: UoW) -> Response:
    _ = gettext(request)
    carrier, tracking = text(form, "carrier", 50), text(form, "tracking_number", 64)
    # A refusal comes back to this order's form, on the page of the list it came from (the
    # cursor), with what was typed still in it.
    where = {k: text(form, k, 512) for k in ("cursor", "limit")}
    page = {"status": "paid", **{k: v for k, v in where.items() if v}}
    typed = {**page, "order": str(order_id), "carrier": carrier, "tracking_number": tracking}
    retry = "/supplier/orders?" + urlencode(typed) + f"#o-{order_id}"
    if not carrier or not tracking:
        response = see_other(retry)
        flash(request, response, _("Enter the carrier and the tracking number."), "error")
        return response

    async def go() -> object:
        try:
            async with uow.attempt():
                return await service.ship(uow, supplier, order_id, carrier, tracking)
        except DomainError as exc:
            # read it again for real (locked, so as it is now): a tap racing this one shipped it
            order = await service.get_order(uow, order_id, supplier, for_update=True)
            if exc.code == "invalid_state" and (order.status, order.carrier, order.tracking_number) == (
                OrderStatus.shipped,
                carrier,
                tracking,
            ):
                return order  # the same form sent twice (a double tap): done, not refused
            if exc.code == "invalid_state" and order.status == OrderStatus.refunded:
                # the buyer took it back (or it was refunded) while the page was open: say so
                raise Conflict(
                    "The order was refunded before it shipped: do not ship it.", code="refunded_unshipped"
                ) from exc
            raise

    return await act(
        request,
        uow,
        go(),
        redirect="/supplier/orders?" + urlencode(page),
        done=N_("Marked as shipped."),
        messages=ERRORS,
        on_error=retry,
    )


@router.get("/supplier/returns")
async def supplier_returns(
    request: Request, supplier: Supplier, uow: UoW, paging: Paging, status: str = "requested"
) -> Response:
    chosen = ReturnStatus(status) if status in ReturnStatus.__members__ else ReturnStatus.requested
    returns, next_cursor = await service.list_returns(uow, supplier, paging, chosen)
    orders = await service.orders_by_id(uow, [r.order_id for r in returns], supplier)
    return render(
        request,
        "commerce/supplier_returns.html",
        {"returns": returns, "orders": orders, "next_cursor": next_cursor, "status": chosen.value},
    )


@router.post("/supplier/returns/{return_id}/approve")
async def approve(request: Request, return_id: uuid.UUID, form: CsrfForm, supplier: Supplier, uow: UoW) -> Response:
    return await act(
        request,
        uow,
        service.approve_return(uow, supplier, return_id, restock=bool(form.get("restock"))),
        redirect="/supplier/returns",
        done=N_("Return approved; the buyer is being refunded."),
        messages=ERRORS,
    )


@router.post("/supplier/returns/{return_id}/reject")
async def reject(request: Request, return_id: uuid.UUID, form: CsrfForm, supplier: Supplier, uow: UoW) -> Response:
    _ = gettext(request)
    response = see_other("/supplier/returns")
    note = text(form, "note", 500)
    if not note:
        flash(request, response, _("Say why you reject the return."), "error")
        return response
    return await act(
        request,
        uow,
        service.reject_return(uow, supplier, return_id, note),
        redirect="/supplier/returns",
        done=N_("Return rejected."),
        messages=ERRORS,
    )


@router.post("/admin/settlements")
async def settle(request: Request, form: CsrfForm, _admin: AdminUser, uow: UoW) -> Response:
    settled = await service.settle_due(uow)
    response = see_other("/admin/ledger")
    ngettext = plural(request)
    flash(request, response, ngettext("Settled %(num)s order.", "Settled %(num)s orders.", len(settled)))
    return response
