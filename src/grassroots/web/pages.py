"""Shell pages: landing, each role's home, the language switch, error pages."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.status import HTTP_303_SEE_OTHER

from grassroots.kernel.auth import CurrentUser, MaybeUser, cookie_secure, open_access
from grassroots.kernel.i18n import N_
from grassroots.web import i18n
from grassroots.web.actions import MAX_NEXT, PAGE_MESSAGES, form_page, safe_next
from grassroots.web.templating import gettext, render

router = APIRouter(include_in_schema=False)


@router.get("/")
async def landing(request: Request, user: MaybeUser) -> Response:
    if user is not None:
        return RedirectResponse("/home", status_code=HTTP_303_SEE_OTHER)
    return render(request, "home/landing.html")


@router.get("/home")
async def role_home(request: Request, user: CurrentUser) -> Response:
    return render(request, "home/role.html")


@router.get("/lang/{code}", dependencies=[Depends(open_access)])
async def switch_language(code: str, request: Request, next: str | None = None) -> Response:
    response = RedirectResponse(safe_next(next), status_code=HTTP_303_SEE_OTHER)
    if code in i18n.LOCALES:
        response.set_cookie(
            i18n.LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax", secure=cookie_secure(request), path="/"
        )
    return response


SOMETHING_WRONG = N_("Something went wrong")
ERROR_TITLES = {
    400: N_("That request did not make sense"),
    401: N_("Please log in"),
    403: N_("You cannot do that"),
    404: N_("Page not found"),
    405: N_("That action is not allowed here"),
    409: N_("That clashes with something that already happened"),
    413: N_("That was too large"),
    422: N_("Some fields need another look"),
    429: N_("Slow down a little"),
}


async def html_error(request: Request, status: int, code: str, message: str) -> Response:
    if status == 401:
        # Back to this page after logging in; after a form (a POST address answers no GET),
        # to the page the form was on.
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method not in ("GET", "HEAD"):
            target = form_page(request, "/home")
        back = quote(target, safe="/")
        if len(back) > MAX_NEXT:  # a long query: back to the page itself, not a login page that refuses it
            back = quote(request.url.path, safe="/")
        login = f"/login?next={back}" if len(back) <= MAX_NEXT else "/login"
        return RedirectResponse(login, status_code=HTTP_303_SEE_OTHER)
    _ = gettext(request)
    title = _(ERROR_TITLES.get(status, SOMETHING_WRONG))
    shown = _(PAGE_MESSAGES[code]) if code in PAGE_MESSAGES else message
    return render(
        request, "error.html", {"status": status, "code": code, "title": title, "message": shown}, status=status
    )
