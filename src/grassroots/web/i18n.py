"""Translations: gettext catalogs (Babel) for every page, English and Simplified Chinese.

Catalogs live as ``.po`` files and are compiled in memory at start-up, so there is no
build step and no binary in the repository. The language comes from the switcher's
cookie, else from ``Accept-Language``, else English.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

DEFAULT_LOCALE = "en"
LOCALES: dict[str, str] = {"en": "English", "zh_Hans": "简体中文"}
HTML_LANG = {"en": "en", "zh_Hans": "zh-Hans"}
LANG_COOKIE = "gr_lang"
DOMAIN = "messages"


def locale_dir() -> str:
    return str(files("grassroots.web") / "locale")


@cache
def translations(locale: str) -> NullTranslations:
    if locale == DEFAULT_LOCALE or locale not in LOCALES:
        return NullTranslations()
    po = files("grassroots.web") / "locale" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = BytesIO()
    write_mo(buf, catalog)  # fuzzy entries are left out, as msgfmt does
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def normalize(tag: str) -> str | None:
    """Map a language tag (``zh-CN``, ``zh_Hans``, ``en-GB``) to one of ``LOCALES``."""
    t = tag.strip().replace("_", "-").lower()
    if not t:
        return None
    if t == "zh" or t.startswith("zh-"):
        return "zh_Hans"
    if t == "en" or t.startswith("en-"):
        return "en"
    return None


def negotiate(accept_language: str | None, cookie: str | None = None) -> str:
    if cookie and cookie in LOCALES:
        return cookie
    if not accept_language:
        return DEFAULT_LOCALE
    prefs: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.partition(";")
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        prefs.append((-q, i, tag))
    for neg_q, _i, tag in sorted(prefs):
        loc = normalize(tag)
        if loc and -neg_q > 0:
            return loc
    return DEFAULT_LOCALE
