"""Browser-side state of the web pages: the session cookie, the CSRF token and flash
messages. Nothing is kept in server memory, so any app instance serves any request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.responses import Response

from grassroots.kernel.auth import (
    CSRF_FIELD,
    SESSION_COOKIE,
    cookie_secure,
    csrf_cookie,
    csrf_expected,
    csrf_ok,
    session_cookie,
)
from grassroots.kernel.errors import BadRequest, Forbidden
from grassroots.kernel.platform import Platform

FLASH_COOKIE = "gr_flash"


def platform_of(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def csrf_token(request: Request) -> str:
    """The token forms and scripts send back, derived from the browser's nonce cookie (minted,
    and remembered for the response, when absent) and its current session."""
    nonce = request.cookies.get(csrf_cookie(request)) or getattr(request.state, "new_csrf", None)
    if not nonce:
        nonce = secrets.token_urlsafe(32)
        request.state.new_csrf = nonce
    return csrf_expected(platform_of(request).secret_key, nonce, request.cookies.get(session_cookie(request)))


def persist_csrf(request: Request, response: Response) -> None:
    nonce = getattr(request.state, "new_csrf", None)
    if nonce:
        name = csrf_cookie(request)
        response.set_cookie(name, nonce, httponly=True, samesite="lax", secure=cookie_secure(request), path="/")


async def csrf_form(request: Request) -> FormData:
    """The posted form, after checking its CSRF token. Page handlers list this dependency
    *before* their policy and unit of work, so a slow body is read before any database lock."""
    form = await request.form()
    if not _is_text(form):
        raise BadRequest("The form holds characters that are not text.", code="invalid_characters")
    submitted = form.get(CSRF_FIELD)
    if not csrf_ok(request, submitted if isinstance(submitted, str) else None):
        raise Forbidden(
            "This form expired or came from another site. Reload the page and try again.", code="csrf_failed"
        )
    return form


def _is_text(form: FormData) -> bool:
    """False when a field holds what no page can show or store: a lone surrogate, which a
    multipart part declared in another charset (UTF-7) can decode to."""
    try:
        for key, value in form.multi_items():
            key.encode()
            (value if isinstance(value, str) else value.filename or "").encode()
    except UnicodeEncodeError:
        return False
    return True


CsrfForm = Annotated[FormData, Depends(csrf_form)]


def set_session(request: Request, response: Response, token: str, max_age: int) -> None:
    response.set_cookie(
        session_cookie(request),
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
        path="/",
    )


def clear_session(request: Request, response: Response) -> None:
    secure = cookie_secure(request)
    response.delete_cookie(session_cookie(request), path="/", secure=secure, httponly=True, samesite="lax")
    if secure:  # one set before sessions took the prefix
        response.delete_cookie(SESSION_COOKIE, path="/")


def _sign(secret: str, data: bytes) -> str:
    return hmac.new(secret.encode(), data, hashlib.sha256).hexdigest()[:32]


def flash(request: Request, response: Response, text: str, kind: str = "success") -> None:
    messages = [*read_flashes(request), {"kind": kind, "text": text}][-5:]
    raw = base64.urlsafe_b64encode(json.dumps(messages, ensure_ascii=False).encode()).decode()
    value = f"{raw}.{_sign(platform_of(request).secret_key, raw.encode())}"
    response.set_cookie(
        FLASH_COOKIE, value, max_age=120, httponly=True, samesite="lax", secure=cookie_secure(request), path="/"
    )


def read_flashes(request: Request) -> list[dict[str, str]]:
    value = request.cookies.get(FLASH_COOKIE)
    if not value or "." not in value:
        return []
    raw, _, sig = value.rpartition(".")
    expected = _sign(platform_of(request).secret_key, raw.encode())
    if not hmac.compare_digest(sig.encode("utf-8", "surrogateescape"), expected.encode()):
        return []
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
    except (ValueError, UnicodeError):
        return []
    if not isinstance(data, list):
        return []
    return [{"kind": str(m.get("kind", "info")), "text": str(m.get("text", ""))} for m in data if isinstance(m, dict)]
