"""Checks on text people type that no single domain owns."""

from __future__ import annotations

import unicodedata

# Characters that show nothing on their own beyond what ``str.isspace`` knows: fillers
# (Hangul, braille blank), the combining grapheme joiner and variation selectors. Format
# characters (category Cf: zero-width space and joiners, U+2060, U+FEFF) and controls are
# caught by category.
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800\u034f") | frozenset(map(chr, range(0xFE00, 0xFE10)))


def storable(text: str) -> bool:
    """Whether a column or a shared-state key can hold ``text``: no NUL (PostgreSQL refuses
    it) and no lone surrogate (UTF-8 has none)."""
    if "\x00" in text:
        return False
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def shows_nothing(text: str) -> bool:
    """Whether ``text`` would show nothing: spaces and invisible characters are as empty as
    no text (a zero-width joiner inside an emoji is fine: the emoji shows)."""
    return all(
        ch.isspace() or ch in _INVISIBLE or unicodedata.category(ch) in ("Cf", "Cc") or 0xE0100 <= ord(ch) <= 0xE01EF
        for ch in text
    )
