"""Roles, the authenticated principal and route policies.

Every route declares a policy (``public``, ``authenticated`` or ``require(roles)``);
``tests/test_policies.py`` walks the app and fails on a route without one. Policies
answer "who may call this"; ownership ("is this *their* order") is checked by the
services, which receive the principal.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Protocol

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from grassroots.kernel.deps import SAFE_METHODS, UoW
from grassroots.kernel.errors import Forbidden, Unauthorized
from grassroots.kernel.uow import UnitOfWork

CSRF_COOKIE = "gr_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


class Role(StrEnum):
    consumer = "consumer"
    creator = "creator"
    supplier = "supplier"
    mcn = "mcn"
    admin = "admin"


SIGNUP_ROLES = (Role.consumer, Role.creator, Role.supplier, Role.mcn)


@dataclass(frozen=True, slots=True)
class Principal:
    id: uuid.UUID
    role: Role
    handle: str
    email: str
    via_cookie: bool = False


class Authenticator(Protocol):
    async def authenticate(self, request: Request, uow: UnitOfWork) -> Principal | None:
        """The principal behind the request's bearer token or session cookie, else None."""
        ...


SESSION_COOKIE = "gr_session"


def csrf_expected(secret: str, nonce: str, session: str | None) -> str:
    """The CSRF token for a browser: an HMAC of its random ``gr_csrf`` nonce and its session
    cookie. A planted nonce is useless without the server secret, and a token stops working
    when the session changes (log in, log out)."""
    mac = hmac.new(secret.encode(), f"{nonce}|{session or ''}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def cookie_secure(request: Request) -> bool:
    """Whether cookies carry Secure: as configured, else over HTTPS and in production."""
    settings = request.app.state.platform.settings
    if settings.cookie_secure is not None:
        return bool(settings.cookie_secure)
    return request.url.scheme == "https" or bool(settings.is_production)


def csrf_cookie(request: Request) -> str:
    """The nonce cookie's name. With Secure cookies it is a ``__Host-`` one, which only this
    host over HTTPS can set: a sibling subdomain or a plain-http page cannot plant a nonce
    whose token the attacker knows (which would let a foreign form log the browser in)."""
    return "__Host-" + CSRF_COOKIE if cookie_secure(request) else CSRF_COOKIE


def session_cookie(request: Request) -> str:
    """The session cookie's name: ``__Host-`` with Secure cookies, as the nonce's, so no
    sibling subdomain or plain-http page can plant a session of the attacker's (the browser
    would then be signed in as them, its forms working)."""
    return "__Host-" + SESSION_COOKIE if cookie_secure(request) else SESSION_COOKIE


def csrf_ok(request: Request, submitted: str | None) -> bool:
    nonce = request.cookies.get(csrf_cookie(request))
    if not nonce or not submitted:
        return False
    secret: str = request.app.state.platform.secret_key
    expected = csrf_expected(secret, nonce, request.cookies.get(session_cookie(request)))
    # Bytes, not str: compare_digest refuses non-ASCII strings, and any input (a lone
    # surrogate from a form in another charset too) must be a 403.
    return hmac.compare_digest(expected.encode(), submitted.encode("utf-8", "surrogatepass"))


async def _authenticate(request: Request, uow: UnitOfWork) -> Principal | None:
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    authenticator = uow.platform.authenticator
    principal = await authenticator.authenticate(request, uow) if authenticator else None
    if (
        principal is not None
        and principal.via_cookie
        and request.method not in SAFE_METHODS
        and request.url.path.startswith("/api/")
        and not csrf_ok(request, request.headers.get(CSRF_HEADER))
    ):
        # A cookie rides along on cross-site requests; the API then needs the CSRF header.
        raise Forbidden("Missing or wrong CSRF token for a cookie-authenticated request.", code="csrf_failed")
    request.state.principal = principal
    return principal


_bearer = HTTPBearer(auto_error=False, description="Token from POST /api/v1/auth/token")


class Policy:
    """Base of route policies; the route-walking test looks for instances of this."""

    public: bool = False
    roles: frozenset[Role] = frozenset()

    def describe(self) -> str:
        raise NotImplementedError


class OpenPolicy(Policy):
    """Anyone, and no identity is looked up: for health, metrics and docs, which must
    answer even when the database or Redis is down."""

    public = True

    async def __call__(self) -> None:
        return None

    def describe(self) -> str:
        return "open"


class PublicPolicy(Policy):
    public = True

    async def __call__(self, request: Request, uow: UoW) -> Principal | None:
        try:
            return await _authenticate(request, uow)
        except Unauthorized:
            return None
        except Forbidden as exc:
            if exc.code != "csrf_failed":
                raise
            # A cookie without the CSRF header lends no authority: serve the caller anonymously.
            request.state.principal = None
            return None

    def describe(self) -> str:
        return "public"


class RolePolicy(Policy):
    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    async def __call__(
        self,
        request: Request,
        uow: UoW,
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
    ) -> Principal:
        principal = await _authenticate(request, uow)
        if principal is None:
            raise Unauthorized("Log in first: send a bearer token or a session cookie.", code="not_authenticated")
        if self.roles and principal.role not in self.roles:
            allowed = ", ".join(sorted(self.roles))
            raise Forbidden(f"This needs one of the roles: {allowed}.", code="forbidden_role")
        return principal

    def describe(self) -> str:
        return "roles: " + ", ".join(sorted(self.roles)) if self.roles else "authenticated"


open_access = OpenPolicy()
public = PublicPolicy()
authenticated = RolePolicy()


def require(*roles: Role) -> RolePolicy:
    return RolePolicy(*roles)


MaybeUser = Annotated[Principal | None, Depends(public)]
CurrentUser = Annotated[Principal, Depends(authenticated)]
AdminUser = Annotated[Principal, Depends(require(Role.admin))]
