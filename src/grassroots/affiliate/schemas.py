"""Bodies of the affiliate API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from grassroots.catalog.schemas import ProductOut


class ShowcaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: uuid.UUID


class PoolItemOut(ProductOut):
    in_showcase: bool


class ShowcaseEntryOut(BaseModel):
    product: ProductOut
    added_at: datetime
