"""Jinja2 rendering shared by every domain's pages: one environment per language, the
design system's base layout and macros, and the context every page gets (user, role
navigation, CSRF token, flash messages, language switcher)."""

from __future__ import annotations

import pkgutil
from datetime import datetime
from decimal import Decimal
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import Response

import grassroots
from grassroots import __version__
from grassroots.kernel.auth import Principal
from grassroots.kernel.money import Money
from grassroots.web import i18n, nav
from grassroots.web.forms import minor_to_amount
from grassroots.web.session import FLASH_COOKIE, csrf_token, persist_csrf, platform_of, read_flashes

BABEL_LOCALES = {"en": "en_US", "zh_Hans": "zh_Hans_CN"}


def bps_percent(bps: int) -> str:
    """Basis points as a percentage: 3000 → "30%", 1250 → "12.5%"."""
    return format((Decimal(int(bps)) / 100).normalize(), "f") + "%"


def local_time(value: datetime | None, tz: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


def template_dirs() -> list[str]:
    """``web/templates`` first, then every domain package's ``templates`` folder."""
    dirs = [str(files("grassroots.web") / "templates")]
    for mod in pkgutil.iter_modules(grassroots.__path__):
        if mod.ispkg and mod.name != "web":
            path = Path(str(files(f"grassroots.{mod.name}"))) / "templates"
            if path.is_dir():
                dirs.append(str(path))
    return dirs


_globals: dict[str, Any] = {}


def register_global(name: str, value: Any) -> None:
    """Make ``value`` available to every template (domains register their label tables)."""
    _globals[name] = value
    environment.cache_clear()


@cache
def environment(locale: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(template_dirs()),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(locale), newstyle=True)  # type: ignore[attr-defined]
    babel_locale = BABEL_LOCALES.get(locale, "en_US")
    env.filters["money"] = lambda amount, currency: Money(int(amount), currency).format(babel_locale)
    env.filters["pct"] = bps_percent
    env.filters["amount"] = minor_to_amount  # a price as a form's box shows it: 68.50
    env.globals["version"] = __version__
    env.globals.update(_globals)
    env.globals["role_labels"] = nav.ROLE_LABELS
    env.globals["role_pitch"] = nav.ROLE_PITCH
    return env


def money_text(request: Request, amount: int, currency: str) -> str:
    """An amount as pages show it, in the reader's locale (for messages built in handlers)."""
    return Money(amount, currency).format(BABEL_LOCALES.get(locale_of(request), "en_US"))


def locale_of(request: Request) -> str:
    cached = getattr(request.state, "locale", None)
    if isinstance(cached, str):
        return cached
    loc = i18n.negotiate(request.headers.get("accept-language"), request.cookies.get(i18n.LANG_COOKIE))
    request.state.locale = loc
    return loc


def gettext(request: Request) -> Any:
    """``_`` for Python code of the pages: translates into the request's language."""
    t = i18n.translations(locale_of(request))

    def _(message: str, **params: Any) -> str:
        text = t.gettext(message)
        return text % params if params else text

    return _


def ngettext(request: Request) -> Any:
    """Plural-aware ``ngettext(singular, plural, n, **params)`` in the request's language."""
    t = i18n.translations(locale_of(request))

    def translate(singular: str, plural: str, n: int, **params: Any) -> str:
        return t.ngettext(singular, plural, n) % {"num": n, **params}

    return translate


def current_user(request: Request) -> Principal | None:
    p = getattr(request.state, "principal", None)
    return p if isinstance(p, Principal) else None


def render(request: Request, name: str, context: dict[str, Any] | None = None, status: int = 200) -> HTMLResponse:
    locale = locale_of(request)
    user = current_user(request)
    platform = platform_of(request)
    # This page's address: the path re-quoted, the query as sent (already percent-encoded).
    here = quote(request.url.path, safe="/") + (f"?{request.url.query}" if request.url.query else "")
    ctx: dict[str, Any] = {
        "request": request,
        "user": user,
        "nav": nav.items_for(user.role if user else None, platform.settings),
        "path": request.url.path,
        "csrf_token": csrf_token(request),
        "flashes": read_flashes(request),
        "locale": locale,
        "html_lang": i18n.HTML_LANG[locale],
        "locales": i18n.LOCALES,
        "here": here,  # for a form's "next" field; in a link's query, ``here | urlencode``
        "env_name": platform.settings.env.value,
        "dt": lambda value, fmt="%Y-%m-%d %H:%M": local_time(value, platform.settings.display_timezone, fmt),
        "now": platform.clock.now(),
        "return_days": platform.settings.return_window_days,  # what pages promise is what is enforced
        "payment_ttl": platform.settings.order_payment_ttl_seconds,
    }
    if context:
        ctx.update(context)
    html = environment(locale).get_template(name).render(ctx)
    response = HTMLResponse(html, status_code=status)
    finish(request, response)
    return response


def finish(request: Request, response: Response) -> None:
    """Cookies every rendered page carries: a new CSRF token; flash messages, now shown, cleared.
    A signed-in person's page is never stored: after logging out on a shared phone, Back must
    not show the last person's orders and address from the browser's cache."""
    persist_csrf(request, response)
    if current_user(request) is not None:
        response.headers["Cache-Control"] = "no-store, private"
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
