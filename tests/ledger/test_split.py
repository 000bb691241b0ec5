"""The order split: exact to the minor unit for any amounts and rates."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grassroots.kernel.money import Money
from grassroots.ledger.service import Line, compute_split

lines = st.lists(
    st.builds(
        lambda amount, bps: Line(Money(amount, "CNY"), bps),
        st.integers(min_value=1, max_value=10**9),
        st.one_of(st.just(0), st.integers(min_value=100, max_value=8000)),
    ),
    min_size=1,
    max_size=8,
)
fees = st.integers(min_value=0, max_value=2000)
shares = st.one_of(st.none(), st.integers(min_value=1, max_value=9000))


@given(lines, fees, shares)
def test_every_split_sums_exactly_to_the_order_total(ls: list[Line], fee_bps: int, share: int | None) -> None:
    s = compute_split(ls, fee_bps, share)
    assert s.total.amount == sum(line.amount.amount for line in ls)
    assert sum(p.amount for p in s.parts()) == s.total.amount
    assert s.promoter + s.mcn == s.commission
    assert all(p.amount >= 0 for p in s.parts())


@given(lines, fees, shares)
def test_each_part_is_within_a_minor_unit_per_line_of_its_exact_value(
    ls: list[Line], fee_bps: int, share: int | None
) -> None:
    s = compute_split(ls, fee_bps, share)
    exact_fee = sum(Fraction(line.amount.amount * fee_bps, 10_000) for line in ls)
    exact_commission = sum(Fraction(line.amount.amount * line.commission_bps, 10_000) for line in ls)
    assert abs(s.fee.amount - exact_fee) <= len(ls)
    assert abs(s.commission.amount - exact_commission) <= len(ls)
    if share:
        assert abs(s.mcn.amount - Fraction(s.commission.amount * share, 10_000)) < 1


def test_a_rounding_tie_between_mcn_and_creator_stays_where_it_always_went() -> None:
    # ¥1.00 at 5% commission: 5 fen, of which the MCN's 90% is 4.5: the tie goes to the
    # earlier part, the MCN's, as it always has (ADR 0008).
    s = compute_split([Line(Money(100, "CNY"), 500)], 500, 9000)
    assert (s.commission.amount, s.mcn.amount, s.promoter.amount) == (5, 5, 0)


def test_a_worked_example() -> None:
    # 2 × ¥99.99 at 20% commission, 5% fee, MCN takes 30% of the commission
    s = compute_split([Line(Money(19_998, "CNY"), 2000)], 500, 3000)
    assert (s.fee.amount, s.commission.amount, s.mcn.amount, s.promoter.amount, s.supplier.amount) == (
        1000,
        4000,
        1200,
        2800,
        14_998,
    )


def test_no_promoter_no_commission() -> None:
    s = compute_split([Line(Money(10_000, "CNY"), 0)], 500)
    assert (s.fee.amount, s.commission.amount, s.supplier.amount) == (500, 0, 9500)


def test_refuses_rates_over_the_whole_and_empty_orders() -> None:
    with pytest.raises(ValueError, match="exceed"):
        compute_split([Line(Money(100, "CNY"), 8000)], 2500)
    with pytest.raises(ValueError, match="at least one line"):
        compute_split([], 500)
