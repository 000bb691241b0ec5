"""Request and response bodies of the catalog API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from grassroots.kernel.schemas import RequestModel


class Strict(RequestModel):
    """Request bodies of this domain."""


class SkuIn(Strict):
    name: str = Field(min_length=1, max_length=100, examples=["250 g tin"])
    price_minor: int = Field(gt=0, le=10**10, strict=True, description="Price in minor units (fen)", examples=[6800])
    currency: str = Field(min_length=3, max_length=3, examples=["CNY"])
    stock: int = Field(ge=0, le=10**7, strict=True, examples=[100])


class ProductIn(Strict):
    title: str = Field(min_length=1, max_length=200, examples=["西湖龙井 Longjing green tea"])
    description: str = Field(default="", max_length=5000)
    category: str = Field(max_length=32, examples=["food"])
    commission_bps: int = Field(
        strict=True,
        description="Open affiliate commission: 100–8000 (1%–80%), or 0 for not in the pool",
        examples=[2000],
    )
    skus: list[SkuIn] = Field(min_length=1, max_length=50)
    status: Literal["active", "draft"] = "active"


class ProductPatch(Strict):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=5000)
    commission_bps: int | None = Field(default=None, strict=True)
    expected_commission_bps: int | None = Field(
        default=None,
        strict=True,
        description="Change the commission only if it still is this (409 commission_changed otherwise): "
        "someone may have changed it since it was read.",
    )
    status: Literal["active", "draft", "archived"] | None = None


class SkuPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    price_minor: int | None = Field(
        default=None,
        gt=0,
        le=10**10,
        strict=True,
        description="New price in minor units; orders already placed keep theirs",
    )
    expected_price_minor: int | None = Field(
        default=None,
        gt=0,
        le=10**10,
        strict=True,
        description="Change only if the price still is this (409 price_changed otherwise): someone may have changed "
        "it since it was read.",
    )


class StockIn(Strict):
    stock: int = Field(ge=0, le=10**7, strict=True)
    expected_stock: int | None = Field(
        default=None,
        ge=0,
        le=10**7,
        strict=True,
        description="Set only if the stock still is this (409 stock_changed otherwise): orders may have taken "
        "some since it was read.",
    )


class SkuOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    price_minor: int
    currency: str
    stock: int


class ProductOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    supplier_id: uuid.UUID
    title: str
    description: str
    category: str
    returnable: bool
    commission_bps: int
    status: str
    sold_units: int
    skus: list[SkuOut]
    created_at: datetime


class CategoryOut(BaseModel):
    code: str
    label: str
    returnable: bool
