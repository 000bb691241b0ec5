"""Bodies of the flow API: feed pages, behaviour events and search results."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

from grassroots.catalog.schemas import ProductOut
from grassroots.content.schemas import PostOut, TaggedProductOut
from grassroots.kernel.schemas import RequestModel
from grassroots.social.schemas import PersonOut


class FeedItemOut(BaseModel):
    post: PostOut
    products: list[TaggedProductOut] = Field(description="The products the post tags, with live price and stock")


class FeedPage(BaseModel):
    items: list[FeedItemOut]
    next_cursor: str | None = None


class EventItemIn(RequestModel):
    type: Literal["impression", "view", "click"]
    post_id: uuid.UUID
    ms: int | None = Field(default=None, ge=0, le=24 * 3600 * 1000, description="Dwell time in milliseconds")


class EventsIn(RequestModel):
    events: list[EventItemIn] = Field(max_length=100)


class EventsOut(BaseModel):
    accepted: int = Field(description="Events kept (those about posts that exist)")


class SearchPage(BaseModel):
    type: Literal["products", "posts", "users"]
    items: list[ProductOut] | list[PostOut] | list[PersonOut]
    next_cursor: str | None = None
