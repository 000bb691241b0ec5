"""Identity pages: sign up, log in, log out, account; for operators the user list and an
account's page, where they suspend and reinstate it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from grassroots.identity import service
from grassroots.identity.api import client_ip
from grassroots.identity.models import User
from grassroots.kernel.auth import SIGNUP_ROLES, AdminUser, CurrentUser, MaybeUser, Role, open_access
from grassroots.kernel.deps import UoW, read_only
from grassroots.kernel.errors import DomainError
from grassroots.kernel.i18n import N_
from grassroots.kernel.pagination import Paging
from grassroots.web import nav
from grassroots.web.actions import MAX_NEXT, safe_next, see_other
from grassroots.web.forms import text
from grassroots.web.session import CsrfForm, clear_session, flash, set_session
from grassroots.web.templating import gettext, render

router = APIRouter(include_in_schema=False)

nav.register("/admin/users", N_("Users"), (Role.admin,), order=10)

CHOOSE_ROLE = N_("Choose one of the roles.")
FIELD_MESSAGES = {
    "invalid_email": ("email", N_("Enter a valid email address.")),
    "email_taken": ("email", N_("An account with this email already exists. Log in instead?")),
    "invalid_handle": ("handle", N_("Use 3 to 30 letters, digits, “_” or “.”, starting with a letter or digit.")),
    "handle_taken": ("handle", N_("That handle is taken. Try another.")),
    "weak_password": ("password", N_("Use at least 8 characters; not a common password, your email or your handle.")),
    "role_not_allowed": ("role", CHOOSE_ROLE),
}
FORM_MESSAGES = {
    "invalid_credentials": N_("Wrong email or password."),
    "rate_limited": N_("Too many attempts. Wait a moment and try again."),
    "account_suspended": N_("This account is suspended. Contact the platform's operators."),
}


def _start_session(request: Request, response: Response, uow: UoW, user: User) -> None:
    ttl = uow.settings.session_ttl_seconds
    set_session(request, response, service.issue_token(uow.platform.secret_key, user, service.SESSION, ttl), ttl)


# ------------------------------------------------------------------- sign up


@router.get("/signup")
async def signup_form(request: Request, user: MaybeUser) -> Response:
    if user is not None:
        return see_other("/home")
    return render(
        request, "identity/signup.html", {"values": {"role": "consumer"}, "errors": {}, "roles": SIGNUP_ROLES}
    )


@router.post("/signup")
async def signup_submit(request: Request, form: CsrfForm, _visitor: MaybeUser, uow: UoW) -> Response:
    values = {k: text(form, k) for k in ("email", "handle", "role")}
    password = text(form, "password", 1000, strip=False)
    _ = gettext(request)
    errors: dict[str, str] = {}
    form_error = None
    # Every field's own check first, so one answer names every mistake, not one at a time.
    checks: list[Callable[[], object]] = [
        lambda: service.normalize_email(values["email"]),
        lambda: service.validate_handle(values["handle"]),
        lambda: service.check_password(password, email=values["email"], handle=values["handle"]),
    ]
    for check in checks:
        try:
            check()
        except DomainError as exc:
            if exc.code in FIELD_MESSAGES:
                field, message = FIELD_MESSAGES[exc.code]
                errors[field] = _(message)
    try:
        role = Role(values["role"]) if values["role"] in {r.value for r in SIGNUP_ROLES} else None
        if role is None:
            errors["role"] = _(CHOOSE_ROLE)
        elif not errors:
            async with uow.attempt():
                user = await service.signup(
                    uow,
                    email=values["email"],
                    password=password,
                    handle=values["handle"],
                    role=role,
                    ip=client_ip(request),
                )
            response = see_other("/home")
            _start_session(request, response, uow, user)
            flash(request, response, _("Welcome to Grassroots, %(handle)s!", handle="@" + user.handle))
            return response
    except DomainError as exc:
        refused: DomainError | None = exc
        if exc.code in FIELD_MESSAGES:
            field, message = FIELD_MESSAGES[exc.code]
            errors[field] = _(message)
        else:
            form_error = _(FORM_MESSAGES.get(exc.code, exc.message))
    else:
        refused = None
    # Too many sign-ups from here is 429 with when to try again, as on the login page.
    limited = refused is not None and refused.status == 429
    page = render(
        request,
        "identity/signup.html",
        {"values": values, "errors": errors, "form_error": form_error, "roles": SIGNUP_ROLES},
        status=429 if limited else 422,
    )
    if limited and refused is not None and refused.headers:
        page.headers.update(refused.headers)
    return page


# ------------------------------------------------------------------- log in / out


@router.get("/login")
async def login_form(
    request: Request, user: MaybeUser, next: Annotated[str | None, Query(max_length=4000)] = None
) -> Response:
    if user is not None:
        return see_other(safe_next(next, "/home", longest=MAX_NEXT))
    return render(request, "identity/login.html", {"values": {}, "next": safe_next(next, "/home", longest=MAX_NEXT)})


@router.post("/login")
@read_only  # verifying a password writes nothing; no need to queue behind SQLite writers
async def login_submit(request: Request, form: CsrfForm, _visitor: MaybeUser, uow: UoW) -> Response:
    email = text(form, "email")
    target = safe_next(text(form, "next", 500), "/home")
    _ = gettext(request)
    try:
        user = await service.login(
            uow, email=email, password=text(form, "password", 1000, strip=False), ip=client_ip(request)
        )
    except DomainError as exc:
        status = exc.status if exc.status in (401, 403, 429) else 422
        page: Response = render(
            request,
            "identity/login.html",
            {"values": {"email": email}, "next": target, "form_error": _(FORM_MESSAGES.get(exc.code, exc.message))},
            status=status,
        )
        if exc.headers:
            page.headers.update(exc.headers)
        return page
    response = see_other(target)
    _start_session(request, response, uow, user)
    flash(request, response, _("Welcome back, %(handle)s.", handle="@" + user.handle))
    return response


@router.post("/logout", dependencies=[Depends(open_access)])
async def logout(request: Request, _form: CsrfForm) -> Response:
    response = see_other("/")
    clear_session(request, response)
    _ = gettext(request)
    flash(request, response, _("You are logged out."), "info")
    return response


# ------------------------------------------------------------------- account


@router.get("/account")
async def account(request: Request, principal: CurrentUser, uow: UoW) -> Response:
    user = await service.get_user(uow, principal.id)
    return render(request, "identity/account.html", {"account": user})


@router.post("/account/revoke-sessions")
async def revoke_sessions(request: Request, _form: CsrfForm, principal: CurrentUser, uow: UoW) -> Response:
    await service.revoke_sessions(uow, principal.id)
    response = see_other("/login")
    clear_session(request, response)
    _ = gettext(request)
    flash(request, response, _("You are logged out on every device."), "info")
    return response


# ------------------------------------------------------------------- admin


@router.get("/admin/users")
async def admin_users(
    request: Request,
    _admin: AdminUser,
    uow: UoW,
    paging: Paging,
    role: Annotated[Role | None, Query()] = None,
    suspended: str = "",
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    only_suspended = suspended in ("1", "true")  # the "Suspended" tab; anything else is no filter
    if only_suspended:
        role = None
    users, next_cursor = await service.list_users(uow, paging, role, suspended=True if only_suspended else None, q=q)
    counts = await service.role_counts(uow)
    if only_suspended:
        base = "/admin/users?suspended=1"
    else:
        base = f"/admin/users?role={role.value}" if role else "/admin/users"
    if q.strip():  # the next page keeps the search
        base += ("&" if "?" in base else "?") + urlencode({"q": q.strip()})
    return render(
        request,
        "identity/admin_users.html",
        {
            "users": users,
            "next_cursor": next_cursor,
            "role": role,
            "counts": counts,
            "all_roles": list(Role),
            "base": base,
            "only_suspended": only_suspended,
            "suspended_count": await service.suspended_count(uow),
            "q": q.strip(),
        },
    )


async def _user_page(
    request: Request, uow: UoW, user_id: uuid.UUID, *, reason: str = "", reason_error: str | None = None
) -> Response:
    account = await service.get_user(uow, user_id)
    by = await service.handles(uow, [account.disabled_by]) if account.disabled_by else {}
    return render(
        request,
        "identity/admin_user.html",
        {
            "account": account,
            "suspended_by": by.get(account.disabled_by) if account.disabled_by else None,
            "reason": reason,
            "reason_error": reason_error,
        },
        status=422 if reason_error else 200,
    )


@router.get("/admin/users/{user_id}")
async def admin_user(request: Request, user_id: uuid.UUID, _admin: AdminUser, uow: UoW) -> Response:
    return await _user_page(request, uow, user_id)


REASON_MESSAGES = {
    "reason_required": N_("Say why the account is suspended."),
    "reason_too_long": N_("Keep the reason to 500 characters at most."),
    "cannot_suspend_self": N_("You cannot suspend your own account."),
}


@router.post("/admin/users/{user_id}/suspend")
async def suspend(request: Request, user_id: uuid.UUID, form: CsrfForm, admin: AdminUser, uow: UoW) -> Response:
    reason = text(form, "reason", 2000)
    _ = gettext(request)
    try:
        account = await service.suspend(uow, admin, user_id, reason)
    except DomainError as exc:
        if exc.code not in REASON_MESSAGES:
            raise
        return await _user_page(request, uow, user_id, reason=reason, reason_error=_(REASON_MESSAGES[exc.code]))
    response = see_other(f"/admin/users/{user_id}")
    flash(request, response, _("@%(handle)s is suspended.", handle=account.handle))
    return response


@router.post("/admin/users/{user_id}/reinstate")
async def reinstate(request: Request, user_id: uuid.UUID, _form: CsrfForm, admin: AdminUser, uow: UoW) -> Response:
    account = await service.reinstate(uow, admin, user_id)
    response = see_other(f"/admin/users/{user_id}")
    _ = gettext(request)
    flash(request, response, _("@%(handle)s is reinstated.", handle=account.handle))
    return response
