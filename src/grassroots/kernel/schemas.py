"""The base of every request body."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, model_validator

# A required line of text: the spaces around it are dropped before its length is checked,
# so one of only spaces is refused rather than stored empty.
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


def _blank_is_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


# A filter in a query string: ``?supplier_id=`` (a form or a URL template left blank) is no filter.
BlankUUID = Annotated[uuid.UUID | None, BeforeValidator(_blank_is_none)]


def _bad_text(value: Any) -> bool:
    """A NUL anywhere, or a lone surrogate (``"\\ud800"`` in JSON) that is no character and
    cannot be stored or echoed back as UTF-8."""
    # A walk with a stack of its own, not recursion: a body nested hundreds deep must be
    # answered with a 4xx, not overflow Python's stack.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item or (not item.isascii() and not _utf8(item)):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


class RequestModel(BaseModel):
    """Unknown fields are refused, and so is any text with a NUL character (PostgreSQL
    cannot store one; a 422 beats a 500) or a lone surrogate, in any field or list."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if _bad_text(data):
            raise ValueError("text must not contain NUL characters or lone surrogates")
        return data
