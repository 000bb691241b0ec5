"""Catalog API: products and SKUs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from grassroots.catalog import service
from grassroots.catalog.models import Product
from grassroots.catalog.schemas import (
    CategoryOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    SkuIn,
    SkuOut,
    SkuPatch,
    StockIn,
)
from grassroots.kernel.auth import MaybeUser, Principal, Role, open_access, require
from grassroots.kernel.deps import UoW
from grassroots.kernel.pagination import Page, Paging
from grassroots.kernel.schemas import BlankUUID

router = APIRouter(prefix="/api/v1", tags=["catalog"])

SupplierUser = Annotated[Principal, Depends(require(Role.supplier))]


def product_out(product: Product) -> ProductOut:
    return ProductOut(
        id=product.id,
        supplier_id=product.supplier_id,
        title=product.title,
        description=product.description,
        category=product.category,
        returnable=service.returnable(product.category),
        commission_bps=product.commission_bps,
        status=product.status.value,
        sold_units=product.sold_units,
        skus=[SkuOut.model_validate(s) for s in product.skus],
        created_at=product.created_at,
    )


@router.get("/categories", response_model=list[CategoryOut], dependencies=[Depends(open_access)])
async def categories() -> list[CategoryOut]:
    return [CategoryOut(code=c.code, label=c.label, returnable=c.returnable) for c in service.CATEGORIES.values()]


@router.post("/products", status_code=201, response_model=ProductOut)
async def create_product(body: ProductIn, supplier: SupplierUser, uow: UoW) -> ProductOut:
    return product_out(await service.create_product(uow, supplier, body))


@router.get("/products", response_model=Page[ProductOut])
async def list_products(
    viewer: MaybeUser,
    uow: UoW,
    paging: Paging,
    q: Annotated[str | None, Query(max_length=100)] = None,
    category: Annotated[str | None, Query(max_length=32)] = None,
    supplier_id: BlankUUID = None,
) -> Page[ProductOut]:
    """Active products; a supplier asking for its own (``supplier_id``) also sees drafts and archived ones."""
    items, next_cursor = await service.list_products(
        uow, paging, viewer, q=q, category=category, supplier_id=supplier_id
    )
    return Page(items=[product_out(p) for p in items], next_cursor=next_cursor)


@router.get("/products/{product_id}", response_model=ProductOut)
async def get_product(product_id: uuid.UUID, viewer: MaybeUser, uow: UoW) -> ProductOut:
    return product_out(await service.get_product(uow, product_id, viewer))


@router.patch("/products/{product_id}", response_model=ProductOut)
async def update_product(product_id: uuid.UUID, body: ProductPatch, supplier: SupplierUser, uow: UoW) -> ProductOut:
    return product_out(await service.update_product(uow, supplier, product_id, body))


@router.patch("/skus/{sku_id}", response_model=SkuOut)
async def update_sku(sku_id: uuid.UUID, body: SkuPatch, supplier: SupplierUser, uow: UoW) -> SkuOut:
    """Rename a SKU or change its price (orders already placed keep theirs)."""
    return SkuOut.model_validate(await service.update_sku(uow, supplier, sku_id, body))


@router.post("/products/{product_id}/skus", status_code=201, response_model=SkuOut)
async def add_sku(product_id: uuid.UUID, body: SkuIn, supplier: SupplierUser, uow: UoW) -> SkuOut:
    """Add an option to a listed product, in its currency."""
    return SkuOut.model_validate(await service.add_sku(uow, supplier, product_id, body))


@router.put("/skus/{sku_id}/stock", response_model=SkuOut)
async def set_stock(sku_id: uuid.UUID, body: StockIn, supplier: SupplierUser, uow: UoW) -> SkuOut:
    return SkuOut.model_validate(
        await service.set_stock(uow, supplier, sku_id, body.stock, expected=body.expected_stock)
    )
