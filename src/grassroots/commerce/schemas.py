"""Request and response bodies of the commerce API."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

from grassroots.kernel.schemas import Line, RequestModel


class Strict(RequestModel):
    """Request bodies of this domain."""


MAX_QUANTITY = 999  # of one SKU in one order, however many lines name it


class ItemIn(Strict):
    sku_id: uuid.UUID
    quantity: int = Field(ge=1, le=MAX_QUANTITY, strict=True)


class AddressIn(Strict):
    name: str = Field(min_length=1, max_length=60, examples=["林美"])
    phone: str = Field(min_length=5, max_length=30, pattern=r"^[0-9+\-() ]+$", examples=["+86 138 0000 0000"])
    line1: str = Field(min_length=1, max_length=200, examples=["西湖区文三路 90 号"])
    line2: str | None = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=60, examples=["杭州"])
    postal_code: str | None = Field(default=None, max_length=20)
    country: str = Field(min_length=2, max_length=56, examples=["CN"])

    @field_validator("phone", mode="before")
    @classmethod
    def _ascii_phone(cls, value: object) -> object:
        # A Chinese keyboard in full-width mode types "１３８ ００００": the same number.
        return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else value

    @field_validator("phone")
    @classmethod
    def _has_digits(cls, value: str) -> str:
        if sum(ch.isdigit() for ch in value) < 5:  # "-----" or "(+)" is no number to call
            raise ValueError("a phone number has at least 5 digits")
        return value


SceneName = Literal["feed", "note", "video", "live", "search", "showcase", "share", "direct"]


class SourceIn(Strict):
    """Where the buyer was when they decided: the buy button passes it. A named promoter
    (share link, post, showcase) earns the commission; with none, the buyer's last
    share-link click within the click window does."""

    post_id: uuid.UUID | None = Field(default=None, description="The note or video the buyer bought from")
    share_token: str | None = Field(default=None, min_length=1, max_length=64, description="A share link's token")
    live_room_id: uuid.UUID | None = None
    creator_id: uuid.UUID | None = Field(default=None, description="The creator whose showcase the buyer bought from")
    scene: SceneName | None = Field(
        default=None, description="Where the buy happened; derived from the rest if omitted"
    )


class OrderIn(Strict):
    items: list[ItemIn] = Field(min_length=1, max_length=50)
    shipping_address: AddressIn
    source: SourceIn = Field(default_factory=SourceIn)
    expected_total_minor: int | None = Field(
        default=None,
        gt=0,
        strict=True,
        description="Place the order only if its total is this (409 price_changed otherwise, with the total now in "
        "fields.total_minor): a supplier may have changed a price since the shopper saw it.",
    )


class OrderItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sku_id: uuid.UUID
    product_id: uuid.UUID
    title: str
    sku_name: str
    category: str
    unit_price_minor: int
    quantity: int
    line_total_minor: int
    commission_bps: int
    returnable: bool


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    status: str
    buyer_id: uuid.UUID
    supplier_id: uuid.UUID
    items: list[OrderItemOut]
    goods_minor: int
    total_minor: int
    currency: str
    promoter_id: uuid.UUID | None
    scene: str
    post_id: uuid.UUID | None
    share_link_id: uuid.UUID | None
    attributed_by: str = Field(
        description="source (the buy button named the promoter), click (a share link clicked within the window) or none"
    )
    source: dict[str, Any]
    shipping_address: dict[str, Any] | None = Field(
        description="Where to deliver; null to the supplier until the order is paid"
    )
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    carrier: str | None
    tracking_number: str | None
    received_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    refunded_at: datetime | None


class PayIn(Strict):
    provider: str = Field(default="sandbox", max_length=32)


class PayOut(BaseModel):
    payment_id: uuid.UUID
    redirect_url: str
    status: str


class ShipIn(Strict):
    carrier: Line = Field(max_length=50, examples=["SF Express"])
    tracking_number: Line = Field(max_length=64, examples=["SF1234567890"])


class ReturnIn(Strict):
    # A no-reason return (Consumer Protection Law art. 25): the buyer may give one, or none.
    reason: str = Field(default="", max_length=500, description="Optional; empty for a no-reason return")


class ApproveIn(Strict):
    restock: bool = True


class RejectIn(Strict):
    note: Line = Field(max_length=500)


class ReturnOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: uuid.UUID
    status: str
    reason: str
    restock: bool | None
    decision_note: str | None
    created_at: datetime
    decided_at: datetime | None


class RefundIn(Strict):
    reason: Line = Field(max_length=200)


class CancelRefundIn(Strict):
    reason: str = Field(default="", max_length=200, description="Optional: why the buyer takes the order back")


class ReviewIn(Strict):
    rating: int = Field(ge=1, le=5, strict=True)
    body: str = Field(default="", max_length=2000)


class ReviewOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: uuid.UUID
    rating: int
    body: str
    created_at: datetime
    verified_purchase: bool = True


class ReviewSummary(BaseModel):
    count: int
    average: float | None
    distribution: dict[str, int] = Field(examples=[{"1": 0, "2": 0, "3": 1, "4": 3, "5": 9}])


class ReviewsOut(BaseModel):
    summary: ReviewSummary
    items: list[ReviewOut]
    next_cursor: str | None = None


class SettleIn(Strict):
    pass


class SettlementOut(BaseModel):
    settled: int
    order_ids: list[uuid.UUID]


SOURCE_PARAMS = {"creator": "creator_id", "post": "post_id", "share": "share_token", "scene": "scene"}
_SCENES: set[str] = set(get_args(SceneName))


def source_params(raw: Mapping[str, Any]) -> dict[str, str]:
    """The buy button's source as short query/form fields (``creator``, ``post``, ``share``,
    ``scene``), keeping only well-formed values: pages pass it from product page to
    checkout to the order."""
    out: dict[str, str] = {}
    for name in SOURCE_PARAMS:
        value = raw.get(name)
        if not isinstance(value, str) or not value or len(value) > 64:
            continue
        if name in ("creator", "post"):
            try:
                value = str(uuid.UUID(value))
            except ValueError:
                continue
        elif (name == "scene" and value not in _SCENES) or (
            name == "share" and not value.replace("-", "").replace("_", "").isalnum()
        ):
            continue
        out[name] = value
    return out


def source_in(params: Mapping[str, str]) -> SourceIn:
    return SourceIn(**{SOURCE_PARAMS[k]: v for k, v in params.items() if k in SOURCE_PARAMS})
