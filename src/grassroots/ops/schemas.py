"""Bodies of the operations endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from grassroots.kernel.schemas import RequestModel

TEN_YEARS = 10 * 366 * 24 * 3600


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    checks: dict[str, str] = Field(examples=[{"database": "ok", "redis": "not_configured"}])
    version: str


class AdvanceIn(RequestModel):
    advance_seconds: int = Field(
        gt=0, le=TEN_YEARS, strict=True, description="Seconds to move the platform clock forward"
    )


class ClockOut(BaseModel):
    now: datetime
    offset_seconds: float
