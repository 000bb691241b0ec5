from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grassroots.kernel.text import shows_nothing


@pytest.mark.parametrize(
    "text",
    ["", "   ", "\u200b", "\u2060\ufeff", " \u3000\u200b\n", "\u3164", "\u2800", "\ufe0f", "\U000e0100", "\x00\x07"],
)
def test_spaces_and_invisible_characters_show_nothing(text: str) -> None:
    assert shows_nothing(text)


@pytest.mark.parametrize("text", ["a", "好", "\u200bhi", "👩\u200d👩\u200d👧", "❤\ufe0f", "0", "·"])
def test_anything_visible_shows(text: str) -> None:
    assert not shows_nothing(text)


@given(st.text(alphabet=st.characters(categories=["L", "N", "P", "S"]), min_size=1), st.text(" \u200b\u2060"))
def test_a_visible_character_among_invisible_ones_shows(visible: str, padding: str) -> None:
    assert not shows_nothing(padding + visible + padding)


def test_storable_text_has_no_nul_and_no_lone_surrogate() -> None:
    from grassroots.kernel.text import storable

    assert storable("面膜 mask 🍵") and storable("")
    assert not storable("a\x00b") and not storable("\ud800")
