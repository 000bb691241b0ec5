"""Operator page for the test clock (absent in production)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.status import HTTP_303_SEE_OTHER

from grassroots.kernel.auth import AdminUser, Role
from grassroots.kernel.deps import PlatformDep
from grassroots.kernel.errors import DomainError
from grassroots.kernel.i18n import N_
from grassroots.ops import service
from grassroots.ops.schemas import TEN_YEARS
from grassroots.web import nav
from grassroots.web.session import CsrfForm, flash
from grassroots.web.templating import gettext, render

router = APIRouter(include_in_schema=False)

nav.register("/admin/test-clock", N_("Test clock"), (Role.admin,), order=90, enabled=lambda s: not s.is_production)

PRESETS = [
    (3600, N_("1 hour")),
    (86400, N_("1 day")),
    (7 * 86400, N_("7 days")),
    (8 * 86400, N_("8 days")),
    (30 * 86400, N_("30 days")),
]


@router.get("/admin/test-clock")
async def clock_page(request: Request, _admin: AdminUser, platform: PlatformDep) -> Response:
    clock = service.test_clock(platform)
    await clock.refresh()
    # Shown in the zone every page shows times in, named (the stored time is UTC).
    context = {"now": clock.now(), "offset": clock.offset, "presets": PRESETS}
    return render(request, "ops/test_clock.html", {**context, "display_timezone": platform.settings.display_timezone})


@router.post("/admin/test-clock")
async def clock_advance(request: Request, form: CsrfForm, _admin: AdminUser, platform: PlatformDep) -> Response:
    raw = form.get("seconds")
    _ = gettext(request)
    response = RedirectResponse("/admin/test-clock", status_code=HTTP_303_SEE_OTHER)
    try:
        seconds = int(raw) if isinstance(raw, str) else 0
    except ValueError:
        seconds = 0
    if not 0 < seconds <= TEN_YEARS:
        flash(request, response, _("Enter a number of seconds between 1 and ten years."), "error")
        return response
    try:
        clock = await service.advance_clock(platform, seconds)
    except DomainError:  # past the 100-year bound: said on the page, like the range above
        flash(request, response, _("The test clock cannot run more than 100 years ahead."), "error")
        return response
    flash(
        request,
        response,
        _("The clock moved forward. Platform time is now %(now)s.", now=clock.now().strftime("%Y-%m-%d %H:%M:%S UTC")),
    )
    return response
