"""Every route declares who may call it; each role gets exactly what it may."""

from __future__ import annotations

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount

from grassroots.app import PUBLIC_MOUNTS, create_app, iter_routes, route_policy
from grassroots.config import Env
from tests.conftest import Stack, make_settings, user_with_token


def test_every_route_declares_a_policy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for env in (Env.test, Env.production):
        app = create_app(make_settings(tmp_path, env=env))
        missing = []
        seen = 0
        for route in iter_routes(app):
            original = route.original_route
            if isinstance(original, APIRoute):
                seen += 1
                if route_policy(route) is None:
                    missing.append(f"{sorted(route.methods or ())} {route.path}")
            elif isinstance(original, Mount):
                assert original.path in PUBLIC_MOUNTS, f"mount {original.path} is not declared public"
            else:
                missing.append(f"{type(original).__name__} {getattr(original, 'path', '?')}")
        assert seen > 15
        assert missing == [], f"routes without a policy in {env}: {missing}"


def test_the_walk_notices_a_route_without_a_policy(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fastapi import APIRouter

    app = create_app(make_settings(tmp_path))
    stray = APIRouter()

    @stray.get("/stray")
    async def no_policy() -> dict:
        return {}

    app.include_router(stray)
    unguarded = [r.path for r in iter_routes(app) if isinstance(r.original_route, APIRoute) and route_policy(r) is None]
    assert unguarded == ["/stray"]


ADMIN_ONLY = [("GET", "/api/v1/admin/users"), ("GET", "/api/v1/admin/test-clock"), ("POST", "/api/v1/admin/test-clock")]


@pytest.mark.parametrize("role", ["consumer", "creator", "supplier", "mcn"])
async def test_non_admins_are_forbidden_admin_routes(client: httpx.AsyncClient, role: str) -> None:
    _, headers = await user_with_token(client, role)
    for method, path in ADMIN_ONLY:
        r = await client.request(method, path, headers=headers, json={"advance_seconds": 60})
        assert r.status_code == 403, (role, path)
        assert r.json()["error"]["code"] == "forbidden_role"


async def test_anonymous_callers_are_asked_to_log_in(client: httpx.AsyncClient) -> None:
    for method, path in [*ADMIN_ONLY, ("GET", "/api/v1/me"), ("POST", "/api/v1/me/revoke-sessions")]:
        r = await client.request(method, path, json={"advance_seconds": 60})
        assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated", path


@pytest.mark.parametrize("role", ["consumer", "creator", "supplier", "mcn", "admin"])
async def test_every_role_reads_its_own_account_only(client: httpx.AsyncClient, role: str) -> None:
    user, headers = await user_with_token(client, role)
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["id"] == user["id"] and me["role"] == role


async def test_admin_may_use_admin_routes(client: httpx.AsyncClient) -> None:
    _, headers = await user_with_token(client, "admin")
    assert (await client.get("/api/v1/admin/users", headers=headers)).status_code == 200
    assert (await client.get("/api/v1/admin/test-clock", headers=headers)).status_code == 200


async def test_production_has_no_test_clock(stack: Stack) -> None:
    settings = stack.settings.model_copy(update={"env": Env.production})
    app = create_app(settings, platform=stack.platform)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        _, headers = await user_with_token(c, "admin")
        for method in ("GET", "POST"):
            r = await c.request(method, "/api/v1/admin/test-clock", headers=headers, json={"advance_seconds": 5})
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
        assert "/api/v1/admin/test-clock" not in (await c.get("/openapi.json")).json()["paths"]


async def test_every_cookie_is_secure_in_production(tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(make_settings(tmp_path, env=Env.production))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        r = await c.get("/lang/en?next=/")
    cookies = r.headers.get_list("set-cookie")
    assert cookies and all("secure" in cookie.lower() for cookie in cookies), cookies
