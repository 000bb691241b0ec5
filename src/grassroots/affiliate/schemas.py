"""Bodies of the affiliate API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from grassroots.catalog.schemas import ProductOut
from grassroots.kernel.schemas import RequestModel


class ShowcaseIn(RequestModel):
    product_id: uuid.UUID


class PoolItemOut(ProductOut):
    in_showcase: bool


class ShowcaseEntryOut(BaseModel):
    product: ProductOut
    added_at: datetime


class ShareLinkIn(RequestModel):
    product_id: uuid.UUID
    post_id: uuid.UUID | None = None


class ShareLinkOut(BaseModel):
    id: uuid.UUID
    token: str
    url: str = Field(description="Path of the link on this platform; prefix it with the site's address to share")
    product_id: uuid.UUID
    post_id: uuid.UUID | None
    clicks: int = Field(description="Distinct visitors per day who opened the link")
    created_at: datetime


class PromotionOut(BaseModel):
    currency: str | None = Field(description="Amounts are in this currency (null when there are no orders yet)")
    orders: int = Field(description="Paid orders with goods you promoted")
    gmv_minor: int = Field(description="Value of the goods you promoted in those orders (refunded ones excluded)")
    commission_minor: int = Field(description="Your part of the commission on these orders (refunded ones earn 0)")
    settled_minor: int
    refunded: int


class PostAttributionOut(PromotionOut):
    post_id: uuid.UUID
    title: str
    deleted: bool = Field(description="The post has been deleted: what it brought stays counted, its page is gone")
    clicks: int


class LinkAttributionOut(PromotionOut):
    link: ShareLinkOut


class AttributionOut(BaseModel):
    totals: list[PromotionOut] = Field(description="One entry per currency")
    by_post: list[PostAttributionOut]
    by_link: list[LinkAttributionOut]
