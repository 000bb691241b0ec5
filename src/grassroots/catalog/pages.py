"""Catalog pages: browsing products, the product page, and the supplier's product console."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from grassroots.catalog import service
from grassroots.catalog.schemas import ProductIn, ProductPatch, SkuIn, SkuPatch
from grassroots.kernel.auth import MaybeUser, Principal, Role, require
from grassroots.kernel.deps import UoW
from grassroots.kernel.errors import DomainError
from grassroots.kernel.i18n import N_
from grassroots.kernel.pagination import PageParams, Paging
from grassroots.web import nav
from grassroots.web.actions import see_other
from grassroots.web.forms import money_to_minor, percent_to_bps, text, whole_number
from grassroots.web.session import CsrfForm, flash
from grassroots.web.templating import bps_percent, gettext, money_text, register_global, render

router = APIRouter(include_in_schema=False)

nav.register("/products", N_("Shop"), (Role.consumer,), order=5)
nav.register("/supplier/products", N_("Products"), (Role.supplier,), order=10)

register_global("categories", service.CATEGORIES)
SupplierPage = Annotated[Principal, Depends(require(Role.supplier))]
REVIEWS_PER_PAGE = 10


@router.get("/products")
async def browse(
    request: Request,
    viewer: MaybeUser,
    uow: UoW,
    paging: Paging,
    q: Annotated[str | None, Query(max_length=100)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    products, next_cursor = await service.list_products(
        uow, paging, viewer, q=q, category=category if category in service.CATEGORIES else None
    )
    base = "/products?" + urlencode([(k, v) for k, v in (("q", q), ("category", category)) if v])
    return render(
        request,
        "catalog/browse.html",
        {
            "products": products,
            "next_cursor": next_cursor,
            "q": q or "",
            "category": category or "",
            "base": base,
        },
    )


@router.get("/products/{product_id}")
async def product_page(
    request: Request,
    product_id: uuid.UUID,
    viewer: MaybeUser,
    uow: UoW,
    reviews_cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> Response:
    from grassroots.commerce import service as commerce  # reviews live with orders
    from grassroots.commerce.schemas import source_params  # the buy button carries its source

    product = await service.get_product(uow, product_id, viewer)
    page = PageParams(reviews_cursor or None, REVIEWS_PER_PAGE)
    reviews, next_reviews, summary = await commerce.product_reviews(uow, product_id, page, viewer)
    source = source_params(request.query_params)
    # The next reviews keep the buy button's source, so paging does not lose the attribution.
    more_reviews = (
        f"/products/{product_id}?" + urlencode({**source, "reviews_cursor": next_reviews}) + "#reviews"
        if next_reviews
        else None
    )
    return render(
        request,
        "catalog/product.html",
        {
            "product": product,
            "reviews": reviews,
            "summary": summary,
            "more_reviews": more_reviews,
            "source": source,
            "returnable": service.returnable(product.category),
        },
    )


# ------------------------------------------------------------------ supplier console


@router.get("/supplier/products")
async def my_products(request: Request, supplier: SupplierPage, uow: UoW, paging: Paging) -> Response:
    products, next_cursor = await service.list_products(uow, paging, supplier, supplier_id=supplier.id)
    return render(request, "catalog/supplier_products.html", {"products": products, "next_cursor": next_cursor})


def _form_values(form: Any) -> dict[str, Any]:
    skus = []
    for i in range(5):
        skus.append({k: text(form, f"sku{i}_{k}", 100) for k in ("name", "price", "stock")})
    return {
        "title": text(form, "title", 200),
        "description": text(form, "description", 5000),
        "category": text(form, "category", 32),
        "commission": text(form, "commission", 10),
        "currency": text(form, "currency", 3).upper() or "CNY",
        "status": text(form, "status", 10) or "active",
        "skus": skus,
    }


@router.get("/supplier/products/new")
async def new_product(request: Request, supplier: SupplierPage) -> Response:
    values = {
        "commission": "10",
        "currency": "CNY",
        "status": "active",
        "category": "home",
        "skus": [{"name": "", "price": "", "stock": ""} for _ in range(5)],
    }
    return render(request, "catalog/product_form.html", {"values": values, "errors": {}})


@router.post("/supplier/products/new")
async def create_product(request: Request, form: CsrfForm, supplier: SupplierPage, uow: UoW) -> Response:
    _ = gettext(request)
    values = _form_values(form)
    errors: dict[str, str] = {}
    skus: list[SkuIn] = []
    for i, row in enumerate(values["skus"]):
        if not (row["name"] or row["price"] or row["stock"]):
            continue
        price = money_to_minor(row["price"], values["currency"]) if len(values["currency"]) == 3 else None
        stock = whole_number(row["stock"], 10**7)
        if not row["name"] or price is None or stock is None:
            errors[f"sku{i}"] = _("Each SKU needs a name, a price above zero and a whole-number stock.")
            continue
        skus.append(SkuIn(name=row["name"], price_minor=price, currency=values["currency"], stock=stock))
    if not skus and not errors:
        errors["sku0"] = _("Add at least one SKU.")
    bps = percent_to_bps(values["commission"])
    if bps is None:
        errors["commission"] = _("Enter the commission as a percentage, like 12.5.")
    elif not service.commission_allowed(bps):  # said now, with the other mistakes, not on the next try
        errors["commission"] = _("The commission is 0 (not in the affiliate pool) or between 1% and 80%.")
    if not values["title"]:
        errors["title"] = _("Give the product a title.")
    if not errors:
        try:
            async with uow.attempt():
                product = await service.create_product(
                    uow,
                    supplier,
                    ProductIn(
                        title=values["title"],
                        description=values["description"],
                        category=values["category"],
                        commission_bps=bps or 0,
                        skus=skus,
                        status="draft" if values["status"] == "draft" else "active",
                    ),
                )
        except DomainError as exc:
            errors[_field_of(exc)] = _error_text(request, exc)
        else:
            response = see_other(f"/supplier/products/{product.id}")
            flash(
                request, response, _("Saved as a draft.") if product.status.value == "draft" else _("Product listed.")
            )
            return response
    return render(request, "catalog/product_form.html", {"values": values, "errors": errors}, status=422)


def _field_of(exc: DomainError) -> str:
    return {
        "invalid_commission": "commission",
        "commission_changed": "commission",
        "invalid_category": "category",
        "invalid_currency": "currency",
        "mixed_currency": "currency",
    }.get(exc.code, "form")


def _error_text(request: Request, exc: DomainError) -> str:
    _ = gettext(request)
    texts: dict[str, str] = {
        "invalid_commission": _("The commission is 0 (not in the affiliate pool) or between 1% and 80%."),
        "invalid_category": _("Choose a category."),
        "invalid_currency": _("Unknown currency."),
    }
    if exc.code == "commission_changed":
        now = bps_percent(int((exc.fields or {}).get("commission_bps", "0")))
        return str(
            _("The commission was changed to %(now)s since this page was opened. Check it and save again.", now=now)
        )
    if exc.code == "validation_error" and any(k.endswith(".name") for k in (exc.fields or {})):
        return str(_("Each SKU needs a name of its own."))
    return texts.get(exc.code, exc.message)


def _sku_row_error(request: Request, price: str) -> str:
    _ = gettext(request)
    if re.fullmatch(r"[0-9]+,[0-9]{1,2}", price.strip()):  # "68,50": a decimal comma, never read as 6850
        return str(_("Write the price with a point, like 68.50."))
    return str(_("Each SKU needs a name, a price above zero and a whole-number stock."))


def _sku_name_error(request: Request, exc: DomainError) -> str:
    _ = gettext(request)
    if "empty" in (exc.fields or {}).values():  # spaces or invisible characters alone
        return str(_("Each SKU needs a name, a price above zero and a whole-number stock."))
    return str(_("Each SKU needs a name of its own."))


PRODUCT_STATUSES = ("active", "draft", "archived")


@router.get("/supplier/products/{product_id}")
async def edit_product(request: Request, product_id: uuid.UUID, supplier: SupplierPage, uow: UoW) -> Response:
    product = await service.owned_product(uow, supplier, product_id)
    return render(request, "catalog/product_edit.html", {"product": product, "errors": {}})


@router.post("/supplier/products/{product_id}")
async def update_product(
    request: Request, product_id: uuid.UUID, form: CsrfForm, supplier: SupplierPage, uow: UoW
) -> Response:
    _ = gettext(request)
    bps = percent_to_bps(text(form, "commission", 10))
    status = text(form, "status", 10)
    # A status left as the page showed it is no change: saving an old tab must not put a
    # product withdrawn since then back on sale.
    changed = status if status in PRODUCT_STATUSES and status != text(form, "status_shown", 10) else None
    # Likewise the commission: as shown is no change, and a new rate is set only over the
    # one the page showed (else 409 commission_changed, said next to the box).
    bps_shown = whole_number(text(form, "commission_shown", 10), 10_000)
    errors: dict[str, str] = {}
    stale = False
    if "title" in form and not text(form, "title", 200):  # emptied: refused, as on the new-product form
        errors["title"] = _("Give the product a title.")
    if bps is None:
        errors["commission"] = _("Enter the commission as a percentage, like 12.5.")
    elif not errors:
        try:
            async with uow.attempt():
                await service.update_product(
                    uow,
                    supplier,
                    product_id,
                    ProductPatch(
                        title=text(form, "title", 200) or None,
                        # an emptied box clears it; a form without the field leaves it be
                        description=text(form, "description", 5000) if "description" in form else None,
                        commission_bps=None if bps == bps_shown else bps,
                        expected_commission_bps=bps_shown,
                        status=changed,
                    ),
                )
        except DomainError as exc:
            errors[_field_of(exc)] = _error_text(request, exc)
            stale = exc.code == "commission_changed"
    if errors:
        product = await service.owned_product(uow, supplier, product_id)
        typed = {k: text(form, k, limit) for k, limit in (("title", 200), ("description", 5000), ("commission", 10))}
        shown = {"status_shown": text(form, "status_shown", 10), "commission_shown": text(form, "commission_shown", 10)}
        if stale:  # told of the new rate now: saving again sets the one typed
            shown["commission_shown"] = str(product.commission_bps)
        context = {"product": product, "errors": errors, "typed": {**typed, "status": status, **shown}}
        return render(request, "catalog/product_edit.html", context, status=422)
    response = see_other(f"/supplier/products/{product_id}")
    flash(request, response, _("Saved."))
    return response


@router.post("/supplier/skus/{sku_id}")
async def update_sku(request: Request, sku_id: uuid.UUID, form: CsrfForm, supplier: SupplierPage, uow: UoW) -> Response:
    """A SKU's row on the product's page: its name, price and stock at once. A box left as
    the page showed it is no change; a change is made only over what the page showed."""
    _ = gettext(request)
    sku = await service.owned_sku(uow, supplier, sku_id)
    response = see_other(f"/supplier/products/{sku.product_id}#sku-{sku_id}")
    name = text(form, "name", 100)
    price = money_to_minor(text(form, "price", 20), sku.currency)
    stock = whole_number(text(form, "stock", 10), 10**7)

    async def refused(message: str) -> Response:
        """The page again, this row as typed (and as it was shown), saying why."""
        typed = {k: text(form, k, 100) for k in ("name", "price", "stock", "name_shown", "price_shown", "stock_shown")}
        product = await service.owned_product(uow, supplier, sku.product_id)
        context = {"product": product, "errors": {}, "sku_typed": {**typed, "id": str(sku_id), "error": message}}
        return render(request, "catalog/product_edit.html", context, status=422)

    if not name or price is None or stock is None:
        return await refused(_sku_row_error(request, text(form, "price", 20)))
    price_shown = whole_number(text(form, "price_shown", 12), 10**10)
    stock_shown = whole_number(text(form, "stock_shown", 10), 10**7)
    new_price = None if price == price_shown else price
    patch = SkuPatch(
        name=None if name == text(form, "name_shown", 100) else name,
        price_minor=new_price,
        # over the price the page showed; a rename alone does not care what the price is now
        expected_price_minor=(price_shown or None) if new_price is not None else None,
    )
    try:
        async with uow.attempt():
            if patch.name is not None or patch.price_minor is not None:
                await service.update_sku(uow, supplier, sku_id, patch)
            if stock != stock_shown:
                await service.set_stock(uow, supplier, sku_id, stock, expected=stock_shown)
    except DomainError as exc:
        now = (exc.fields or {}).get("price_minor" if exc.code == "price_changed" else "stock", "")
        if exc.code == "price_changed":
            shown = money_text(request, int(now or 0), sku.currency)
            message = _(
                "The price of %(sku)s was changed to %(now)s since this page was opened. Check it and save again."
            )
            flash(request, response, message % {"sku": sku.name, "now": shown}, "error")
        elif exc.code == "stock_changed":
            message = _(
                "The stock of %(sku)s changed to %(now)s since this page was opened (orders, or another page). "
                "Nothing was saved: set it again."
            )
            flash(request, response, message % {"sku": sku.name, "now": now}, "error")
        elif exc.code == "validation_error":
            return await refused(_sku_name_error(request, exc))
        else:
            raise
        return response
    flash(request, response, _("Saved."))
    return response


@router.post("/supplier/products/{product_id}/skus")
async def add_sku(
    request: Request, product_id: uuid.UUID, form: CsrfForm, supplier: SupplierPage, uow: UoW
) -> Response:
    _ = gettext(request)
    product = await service.owned_product(uow, supplier, product_id)
    currency = product.skus[0].currency if product.skus else uow.settings.default_currency
    typed = {k: text(form, k, limit) for k, limit in (("name", 100), ("price", 20), ("stock", 10))}
    price = money_to_minor(typed["price"], currency)
    stock = whole_number(typed["stock"], 10**7)
    error = None
    if not typed["name"] or price is None or stock is None:
        error = _sku_row_error(request, typed["price"])
    else:
        try:
            async with uow.attempt():
                await service.add_sku(
                    uow,
                    supplier,
                    product_id,
                    SkuIn(name=typed["name"], price_minor=price, currency=currency, stock=stock),
                )
        except DomainError as exc:
            texts = {
                "validation_error": _sku_name_error(request, exc),
                "too_many_skus": _("A product has at most %(n)s options.", n=service.MAX_SKUS),
            }
            if exc.code not in texts:
                raise
            error = texts[exc.code]
    if error is not None:
        product = await service.owned_product(uow, supplier, product_id)
        context = {"product": product, "errors": {"new_sku": error}, "new_sku": typed}
        return render(request, "catalog/product_edit.html", context, status=422)
    response = see_other(f"/supplier/products/{product_id}#skus")
    flash(request, response, _("Option added."))
    return response
