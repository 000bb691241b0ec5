"""Bodies of the affiliate API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel

from grassroots.catalog.schemas import ProductOut
from grassroots.kernel.schemas import RequestModel


class ShowcaseIn(RequestModel):
    product_id: uuid.UUID


class PoolItemOut(ProductOut):
    in_showcase: bool


class ShowcaseEntryOut(BaseModel):
    product: ProductOut
    added_at: datetime
