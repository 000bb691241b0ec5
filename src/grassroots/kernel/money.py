"""Money as integer minor units plus an ISO 4217 currency.

Arithmetic refuses to mix currencies. ``split`` divides an amount by integer weights
with deterministic largest-remainder rounding, so the parts always sum exactly to the
amount: no cent is created or lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from babel.core import get_global
from babel.numbers import format_currency, get_currency_precision, get_territory_currencies

BPS = 10_000  # basis points in one whole


class CurrencyMismatch(ValueError):
    """Two amounts in different currencies met in one operation."""


@cache
def _known_currencies() -> frozenset[str]:
    """Currencies some territory takes as legal tender today: not withdrawn ones (DEM, VEF),
    precious metals (XAU) or ISO's test and "no currency" codes (XTS, XXX)."""
    today = date.today()
    return frozenset(
        str(code)
        for territory in get_global("territory_currencies")
        for code in get_territory_currencies(territory, today, tender=True)
    )


def validate_currency(code: str) -> str:
    if not isinstance(code, str) or len(code) != 3 or not code.isascii() or not code.isupper():
        raise ValueError(f"currency must be a 3-letter upper-case ISO 4217 code, got {code!r}")
    if code not in _known_currencies():
        raise ValueError(f"unknown currency {code!r}")
    return code


def minor_exponent(currency: str) -> int:
    """Digits after the decimal point for the currency (CNY 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(currency))


@dataclass(frozen=True, slots=True, order=False)
class Money:
    amount: int  # minor units (fen, cents)
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise TypeError(f"Money amount must be an int of minor units, got {type(self.amount).__name__}")
        validate_currency(self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def _same(self, other: Any) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"expected Money, got {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(f"{self.currency} vs {other.currency}")
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.amount + self._same(other).amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.amount - self._same(other).amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by an int (use split or bps for rates)")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.amount < self._same(other).amount

    def __le__(self, other: Money) -> bool:
        return self.amount <= self._same(other).amount

    def __gt__(self, other: Money) -> bool:
        return self.amount > self._same(other).amount

    def __ge__(self, other: Money) -> bool:
        return self.amount >= self._same(other).amount

    def __bool__(self) -> bool:
        return self.amount != 0

    def split(self, weights: Sequence[int]) -> list[Money]:
        return split(self, weights)

    def to_decimal(self) -> Decimal:
        return Decimal(self.amount).scaleb(-minor_exponent(self.currency))

    def format(self, locale: str = "en") -> str:
        return str(format_currency(self.to_decimal(), self.currency, locale=locale))

    def __str__(self) -> str:
        return f"{self.to_decimal()} {self.currency}"


def split(money: Money, weights: Sequence[int]) -> list[Money]:
    """Divide ``money`` in proportion to non-negative integer ``weights``.

    Each part gets the floor of its exact share; the minor units left over go one each
    to the parts with the largest fractional remainders, ties to the earlier part.
    Negative amounts are split as their absolute value and negated, so a reversal
    mirrors the original split exactly.
    """
    if not weights:
        raise ValueError("split needs at least one weight")
    for w in weights:
        if isinstance(w, bool) or not isinstance(w, int) or w < 0:
            raise ValueError(f"weights must be non-negative ints, got {w!r}")
    total_weight = sum(weights)
    if total_weight == 0:
        raise ValueError("weights must not all be zero")
    sign = -1 if money.amount < 0 else 1
    amount = abs(money.amount)
    floors: list[int] = []
    remainders: list[int] = []
    for w in weights:
        q, r = divmod(amount * w, total_weight)
        floors.append(q)
        remainders.append(r)
    leftover = amount - sum(floors)
    # Largest remainder first; among equals the lower index wins (stable and deterministic).
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:leftover]:
        floors[i] += 1
    return [Money(sign * f, money.currency) for f in floors]


def bps_of(money: Money, bps: int) -> Money:
    """``bps`` basis points of ``money``, rounded half up: the first part of
    ``split(money, [bps, BPS - bps])``, so it and the rest of that split sum to ``money``."""
    if not 0 <= bps <= BPS:
        raise ValueError(f"bps must be within 0..{BPS}, got {bps}")
    return split(money, [bps, BPS - bps])[0]
