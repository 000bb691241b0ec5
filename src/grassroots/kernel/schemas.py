"""The base of every request body."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, StringConstraints, model_validator

# A required line of text: the spaces around it are dropped before its length is checked,
# so one of only spaces is refused rather than stored empty.
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class RequestModel(BaseModel):
    """Unknown fields are refused, and so is any text with a NUL character (PostgreSQL
    cannot store one; a 422 beats a 500)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _has_nul(data):
            raise ValueError("text must not contain NUL characters")
        return data
