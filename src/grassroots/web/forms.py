"""Reading form fields in page handlers."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from starlette.datastructures import FormData

from grassroots.kernel.money import minor_exponent


def text(form: FormData, name: str, limit: int = 300, *, strip: bool = True) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return value[:limit].strip() if strip else value[:limit]


def integer(form: FormData, name: str, default: int | None = None) -> int | None:
    raw = text(form, name, 20)
    try:
        return int(raw)
    except ValueError:
        return default


def uuid_field(form: FormData, name: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text(form, name, 40))
    except ValueError:
        return None


def money_to_minor(raw: str, currency: str) -> int | None:
    """``"68.5"`` yuan → 6850 fen; None unless a positive amount with no more decimals
    than the currency has."""
    try:
        value = Decimal(raw.strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    exponent = minor_exponent(currency)
    scaled = value.scaleb(exponent)
    if not value.is_finite() or value <= 0 or scaled != scaled.to_integral_value():
        return None
    return int(scaled)


def percent_to_bps(raw: str) -> int | None:
    """``"12.5"`` % → 1250 basis points."""
    try:
        value = Decimal(raw.strip().rstrip("%"))
    except (InvalidOperation, ValueError):
        return None
    bps = value * 100
    if not value.is_finite() or bps != bps.to_integral_value():
        return None
    return int(bps)
