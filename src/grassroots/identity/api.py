"""Identity API: sign up, tokens, the current account, the admin user list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from grassroots.identity import service
from grassroots.identity.schemas import AdminUserOut, MeOut, SignupIn, TokenIn, TokenOut, UserOut
from grassroots.kernel.auth import SESSION_COOKIE, AdminUser, CurrentUser, Principal, Role, public
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
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise Unauthorized("Use 'Authorization: Bearer <token>'.", code="invalid_token")
            principal = await service.principal_from_token(uow, token.strip(), service.ACCESS)
            if principal is None:
                raise Unauthorized("The token is invalid, expired or revoked.", code="invalid_token")
            return principal
        cookie = request.cookies.get(SESSION_COOKIE)
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
) -> Page[AdminUserOut]:
    users, next_cursor = await service.list_users(uow, paging, role)
    items = [AdminUserOut.model_validate(u).model_copy(update={"disabled": u.disabled_at is not None}) for u in users]
    return Page(items=items, next_cursor=next_cursor)
