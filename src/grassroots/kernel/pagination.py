"""Cursor (keyset) pagination used by every list endpoint.

``?cursor=&limit=`` in, ``{"items": [...], "next_cursor": "..." | null}`` out. The
cursor is an opaque token holding the sort key of the last item returned, so pages
stay stable while rows are inserted (no OFFSET drift) and each page is an index seek.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import BigInteger, Select, SmallInteger, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import TypeDecorator, TypeEngine

from grassroots.kernel.errors import BadRequest
from grassroots.kernel.text import storable

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class PageParams:
    cursor: str | None
    limit: int


async def page_params(  # async: FastAPI would run a plain function in a thread
    cursor: Annotated[str | None, Query(max_length=512, description="Opaque cursor from the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page")] = DEFAULT_LIMIT,
) -> PageParams:
    return PageParams(cursor=cursor or None, limit=limit)


Paging = Annotated[PageParams, Depends(page_params)]


def _encode_value(v: Any) -> Any:
    if isinstance(v, uuid.UUID):
        return {"u": str(v)}
    if isinstance(v, datetime):
        return {"t": v.isoformat()}
    return v


def _decode_value(v: Any) -> Any:
    if isinstance(v, dict) and len(v) == 1:
        if isinstance(v.get("u"), str):
            return uuid.UUID(v["u"])
        if isinstance(v.get("t"), str):
            at = datetime.fromisoformat(v["t"])
            if at.tzinfo is None:
                raise ValueError("naive datetime in cursor")
            try:
                return at.astimezone(UTC)  # must exist in UTC too, or the database refuses it
            except OverflowError:
                raise ValueError("cursor time out of range") from None
        raise ValueError("bad tagged cursor value")
    if isinstance(v, str):
        if not storable(v):  # a cursor's text reaches SQL and shared-state keys
            raise ValueError("cursor text no column can hold")
        return v
    if isinstance(v, int | float) or v is None:
        return v
    raise ValueError("bad cursor value")


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_encode_value(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        if not isinstance(data, list) or len(data) != arity:
            raise ValueError("wrong arity")
        return [_decode_value(v) for v in data]
    except (ValueError, binascii.Error, UnicodeDecodeError, TypeError, AttributeError, RecursionError):
        raise BadRequest("The cursor is not one this list gave out.", code="invalid_cursor") from None


def _fits_column(value: object, column_type: TypeEngine[Any]) -> bool:
    """Whether the database takes ``value`` for a column of this type: a forged cursor may
    hold an integer wider than the column (PostgreSQL refuses it rather than compare)."""
    if not isinstance(value, int):
        return True
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    bits = 16 if isinstance(column_type, SmallInteger) else 64 if isinstance(column_type, BigInteger) else 32
    limit = 1 << (bits - 1)
    return -limit <= value < limit


async def paginate(
    session: AsyncSession,
    stmt: Select[R],
    params: PageParams,
    keys: Sequence[InstrumentedAttribute[Any]],
    *,
    descending: bool = True,
) -> tuple[list[R], str | None]:
    """Run ``stmt`` (a select of one entity) ordered by ``keys`` (the last must be unique)
    from the cursor on; return the rows and the cursor of the next page (None at the end)."""
    if params.cursor:
        after = decode_cursor(params.cursor, len(keys))
        for key, value in zip(keys, after, strict=True):
            column_type = key.property.columns[0].type
            expected = column_type.python_type
            if not isinstance(value, expected) or isinstance(value, bool) or not _fits_column(value, column_type):
                raise BadRequest("The cursor is not one this list gave out.", code="invalid_cursor")
        key_tuple = tuple_(*keys) if len(keys) > 1 else keys[0]
        value_tuple = tuple_(*after) if len(keys) > 1 else after[0]
        stmt = stmt.where(key_tuple < value_tuple if descending else key_tuple > value_tuple)
    order = [k.desc() if descending else k.asc() for k in keys]
    rows = list((await session.scalars(stmt.order_by(*order).limit(params.limit + 1))).all())
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    last = rows[-1]
    return rows, encode_cursor([getattr(last, k.key) for k in keys])
