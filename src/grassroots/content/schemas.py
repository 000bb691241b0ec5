"""Bodies of the content API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from grassroots.kernel.schemas import RequestModel


class PostIn(RequestModel):
    kind: Literal["note", "video"]
    title: str = Field(min_length=1, max_length=100, examples=["三款龙井盲测 Three Longjing teas, tasted blind"])
    body: str = Field(default="", max_length=5000)
    media_ids: list[uuid.UUID] = Field(default_factory=list, max_length=9)
    product_ids: list[uuid.UUID] = Field(default_factory=list, max_length=20)
    hashtags: list[str] = Field(default_factory=list, max_length=20)


class MediaOut(BaseModel):
    id: uuid.UUID
    url: str
    kind: Literal["image", "video"]
    content_type: str
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None
    thumb_url: str | None = None


class TaggedProductOut(BaseModel):
    id: uuid.UUID
    title: str
    category: str
    price_minor: int = Field(description="Lowest SKU price")
    currency: str
    in_stock: bool
    on_sale: bool
    commission_bps: int


class CountersOut(BaseModel):
    likes: int
    favorites: int
    comments: int
    shares: int
    views: int
    orders: int


class PostOut(BaseModel):
    id: uuid.UUID
    author_id: uuid.UUID
    author_handle: str
    kind: Literal["note", "video"]
    title: str
    body: str
    media: list[MediaOut]
    products: list[TaggedProductOut]
    hashtags: list[str]
    cover_url: str | None
    sponsored: bool
    created_at: datetime
    counters: CountersOut
