"""Reading form fields in page handlers."""

from __future__ import annotations

import re
import unicodedata
import uuid
from decimal import Decimal

from starlette.datastructures import FormData

from grassroots.kernel.money import minor_exponent

MAX_AMOUNT = Decimal(10**8)  # a hundred million in major units; larger is a typo
MAX_MINOR = 10**10  # what a price may hold in minor units (catalog.schemas.SkuIn)
# Digits, optionally grouped in thousands by commas ("12,800.50"); "68,50" is refused, not
# read as 6850: a comma there may be a decimal comma.
_AMOUNT = re.compile(r"(?:[0-9]+|[0-9]{1,3}(?:,[0-9]{3})+)(?:\.[0-9]+)?")


def text(form: FormData, name: str, limit: int = 300, *, strip: bool = True) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    # A browser counts a line break as one character and sends it as two ("\r\n"): the
    # limit its maxlength kept must not cut the end off; and nothing can store a NUL.
    value = value.replace("\r\n", "\n")[:limit].replace("\x00", "")
    return value.strip() if strip else value


def _half_width(raw: str) -> str:
    """Full-width digits, point and comma as typed on a Chinese keyboard, as ASCII (only
    those: NFKC would also turn "²" into "2")."""
    return raw.translate(_FULL_WIDTH)


_FULL_WIDTH = {0xFF10 + i: 0x30 + i for i in range(10)} | {0xFF0E: 0x2E, 0xFF0C: 0x2C, 0x3000: 0x20}


def whole_number(raw: str, most: int) -> int | None:
    """``raw`` as a whole number from 0 to ``most``; None for anything else (ASCII digits
    only: "²" and "①" are digits to ``str.isdigit`` but not numbers). A Chinese keyboard's
    full-width "１２" is the same number."""
    raw = _half_width(raw)
    if not re.fullmatch(r"[0-9]{1,12}", raw):
        return None
    value = int(raw)
    return value if value <= most else None


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
    raw = _half_width(raw).strip()
    if not _AMOUNT.fullmatch(raw):
        return None
    try:
        value = Decimal(raw.replace(",", ""))
        if not value.is_finite() or value <= 0 or value > MAX_AMOUNT:
            return None
        scaled = value.scaleb(minor_exponent(currency))
        if scaled != scaled.to_integral_value() or scaled > MAX_MINOR:
            return None
        return int(scaled)
    except (ArithmeticError, ValueError):
        return None


def minor_to_amount(minor: int, currency: str) -> str:
    """6850 fen → ``"68.50"``: a price as a form shows it, for ``money_to_minor`` to read back."""
    places = minor_exponent(currency)
    return f"{Decimal(minor).scaleb(-places):.{places}f}"


def percent_to_bps(raw: str) -> int | None:
    """``"12.5"`` % → 1250 basis points (a Chinese keyboard's "30％" too). Any size a box
    can hold is read (150 % too), so the caller's range check can say what is allowed."""
    try:
        value = Decimal(unicodedata.normalize("NFKC", raw).strip().rstrip("%").strip())
        if not value.is_finite() or abs(value) > 1_000_000:
            return None
        bps = value * 100
        return int(bps) if bps == bps.to_integral_value() else None
    except (ArithmeticError, ValueError):
        return None
