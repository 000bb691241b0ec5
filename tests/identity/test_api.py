from __future__ import annotations

import asyncio

import httpx
import pytest

from grassroots.config import Settings
from grassroots.kernel.platform import Platform
from tests.conftest import PASSWORD, Stack, login, signup, user_with_token


def err(r: httpx.Response) -> str:
    return r.json()["error"]["code"]


async def test_signup_returns_the_account(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/auth/signup",
        json={"email": "Mei.Lin@Example.COM", "password": PASSWORD, "handle": "Mei_Lin", "role": "creator"},
    )
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"id", "email", "handle", "role"}
    assert body["email"] == "mei.lin@example.com" and body["handle"] == "Mei_Lin" and body["role"] == "creator"
    assert "password" not in r.text and "argon2" not in r.text


@pytest.mark.parametrize(
    ("field", "value", "status", "code"),
    [
        ("email", "not-an-email", 422, "invalid_email"),
        ("email", "a@b", 422, "invalid_email"),
        ("password", "short", 422, "weak_password"),
        ("password", "password123", 422, "weak_password"),
        ("password", "aaaaaaaaaaaa", 422, "weak_password"),
        ("handle", "ab", 422, "invalid_handle"),
        ("handle", "has space", 422, "invalid_handle"),
        ("handle", "<script>", 422, "invalid_handle"),
        ("handle", "x" * 31, 422, "invalid_handle"),
        ("handle", "Admin", 409, "handle_taken"),
        ("role", "admin", 422, "role_not_allowed"),
        ("role", "emperor", 422, "validation_error"),
    ],
)
async def test_signup_rejects_bad_input_with_clear_codes(
    client: httpx.AsyncClient, field: str, value: str, status: int, code: str
) -> None:
    body = {"email": "ok@example.com", "password": PASSWORD, "handle": "okay_handle", "role": "consumer", field: value}
    r = await client.post("/api/v1/auth/signup", json=body)
    assert (r.status_code, err(r)) == (status, code)
    assert r.json()["error"]["message"]


@pytest.mark.parametrize(
    "handle", ["ADMlN", "adm1n_cn", "SUPP0RT", "Support.Team", "Grassr00ts", "my_grassroots_shop", "0fficial_news"]
)
async def test_handles_that_pass_for_the_platforms_people_are_refused(client: httpx.AsyncClient, handle: str) -> None:
    body = {"email": "ok@example.com", "password": PASSWORD, "handle": handle, "role": "consumer"}
    r = await client.post("/api/v1/auth/signup", json=body)
    assert (r.status_code, err(r)) == (409, "handle_taken"), handle


async def test_handles_that_merely_contain_such_letters_are_fine(client: httpx.AsyncClient) -> None:
    fine = ("admiral_li", "rooted_tea", "my_support_group", "staying_home", "stafford", "supporter_amy", "mall")
    for n, handle in enumerate(fine):
        body = {"email": f"ok{n}@example.com", "password": PASSWORD, "handle": handle, "role": "consumer"}
        r = await client.post("/api/v1/auth/signup", json=body)
        assert r.status_code == 201, (handle, r.text)


async def test_password_equal_to_handle_is_weak(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/auth/signup",
        json={"email": "p@example.com", "password": "handle_long", "handle": "handle_long", "role": "consumer"},
    )
    assert err(r) == "weak_password"


async def test_email_and_handle_are_unique_case_insensitively(client: httpx.AsyncClient) -> None:
    await signup(client, email="dup@example.com", handle="Dup_Handle")
    r = await client.post(
        "/api/v1/auth/signup",
        json={"email": "DUP@example.com", "password": PASSWORD, "handle": "fresh_one", "role": "consumer"},
    )
    assert (r.status_code, err(r)) == (409, "email_taken")
    r = await client.post(
        "/api/v1/auth/signup",
        json={"email": "fresh@example.com", "password": PASSWORD, "handle": "dup_HANDLE", "role": "consumer"},
    )
    assert (r.status_code, err(r)) == (409, "handle_taken")


async def test_concurrent_signups_for_one_handle_create_one_account(client: httpx.AsyncClient) -> None:
    async def attempt(i: int) -> httpx.Response:
        return await client.post(
            "/api/v1/auth/signup",
            json={"email": f"race{i}@example.com", "password": PASSWORD, "handle": "racer", "role": "consumer"},
        )

    results = await asyncio.gather(*(attempt(i) for i in range(8)))
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * 7
    assert {err(r) for r in results if r.status_code == 409} == {"handle_taken"}


async def test_token_and_me(client: httpx.AsyncClient) -> None:
    user = await signup(client, "supplier")
    r = await client.post("/api/v1/auth/token", json={"email": user["email"].upper(), "password": PASSWORD})
    assert r.status_code == 200
    tok = r.json()
    assert tok["token_type"] == "bearer" and tok["access_token"]
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {tok['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == user["id"] and me.json()["role"] == "supplier"


async def test_a_password_is_the_same_however_its_accents_are_typed(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    import unicodedata

    from grassroots.identity import repository

    composed = unicodedata.normalize("NFC", "café-crème-brûlée")
    decomposed = unicodedata.normalize("NFD", composed)  # what some phones send
    assert composed != decomposed
    user = await signup(client, password=composed)
    for typed in (composed, decomposed):
        r = await client.post("/api/v1/auth/token", json={"email": user["email"], "password": typed})
        assert r.status_code == 200, typed
    # an account whose hash was made from the decomposed form, before passwords were normalised
    older = await signup(client, password=composed)
    from grassroots.identity.service import _hasher

    async with platform.unit_of_work() as uow:
        stored = await repository.get_by_email(uow.session, older["email"])
        assert stored is not None
        stored.password_hash = _hasher(platform.settings.env).hash(decomposed)
    r = await client.post("/api/v1/auth/token", json={"email": older["email"], "password": composed})
    assert r.status_code == 200  # typed the other way round, and the hash is made anew from the NFC form
    async with platform.unit_of_work() as uow:
        stored = await repository.get_by_email(uow.session, older["email"])
        assert stored is not None and _hasher(platform.settings.env).verify(stored.password_hash, composed)
    r = await client.post("/api/v1/auth/token", json={"email": older["email"], "password": decomposed})
    assert r.status_code == 200


async def test_unknown_email_and_wrong_password_get_the_same_answer(client: httpx.AsyncClient) -> None:
    user = await signup(client)
    wrong = await client.post("/api/v1/auth/token", json={"email": user["email"], "password": "wrong-password"})
    unknown = await client.post("/api/v1/auth/token", json={"email": "nobody@example.com", "password": "whatever1"})
    garbage = await client.post("/api/v1/auth/token", json={"email": "not an email", "password": "whatever1"})
    assert wrong.status_code == unknown.status_code == garbage.status_code == 401
    assert wrong.json() == unknown.json() == garbage.json()
    assert err(wrong) == "invalid_credentials"


async def test_me_needs_a_valid_token(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/me")
    assert (r.status_code, err(r)) == (401, "not_authenticated")
    for header in ("Bearer nonsense", "Bearer ", "Basic abc", "Bearer a.b.c"):
        r = await client.get("/api/v1/me", headers={"Authorization": header})
        assert (r.status_code, err(r)) == (401, "invalid_token"), header


async def test_session_tokens_are_not_api_tokens(client: httpx.AsyncClient, platform: Platform) -> None:
    from grassroots.identity import service

    user = await signup(client)
    async with platform.unit_of_work() as uow:
        u = await service.get_user(uow, __import__("uuid").UUID(user["id"]))
        session_token = service.issue_token(platform.secret_key, u, service.SESSION, 60)
        expired = service.issue_token(platform.secret_key, u, service.ACCESS, -10)
        forged = service.issue_token("another-secret-key-that-is-long-enough", u, service.ACCESS, 60)
    for token in (session_token, expired, forged):
        r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert err(r) == "invalid_token"


async def test_revoke_sessions_invalidates_every_token(client: httpx.AsyncClient) -> None:
    user, headers = await user_with_token(client)
    other = await login(client, user["email"])
    r = await client.post("/api/v1/me/revoke-sessions", headers=headers)
    assert r.status_code == 204
    for h in (headers, other):
        assert err(await client.get("/api/v1/me", headers=h)) == "invalid_token"
    fresh = await login(client, user["email"])
    assert (await client.get("/api/v1/me", headers=fresh)).status_code == 200


async def test_token_from_one_instance_works_on_another(stack: Stack) -> None:
    """Two app objects over one platform configuration: no session state in memory."""
    from grassroots.app import create_app

    apps = [create_app(stack.settings, platform=stack.platform) for _ in range(2)]
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://t") for a in apps]
    try:
        user = await signup(clients[0])
        headers = await login(clients[0], user["email"])
        assert (await clients[1].get("/api/v1/me", headers=headers)).json()["id"] == user["id"]
    finally:
        for c in clients:
            await c.aclose()


async def test_login_is_rate_limited_per_account(client: httpx.AsyncClient, stack: Stack) -> None:
    user = await signup(client)
    limit = stack.settings.login_account_limit
    for _ in range(limit):
        r = await client.post("/api/v1/auth/token", json={"email": user["email"], "password": "wrong-password"})
        assert r.status_code == 401
    r = await client.post("/api/v1/auth/token", json={"email": user["email"], "password": "wrong-password"})
    assert (r.status_code, err(r)) == (429, "rate_limited")
    assert int(r.headers["Retry-After"]) > 0
    # even the right password waits until the limiter grants the next attempt
    r = await client.post("/api/v1/auth/token", json={"email": user["email"].upper(), "password": PASSWORD})
    assert r.status_code == 429
    # other accounts are unaffected
    other = await signup(client)
    assert (
        await client.post("/api/v1/auth/token", json={"email": other["email"], "password": PASSWORD})
    ).status_code == 200


async def test_concurrent_guesses_cannot_outrun_the_account_limit(client: httpx.AsyncClient, stack: Stack) -> None:
    user = await signup(client)
    limit = stack.settings.login_account_limit
    guesses = [{"email": user["email"], "password": f"guess-{i:04d}"} for i in range(3 * limit)]
    guesses[-1]["password"] = PASSWORD  # the right one arrives in the same burst, too late
    results = await asyncio.gather(*(client.post("/api/v1/auth/token", json=g) for g in guesses))
    codes = [r.status_code for r in results]
    assert codes.count(401) + codes.count(200) <= limit  # no more passwords checked than the limit
    assert codes.count(429) >= 2 * limit


async def test_a_successful_login_clears_the_account_count(client: httpx.AsyncClient, stack: Stack) -> None:
    user = await signup(client)
    for _ in range(3):
        for _ in range(stack.settings.login_account_limit - 1):
            await client.post("/api/v1/auth/token", json={"email": user["email"], "password": "wrong-password"})
        await login(client, user["email"])


async def test_the_signup_page_says_too_many_with_429_and_when_to_try_again(stack: Stack) -> None:
    from grassroots.app import create_app
    from tests.web.test_pages import HTML, csrf_of

    settings = Settings(**{**stack.settings.model_dump(), "signup_ip_limit": 1})
    app = create_app(settings, platform=stack.platform)
    stack.platform.settings = settings
    try:
        transport = httpx.ASGITransport(app=app, client=("10.4.5.6", 5))
        codes = []
        for i in range(2):  # two browsers at one address
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                page = await c.get("/signup", headers=HTML)
                form = {"csrf_token": csrf_of(page.text), "email": f"s{i}@example.com", "handle": f"signs_{i}"}
                form |= {"password": PASSWORD, "role": "consumer"}
                r = await c.post("/signup", data=form, headers=HTML)
                codes.append(r.status_code)
        assert codes == [303, 429] and int(r.headers["retry-after"]) > 0
    finally:
        stack.platform.settings = stack.settings


async def test_login_is_rate_limited_per_ip(stack: Stack) -> None:
    from grassroots.app import create_app

    settings = Settings(**{**stack.settings.model_dump(), "login_ip_limit": 3})
    app = create_app(settings, platform=stack.platform)
    stack.platform.settings = settings
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("10.1.2.3", 5)), base_url="http://t"
        ) as c:
            codes = [
                (
                    await c.post("/api/v1/auth/token", json={"email": f"n{i}@example.com", "password": "x" * 9})
                ).status_code
                for i in range(4)
            ]
        assert codes == [401, 401, 401, 429]
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=("10.9.9.9", 5)), base_url="http://t"
        ) as c:
            r = await c.post("/api/v1/auth/token", json={"email": "n@example.com", "password": "x" * 9})
            assert r.status_code == 401
    finally:
        stack.platform.settings = stack.settings


async def test_admin_user_list_pages_with_a_cursor(client: httpx.AsyncClient) -> None:
    _, admin = await user_with_token(client, "admin")
    for i in range(24):
        await signup(client, "creator" if i % 2 else "consumer")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/v1/admin/users", params=params, headers=admin)
        assert r.status_code == 200
        body = r.json()
        seen += [u["id"] for u in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == len(set(seen)) == 25
    assert seen == sorted(seen, reverse=True)  # newest first
    r = await client.get("/api/v1/admin/users", params={"role": "creator", "limit": 100}, headers=admin)
    assert len(r.json()["items"]) == 12 and r.json()["next_cursor"] is None


async def test_an_operator_finds_accounts_by_part_of_a_handle_or_email(client: httpx.AsyncClient) -> None:
    from tests.commerce.test_regressions import browser_for
    from tests.conftest import Actor
    from tests.web.test_pages import HTML

    admin_user, admin = await user_with_token(client, "admin")
    mei = await signup(client, handle="Mei_Shops", email="MEI.Lin@Example.com")
    other = await signup(client, handle="tea_fan", email="tea@example.com")
    await signup(client, handle="plain_100", email="plain100@example.com")
    for q, found in (
        ("mei", [mei]),
        ("@mei_", [mei]),
        ("MEI.LIN@", [mei]),
        ("tea", [other]),
        ("%", []),
        ("a_n", []),
    ):  # "_" is no wildcard ("plain")
        r = await client.get("/api/v1/admin/users", params={"q": q}, headers=admin)
        assert r.status_code == 200 and [u["id"] for u in r.json()["items"]] == [u["id"] for u in found], q
    r = await client.get("/api/v1/admin/users", params={"q": "tea", "role": "creator"}, headers=admin)
    assert r.json()["items"] == []  # with a role, both hold
    page = await (
        await browser_for(client, Actor(admin_user["id"], admin_user["email"], admin_user["handle"], "admin", {}))
    ).get("/admin/users", params={"q": "mei"}, headers=HTML)
    assert page.text.count('data-testid="user"') == 1 and "@Mei_Shops" in page.text and 'value="mei"' in page.text


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!!",
        "W10",
        "WyJ4Il0",
        "eyJ1IjoxfQ",
        "W3sidSI6Im5vcGUifV0",
        "W3sidSI6MX1d",
        "W3sidSI6WzFdfV0",
        "W3sidCI6MX1d",
    ],
)
async def test_bad_cursors_are_a_400(client: httpx.AsyncClient, cursor: str) -> None:
    _, admin = await user_with_token(client, "admin")
    r = await client.get("/api/v1/admin/users", params={"cursor": cursor}, headers=admin)
    assert (r.status_code, err(r)) == (400, "invalid_cursor")


@pytest.mark.parametrize("limit", [0, -1, 101, "x"])
async def test_bad_limits_are_a_422(client: httpx.AsyncClient, limit: object) -> None:
    _, admin = await user_with_token(client, "admin")
    r = await client.get("/api/v1/admin/users", params={"limit": limit}, headers=admin)
    assert (r.status_code, err(r)) == (422, "validation_error")
    assert "limit" in r.json()["error"]["fields"]
