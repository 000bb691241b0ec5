"""Bodies of the MCN API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from grassroots.kernel.schemas import RequestModel


class ContractIn(RequestModel):
    creator_id: uuid.UUID
    share_bps: int = Field(
        strict=True, description="The MCN's share of the creator's commission, in basis points", examples=[3000]
    )


class ContractOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    mcn_id: uuid.UUID
    creator_id: uuid.UUID
    share_bps: int
    status: str
    created_at: datetime
    accepted_at: datetime | None
    ended_at: datetime | None
