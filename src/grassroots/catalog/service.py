"""Catalog use cases: suppliers list products and SKUs, set stock and the affiliate
commission; everyone browses; orders reserve and release stock atomically."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from grassroots.catalog import repository
from grassroots.catalog.models import CommissionChange, Product, ProductStatus, Sku
from grassroots.catalog.schemas import ProductIn, ProductPatch, SkuIn, SkuPatch
from grassroots.identity import service as identity
from grassroots.kernel.auth import Principal, Role
from grassroots.kernel.errors import Conflict, Forbidden, Invalid, NotFound
from grassroots.kernel.i18n import N_
from grassroots.kernel.ids import new_id
from grassroots.kernel.money import validate_currency
from grassroots.kernel.pagination import PageParams
from grassroots.kernel.text import shows_nothing
from grassroots.kernel.uow import UnitOfWork

if TYPE_CHECKING:
    from sqlalchemy import Select

MIN_COMMISSION_BPS = 100
MAX_COMMISSION_BPS = 8000
MAX_SKUS = 50  # options per product, as at listing


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    label: str  # msgid
    returnable: bool  # False: perishable, custom-made or digital (no 7-day no-reason return)


CATEGORIES: dict[str, Category] = {
    c.code: c
    for c in (
        Category("beauty", N_("Beauty"), True),
        Category("fashion", N_("Fashion"), True),
        Category("home", N_("Home & kitchen"), True),
        Category("electronics", N_("Electronics"), True),
        Category("baby", N_("Mother & baby"), True),
        Category("sports", N_("Sports & outdoors"), True),
        Category("books", N_("Books"), True),
        Category("food", N_("Food & fresh (perishable)"), False),
        Category("custom", N_("Custom-made"), False),
        Category("digital", N_("Digital goods"), False),
    )
}


def returnable(category: str) -> bool:
    c = CATEGORIES.get(category)
    return bool(c and c.returnable)


def commission_allowed(bps: int) -> bool:
    return bps == 0 or MIN_COMMISSION_BPS <= bps <= MAX_COMMISSION_BPS


def _check_commission(bps: int) -> None:
    if not commission_allowed(bps):
        raise Invalid(
            "The commission is 0 (not in the affiliate pool) or 100–8000 basis points (1%–80%).",
            code="invalid_commission",
            fields={"commission_bps": "out of range"},
        )


def _check_category(category: str) -> None:
    if category not in CATEGORIES:
        raise Invalid(
            f"Unknown category; use one of: {', '.join(CATEGORIES)}.",
            code="invalid_category",
            fields={"category": "unknown"},
        )


async def create_product(uow: UnitOfWork, supplier: Principal, data: ProductIn) -> Product:
    if supplier.role != Role.supplier:
        raise Forbidden("Only suppliers list products.", code="forbidden_role")
    title = data.title.strip()
    if shows_nothing(title):
        raise Invalid("The title is empty.", code="validation_error", fields={"title": "empty"})
    _check_category(data.category)
    _check_commission(data.commission_bps)
    currencies = set()
    names = set()
    for i, sku in enumerate(data.skus):
        try:
            currencies.add(validate_currency(sku.currency))
        except ValueError:
            raise Invalid(
                f"Unknown currency {sku.currency!r}.", code="invalid_currency", fields={f"skus.{i}.currency": "unknown"}
            ) from None
        name = sku.name.strip()
        if shows_nothing(name) or name.casefold() in names:
            raise Invalid(
                "Each SKU needs a name of its own.", code="validation_error", fields={f"skus.{i}.name": "duplicate"}
            )
        names.add(name.casefold())
    if len(currencies) > 1:
        raise Invalid("All SKUs of a product share one currency.", code="mixed_currency", fields={"skus": "mixed"})
    now = uow.now()
    product = Product(
        id=new_id(),
        supplier_id=supplier.id,
        title=title,
        description=data.description.strip(),
        category=data.category,
        commission_bps=data.commission_bps,
        status=ProductStatus(data.status),
        sold_units=0,
        created_at=now,
        updated_at=now,
    )
    product.skus = [
        Sku(id=new_id(), name=s.name.strip(), price_minor=s.price_minor, currency=s.currency, stock=s.stock, position=i)
        for i, s in enumerate(data.skus)
    ]
    await repository.add(uow.session, product)
    uow.emit("catalog.product_created", {"product_id": product.id, "supplier_id": supplier.id})
    return product


def _visible(product: Product, viewer: Principal | None) -> bool:
    if product.status == ProductStatus.active:
        return True
    return viewer is not None and (viewer.id == product.supplier_id or viewer.role == Role.admin)


async def get_product(uow: UnitOfWork, product_id: uuid.UUID, viewer: Principal | None) -> Product:
    product = await repository.get(uow.session, product_id)
    if product is None or not _visible(product, viewer):
        raise NotFound("No such product.", code="product_not_found")
    return product


async def owned_product(
    uow: UnitOfWork, supplier: Principal, product_id: uuid.UUID, *, for_update: bool = False
) -> Product:
    product = await repository.get(uow.session, product_id, for_update=for_update)
    if product is None or not _visible(product, supplier):
        raise NotFound("No such product.", code="product_not_found")
    if product.supplier_id != supplier.id:
        raise Forbidden("Only the supplier who listed this product may change it.", code="not_owner")
    return product


async def list_products(
    uow: UnitOfWork,
    params: PageParams,
    viewer: Principal | None,
    *,
    q: str | None = None,
    category: str | None = None,
    supplier_id: uuid.UUID | None = None,
) -> tuple[list[Product], str | None]:
    statuses: Sequence[ProductStatus] = [ProductStatus.active]
    if viewer is not None and supplier_id is not None and (viewer.id == supplier_id or viewer.role == Role.admin):
        statuses = list(ProductStatus)  # owners see their drafts and archive
    return await repository.page(
        uow.session, params, q=(q or "").strip() or None, category=category, supplier_id=supplier_id, statuses=statuses
    )


async def update_product(uow: UnitOfWork, supplier: Principal, product_id: uuid.UUID, patch: ProductPatch) -> Product:
    """Change what the patch names. The row is locked first, so two commission changes at
    once are recorded in the order they happen, each from the rate the other left (the
    30-day protection is measured from these records)."""
    product = await owned_product(uow, supplier, product_id, for_update=True)
    now = uow.now()
    if patch.title is not None:
        title = patch.title.strip()
        if shows_nothing(title):
            raise Invalid("The title is empty.", code="validation_error", fields={"title": "empty"})
        product.title = title
    if patch.description is not None:
        product.description = patch.description.strip()
    if patch.commission_bps is not None and patch.commission_bps != product.commission_bps:
        expected = patch.expected_commission_bps
        if expected is not None and expected != product.commission_bps:
            raise Conflict(
                f"The commission changed to {product.commission_bps} bps since you looked; check it and set it again.",
                code="commission_changed",
                fields={"commission_bps": str(product.commission_bps)},
            )
        _check_commission(patch.commission_bps)
        await repository.record_commission_change(
            uow.session,
            CommissionChange(
                id=new_id(),
                product_id=product.id,
                old_bps=product.commission_bps,
                new_bps=patch.commission_bps,
                changed_at=now,
            ),
        )
        uow.emit(
            "catalog.commission_changed",
            {"product_id": product.id, "old_bps": product.commission_bps, "new_bps": patch.commission_bps},
        )
        product.commission_bps = patch.commission_bps
    if patch.status is not None:
        product.status = ProductStatus(patch.status)
    product.updated_at = now
    await uow.session.flush()
    uow.emit("catalog.product_updated", {"product_id": product.id})
    return product


async def owned_sku(uow: UnitOfWork, supplier: Principal, sku_id: uuid.UUID) -> Sku:
    """The supplier's own SKU (403 for another supplier's product on sale, 404 otherwise)."""
    return (await _owned_sku(uow, supplier, sku_id))[0]


async def _owned_sku(uow: UnitOfWork, supplier: Principal, sku_id: uuid.UUID) -> tuple[Sku, Product]:
    sku = await repository.get_sku(uow.session, sku_id)
    if sku is None:
        raise NotFound("No such SKU.", code="sku_not_found")
    try:
        product = await owned_product(uow, supplier, sku.product_id)
    except NotFound:  # another supplier's draft: as unknown as a SKU that does not exist
        raise NotFound("No such SKU.", code="sku_not_found") from None
    return sku, product


async def set_stock(
    uow: UnitOfWork, supplier: Principal, sku_id: uuid.UUID, stock: int, *, expected: int | None = None
) -> Sku:
    """Set a SKU's stock; with ``expected``, only if it still is that (a form filled in
    before orders took some would otherwise put back what they took): else 409 ``stock_changed``."""
    sku = await owned_sku(uow, supplier, sku_id)
    if not await repository.set_stock(uow.session, sku_id, stock, expected):
        now = await repository.stock_of(uow.session, sku_id)
        raise Conflict(
            f"The stock changed to {now} since you looked; set it again from there.",
            code="stock_changed",
            fields={"stock": str(now)},
        )
    await uow.session.refresh(sku)
    return sku


def _sku_name(raw: str, taken: Sequence[str], field: str) -> str:
    name = raw.strip()
    if shows_nothing(name):
        raise Invalid("Each SKU needs a name.", code="validation_error", fields={field: "empty"})
    if name.casefold() in {t.casefold() for t in taken}:
        raise Invalid("Each SKU needs a name of its own.", code="validation_error", fields={field: "duplicate"})
    return name


async def update_sku(uow: UnitOfWork, supplier: Principal, sku_id: uuid.UUID, patch: SkuPatch) -> Sku:
    """Rename a SKU or change its price. Orders already placed keep the price they were
    placed at; a new price is charged from the next order. With ``expected_price_minor``
    the change is made only over that price (else 409 ``price_changed``)."""
    sku, product = await _owned_sku(uow, supplier, sku_id)
    # The product's SKU rows locked (the product's row after them, as a refund takes them):
    # two renames at once cannot both take one name.
    others = [s.name for s in await repository.lock_skus(uow.session, product.id) if s.id != sku_id]
    values: dict[str, object] = {}
    if patch.name is not None:
        values["name"] = _sku_name(patch.name, others, "name")
    if patch.price_minor is not None:
        values["price_minor"] = patch.price_minor
    if values:
        if not await repository.update_sku(uow.session, sku_id, values, patch.expected_price_minor):
            now = await repository.price_of(uow.session, sku_id)
            raise Conflict(
                f"The price changed to {now} since you looked; check it and set it again.",
                code="price_changed",
                fields={"price_minor": str(now)},
            )
        product.updated_at = uow.now()
        await uow.session.flush()
        uow.emit("catalog.product_updated", {"product_id": product.id})
    await uow.session.refresh(sku)
    return sku


async def add_sku(uow: UnitOfWork, supplier: Principal, product_id: uuid.UUID, data: SkuIn) -> Sku:
    """A new option of a listed product, in the product's currency, after the others."""
    product = await owned_product(uow, supplier, product_id)
    skus = await repository.lock_skus(uow.session, product.id)  # as in update_sku
    if len(skus) >= MAX_SKUS:
        raise Invalid(f"A product has at most {MAX_SKUS} SKUs.", code="too_many_skus", fields={"skus": "full"})
    try:
        currency = validate_currency(data.currency)
    except ValueError:
        raise Invalid(
            f"Unknown currency {data.currency!r}.", code="invalid_currency", fields={"currency": "unknown"}
        ) from None
    if skus and currency != skus[0].currency:
        raise Invalid("All SKUs of a product share one currency.", code="mixed_currency", fields={"currency": "mixed"})
    sku = Sku(
        id=new_id(),
        product_id=product.id,
        name=_sku_name(data.name, [s.name for s in skus], "name"),
        price_minor=data.price_minor,
        currency=currency,
        stock=data.stock,
        position=max((s.position for s in skus), default=-1) + 1,
    )
    await repository.add_sku(uow.session, sku)
    product.updated_at = uow.now()
    await uow.session.flush()
    uow.emit("catalog.product_updated", {"product_id": product.id})
    return sku


# ------------------------------------------------------------------ used by other domains


async def skus_for_order(uow: UnitOfWork, sku_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[Sku, Product]]:
    return await repository.skus_with_products(uow.session, sku_ids)


async def reserve_stock(uow: UnitOfWork, quantities: dict[uuid.UUID, int]) -> None:
    """Take stock for every SKU or for none: on a shortage raise 409 ``out_of_stock`` and the
    unit of work rolls back what was already taken. SKUs are taken in id order so two
    orders over the same SKUs cannot deadlock on PostgreSQL."""
    for sku_id in sorted(quantities):
        if not await repository.reserve(uow.session, sku_id, quantities[sku_id]):
            raise Conflict(
                "Not enough stock for one of the items.", code="out_of_stock", fields={"sku_id": str(sku_id)}
            )


async def release_stock(uow: UnitOfWork, quantities: dict[uuid.UUID, int]) -> None:
    for sku_id in sorted(quantities):
        await repository.release(uow.session, sku_id, quantities[sku_id])


async def record_sales(uow: UnitOfWork, units_by_product: dict[uuid.UUID, int]) -> None:
    for product_id in sorted(units_by_product):
        await repository.add_sold(uow.session, product_id, units_by_product[product_id])


async def commission_changes_since(
    uow: UnitOfWork, product_ids: Sequence[uuid.UUID], since: datetime
) -> list[CommissionChange]:
    return await repository.commission_changes_since(uow.session, product_ids, since)


async def pool(
    uow: UnitOfWork, params: PageParams, *, category: str | None, sort: str
) -> tuple[list[Product], str | None]:
    if category is not None:
        _check_category(category)
    return await repository.pool_page(uow.session, params, category=category, sort=sort)


def on_sale_ids() -> Select[uuid.UUID]:
    """The ids of products on sale, as a subquery other domains can filter by in SQL."""
    return repository.on_sale_ids()


async def sales_page(uow: UnitOfWork, after: uuid.UUID | None, limit: int) -> list[tuple[uuid.UUID, int]]:
    """(id, units sold) of products on sale, by id after ``after``: a light read for ranking."""
    return await repository.sales_after(uow.session, after, limit)


def listed_ids() -> Select[uuid.UUID]:
    """The ids of products that may be shown where others promote them (``listed_products``),
    as a subquery: filtering in SQL keeps every page of a list full."""
    return repository.listed_ids()


async def products_by_id(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Product]:
    return await repository.get_many(uow.session, ids)


async def listed_products(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Product]:
    """The products among ``ids`` that anyone may be shown where others promote them (a
    post's tags, a showcase, a share link): on sale or archived, never a draft, whose
    current title, price and commission are its supplier's business until it goes on sale."""
    found = await repository.get_many(uow.session, ids)
    return {i: p for i, p in found.items() if p.status != ProductStatus.draft}


async def follow_supplier_account(uow: UnitOfWork, supplier_id: uuid.UUID) -> int:
    """Put the supplier's goods where its account now is: off sale (status ``suspended``)
    while it is suspended, back on sale after. It reads the account's state rather than
    trusting which event called it, so events delivered late or out of order (a retried
    suspension after the reinstatement) still leave the goods right. Drafts and archive
    stay as they are."""
    # Locked: a reinstatement committing while this runs would otherwise find nothing yet
    # to put back on sale, and this would then commit the goods off sale for good.
    if await identity.is_suspended(uow, supplier_id, lock=True):
        return await _switch(uow, supplier_id, ProductStatus.active, ProductStatus.suspended)
    return await _switch(uow, supplier_id, ProductStatus.suspended, ProductStatus.active)


async def _switch(uow: UnitOfWork, supplier_id: uuid.UUID, old: ProductStatus, new: ProductStatus) -> int:
    moved = await repository.switch_status(uow.session, supplier_id, old, new, uow.now())
    for product_id in moved:  # the search index follows each, as after an edit
        uow.emit("catalog.product_updated", {"product_id": product_id})
    return len(moved)


async def supplier_counts(uow: UnitOfWork, supplier_id: uuid.UUID) -> dict[ProductStatus, int]:
    return await repository.count_for_supplier(uow.session, supplier_id)
