"""Request and response bodies of the identity API."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from grassroots.kernel.auth import Role
from grassroots.kernel.schemas import RequestModel


class Strict(RequestModel):
    """Request bodies of this domain."""


class SignupIn(Strict):
    email: str = Field(max_length=254, examples=["mei@example.com"])
    password: str = Field(max_length=256, examples=["correct horse battery"])
    handle: str = Field(max_length=64, examples=["mei_daily"])
    role: Role = Field(examples=["consumer"])


class TokenIn(Strict):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105
    expires_in: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    handle: str
    role: Role


class MeOut(UserOut):
    created_at: datetime


class AdminUserOut(MeOut):
    disabled: bool = False  # suspended by an operator
    disabled_at: datetime | None = None
    disabled_reason: str | None = None
    disabled_by: uuid.UUID | None = None


class SuspendIn(Strict):
    reason: str = Field(max_length=2000, examples=["Counterfeit goods reported by buyers; under review."])
