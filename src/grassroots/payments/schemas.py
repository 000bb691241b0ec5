"""Bodies of the payments API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from grassroots.kernel.schemas import RequestModel


class PaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: uuid.UUID
    provider: str
    status: str
    amount_minor: int
    currency: str
    redirect_url: str
    created_at: datetime
    settled_at: datetime | None


class RefundOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: uuid.UUID
    status: str
    amount_minor: int
    currency: str
    reason: str
    failure_reason: str | None
    created_at: datetime
    completed_at: datetime | None


class WebhookAck(BaseModel):
    status: Literal["processed", "duplicate", "ignored"]


class SandboxActionIn(RequestModel):
    fail_refunds: bool = False


class SandboxChargeOut(BaseModel):
    payment_id: uuid.UUID
    status: str
    return_url: str
