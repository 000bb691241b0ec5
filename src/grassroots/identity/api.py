"""Identity API: sign up, tokens, the current account; for operators the user list and
suspending and reinstating accounts."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from grassroots.identity import service
from grassroots.identity.models import User
from grassroots.identity.schemas import AdminUserOut, MeOut, SignupIn, SuspendIn, TokenIn, TokenOut, UserOut
from grassroots.kernel.auth import AdminUser, CurrentUser, Principal, Role, public, session_cookie
from grassroots.kernel.deps import UoW, read_only
from grassroots.kernel.errors import Unauthorized
from grassroots.kernel.pagination import Page, Paging
from grassroots.kernel.uow import UnitOfWork

router = APIRouter(prefix="/api/v1", tags=["identity"])


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


class BearerOrCookieAuthenticator:
    """Bearer token first (API clients), then the session cookie (web pages)."""

    async def authenticate(self, request: Request, uow: UnitOfWork) -> Principal | None:
        header = request.headers.get("authorization", "")
        cookie = request.cookies.get(session_cookie(request))
        scheme, _, token = header.partition(" ")
        if header and not (cookie and scheme.lower() != "bearer"):
            # Another scheme beside a session cookie is a proxy's (nginx auth_basic in front
            # of a staging site): the cookie signs the browser in, as without the proxy.
            if scheme.lower() != "bearer" or not token:
                raise Unauthorized("Use 'Authorization: Bearer <token>'.", code="invalid_token")
            principal = await service.principal_from_token(uow, token.strip(), service.ACCESS)
            if principal is None:
                raise Unauthorized("The token is invalid, expired or revoked.", code="invalid_token")
            return principal
        if cookie:
            return await service.principal_from_token(uow, cookie, service.SESSION)
        return None


@router.post("/auth/signup", status_code=201, response_model=UserOut, dependencies=[Depends(public)])
async def signup(body: SignupIn, request: Request, uow: UoW) -> UserOut:
    user = await service.signup(
        uow, email=body.email, password=body.password, handle=body.handle, role=body.role, ip=client_ip(request)
    )
    return UserOut.model_validate(user)


@router.post("/auth/token", response_model=TokenOut, dependencies=[Depends(public)])
@read_only  # verifying a password writes nothing; no need to queue behind SQLite writers
async def token(body: TokenIn, request: Request, uow: UoW) -> TokenOut:
    user = await service.login(uow, email=body.email, password=body.password, ip=client_ip(request))
    ttl = uow.settings.access_token_ttl_seconds
    return TokenOut(
        access_token=service.issue_token(uow.platform.secret_key, user, service.ACCESS, ttl), expires_in=ttl
    )


@router.get("/me", response_model=MeOut)
async def me(principal: CurrentUser, uow: UoW) -> MeOut:
    return MeOut.model_validate(await service.get_user(uow, principal.id))


@router.post("/me/revoke-sessions", status_code=204)
async def revoke_sessions(principal: CurrentUser, uow: UoW) -> Response:
    """Log out everywhere: every token and session cookie of the account stops working."""
    await service.revoke_sessions(uow, principal.id)
    return Response(status_code=204)


@router.get("/admin/users", response_model=Page[AdminUserOut])
async def admin_users(
    _admin: AdminUser,
    uow: UoW,
    paging: Paging,
    role: Annotated[Role | None, Query()] = None,
    suspended: Annotated[bool | None, Query(description="true: only suspended accounts; false: none")] = None,
    q: Annotated[str | None, Query(max_length=100, description="part of a handle or an email")] = None,
) -> Page[AdminUserOut]:
    users, next_cursor = await service.list_users(uow, paging, role, suspended=suspended, q=q)
    return Page(items=[admin_user_out(u) for u in users], next_cursor=next_cursor)


def admin_user_out(user: User) -> AdminUserOut:
    return AdminUserOut.model_validate(user).model_copy(update={"disabled": user.disabled_at is not None})


@router.get("/admin/users/{user_id}", response_model=AdminUserOut)
async def admin_user(user_id: uuid.UUID, _admin: AdminUser, uow: UoW) -> AdminUserOut:
    return admin_user_out(await service.get_user(uow, user_id))


@router.post("/admin/users/{user_id}/suspend", response_model=AdminUserOut)
async def suspend(user_id: uuid.UUID, body: SuspendIn, admin: AdminUser, uow: UoW) -> AdminUserOut:
    """Suspend an account (its sessions end; goods off sale; profile, showcase and posts
    hidden; no commission on new orders). Suspending it again changes nothing."""
    return admin_user_out(await service.suspend(uow, admin, user_id, body.reason))


@router.post("/admin/users/{user_id}/reinstate", response_model=AdminUserOut)
async def reinstate(user_id: uuid.UUID, admin: AdminUser, uow: UoW) -> AdminUserOut:
    """Lift a suspension; the goods it took off sale go back on sale."""
    return admin_user_out(await service.reinstate(uow, admin, user_id))
