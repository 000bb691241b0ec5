"""Reading numbers typed into forms: what a person means, or nothing."""

from __future__ import annotations

import pytest

from grassroots.web.forms import money_to_minor, whole_number


@pytest.mark.parametrize(
    ("raw", "currency", "minor"),
    [
        ("68.5", "CNY", 6850),
        (" 68 ", "CNY", 6800),
        ("12,800.50", "CNY", 1_280_050),  # thousands grouped by commas
        ("1,000", "JPY", 1000),
        ("9999999", "KWD", 9_999_999_000),
        ("68,50", "CNY", None),  # a decimal comma: refused, never read as 6850 yuan
        ("1,00", "CNY", None),
        ("20000000", "KWD", None),  # more minor units than a price holds
        ("0.001", "CNY", None),  # finer than a fen
        ("0", "CNY", None),
        ("-5", "CNY", None),
        ("1e3", "CNY", None),
        ("²", "CNY", None),
        ("", "CNY", None),
        ("６８．５０", "CNY", 6850),  # a Chinese keyboard's full-width digits and point
        ("１２，８００.５０", "CNY", 1_280_050),
    ],
)
def test_money_to_minor(raw: str, currency: str, minor: int | None) -> None:
    assert money_to_minor(raw, currency) == minor


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("12", 12),
        ("0", 0),
        ("00012", 12),
        ("10000000", 10**7),
        ("10000001", None),
        ("²", None),
        ("①", None),
        ("٣", None),
        ("-1", None),
        ("1.0", None),
        ("", None),
        (" 3", None),
        ("１２", 12),  # full-width digits: the same number
    ],
)
def test_whole_number_takes_ascii_digits_only(raw: str, value: int | None) -> None:
    assert whole_number(raw, 10**7) == value
