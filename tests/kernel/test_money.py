from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grassroots.kernel.money import BPS, CurrencyMismatch, Money, bps_of, split

amounts = st.integers(min_value=-(10**15), max_value=10**15)
weights = st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=12).filter(lambda w: sum(w) > 0)
currencies = st.sampled_from(["CNY", "USD", "JPY", "EUR", "KWD"])


@given(amounts, weights, currencies)
def test_split_parts_sum_exactly_to_the_amount(amount: int, ws: list[int], cur: str) -> None:
    parts = split(Money(amount, cur), ws)
    assert sum(p.amount for p in parts) == amount
    assert all(p.currency == cur for p in parts)
    assert len(parts) == len(ws)


@given(amounts, weights)
def test_each_part_is_within_one_minor_unit_of_its_exact_share(amount: int, ws: list[int]) -> None:
    parts = split(Money(amount, "CNY"), ws)
    total = sum(ws)
    for p, w in zip(parts, ws, strict=True):
        exact = Fraction(amount * w, total)
        assert abs(p.amount - exact) < 1
        if w == 0:
            assert p.amount == 0


@given(amounts, weights)
def test_split_is_deterministic_and_negation_mirrors_it(amount: int, ws: list[int]) -> None:
    m = Money(amount, "CNY")
    assert split(m, ws) == split(m, ws)
    assert [-p for p in split(m, ws)] == split(-m, ws)


@given(st.integers(min_value=0, max_value=10**12), st.integers(min_value=0, max_value=BPS))
def test_bps_of_rounds_half_up_and_matches_split(amount: int, bps: int) -> None:
    m = Money(amount, "CNY")
    part = bps_of(m, bps)
    assert part.amount == (2 * amount * bps + BPS) // (2 * BPS)  # round half up
    assert part + split(m, [bps, BPS - bps])[1] == m


def test_largest_remainder_ties_go_to_the_earlier_part() -> None:
    assert [p.amount for p in split(Money(100, "CNY"), [1, 1, 1])] == [34, 33, 33]
    assert [p.amount for p in split(Money(2, "CNY"), [1, 1, 1])] == [1, 1, 0]
    assert [p.amount for p in split(Money(10000, "CNY"), [500, 1000, 8500])] == [500, 1000, 8500]
    # 5% of 19.99: 99.95 fen -> 100 (largest remainder), the rest 1899
    assert [p.amount for p in split(Money(1999, "CNY"), [500, 9500])] == [100, 1899]


def test_mixed_currencies_are_refused() -> None:
    with pytest.raises(CurrencyMismatch):
        Money(1, "CNY") + Money(1, "USD")
    with pytest.raises(CurrencyMismatch):
        _ = Money(1, "CNY") < Money(2, "USD")


@pytest.mark.parametrize("bad", [1.5, "3", True, None])
def test_amount_must_be_integer_minor_units(bad: object) -> None:
    with pytest.raises(TypeError):
        Money(bad, "CNY")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money(1, "CNY") * bad  # type: ignore[operator]


@pytest.mark.parametrize("bad", ["cny", "RMB1", "XYZ", "", "¥"])
def test_currency_must_be_a_known_iso_code(bad: str) -> None:
    with pytest.raises(ValueError, match="currency"):
        Money(1, bad)


@pytest.mark.parametrize("ws", [[], [0, 0], [-1, 2], [1.5, 1]])
def test_split_rejects_bad_weights(ws: list[int]) -> None:
    with pytest.raises(ValueError, match="weight"):
        split(Money(100, "CNY"), ws)


def test_arithmetic_and_display() -> None:
    a = Money(1999, "CNY")
    assert a + Money(1, "CNY") == Money(2000, "CNY")
    assert a - Money(2000, "CNY") == Money(-1, "CNY")
    assert 3 * Money(5, "USD") == Money(15, "USD")
    assert str(a) == "19.99 CNY"
    assert str(Money(500, "JPY")) == "500 JPY"
    assert a.format("zh_Hans_CN") == "¥19.99"
    assert Money(1234567, "USD").format("en_US") == "$12,345.67"
    assert not Money.zero("CNY")
