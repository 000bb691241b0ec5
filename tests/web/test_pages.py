"""The web shell: pages per role, forms with CSRF, sessions, flash, language, escaping."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import PASSWORD, signup

HTML = {"accept": "text/html"}


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "form has no CSRF token"
    return m.group(1)


async def form_post(client: httpx.AsyncClient, get_path: str, post_path: str, data: dict) -> httpx.Response:
    page = await client.get(get_path, headers=HTML)
    return await client.post(post_path, data={"csrf_token": csrf_of(page.text), **data}, headers=HTML)


async def web_login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await form_post(client, "/login", "/login", {"email": email, "password": password, "next": "/home"})


async def test_landing_for_visitors(client: httpx.AsyncClient) -> None:
    r = await client.get("/", headers=HTML)
    assert r.status_code == 200
    assert "Commerce that grows from content" in r.text
    assert 'href="/signup"' in r.text and 'name="viewport"' in r.text


async def test_signup_page_creates_account_and_logs_in(client: httpx.AsyncClient) -> None:
    r = await form_post(
        client,
        "/signup",
        "/signup",
        {"email": "web@example.com", "handle": "web_user", "password": PASSWORD, "role": "creator"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/home"
    cookie = r.headers.get_list("set-cookie")
    session = next(c for c in cookie if c.startswith("gr_session="))
    assert "HttpOnly" in session and "SameSite=lax" in session.replace("Lax", "lax")
    home = await client.get("/home", headers=HTML)
    assert home.status_code == 200
    assert "Your creator studio is ready" in home.text
    assert "Welcome to Grassroots, @web_user!" in home.text  # flash, shown once
    again = await client.get("/home", headers=HTML)
    assert "Welcome to Grassroots" not in again.text


async def test_signup_page_shows_field_errors_and_keeps_values(client: httpx.AsyncClient) -> None:
    r = await form_post(
        client,
        "/signup",
        "/signup",
        {"email": "bad-email", "handle": "fine_handle", "password": PASSWORD, "role": "consumer"},
    )
    assert r.status_code == 422
    assert "Enter a valid email address." in r.text
    assert 'value="fine_handle"' in r.text and PASSWORD not in r.text


async def test_signup_names_every_mistake_at_once(client: httpx.AsyncClient) -> None:
    r = await form_post(
        client, "/signup", "/signup", {"email": "bad-email", "handle": "x", "password": "short", "role": "creator"}
    )
    assert r.status_code == 422
    for message in ("Enter a valid email address.", "Use 3 to 30 letters", "Use at least 8 characters"):
        assert message in r.text, message
    assert 'value="bad-email"' in r.text


async def test_posting_a_form_without_csrf_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/signup", headers=HTML)  # has the CSRF cookie, but the form lacks the token
    r = await client.post(
        "/signup",
        data={"email": "x@example.com", "handle": "xxx", "password": PASSWORD, "role": "consumer"},
        headers=HTML,
    )
    assert r.status_code == 403 and "csrf_failed" in r.text
    r = await client.post("/signup", data={"csrf_token": "forged", "email": "x@example.com"}, headers=HTML)
    assert r.status_code == 403


def utf7_form(fields: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """A multipart form whose parts are declared UTF-7: ``+2AA-`` decodes to a lone surrogate."""
    parts = b"".join(
        b'--b\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (k.encode(), v.encode())
        for k, v in fields.items()
    )
    return parts + b"--b--\r\n", {**HTML, "content-type": "multipart/form-data; boundary=b; charset=utf-7"}


async def test_a_form_field_that_decodes_to_no_text_is_refused_not_a_crash(client: httpx.AsyncClient) -> None:
    body, headers = utf7_form({"csrf_token": "+2AA-"})
    r = await client.post("/login", content=body, headers=headers)
    assert r.status_code == 400 and "invalid_characters" in r.text
    page = await client.get("/login", headers=HTML)
    body, headers = utf7_form({"csrf_token": csrf_of(page.text), "email": "+2AA-@example.com", "password": "x"})
    r = await client.post("/login", content=body, headers=headers)
    assert r.status_code == 400 and "invalid_characters" in r.text


async def test_no_form_route_crashes_on_a_field_that_decodes_to_no_text(client: httpx.AsyncClient) -> None:
    from fastapi.routing import APIRoute

    from grassroots.app import iter_routes

    app = client._transport.app  # type: ignore[attr-defined]
    posts = [
        r.path
        for r in iter_routes(app)
        if isinstance(r.original_route, APIRoute)
        and "POST" in (r.original_route.methods or ())
        and r.path
        and not r.path.startswith("/api/")
    ]
    assert len(posts) > 30
    body, headers = utf7_form({"csrf_token": "+2AA-", "body": "+2AA-"})
    for path in posts:
        url = re.sub(r"\{[^}]+\}", "0190c0de-0000-7000-8000-000000000000", path)
        r = await client.post(url, content=body, headers=headers)
        assert r.status_code < 500, (path, r.status_code)


@pytest.mark.parametrize(
    ("role", "text"),
    [
        ("consumer", "Your feed is ready"),
        ("creator", "Your creator studio is ready"),
        ("supplier", "Your supplier console is ready"),
        ("mcn", "Your agency desk is ready"),
    ],
)
async def test_each_role_has_its_own_home(client: httpx.AsyncClient, role: str, text: str) -> None:
    user = await signup(client, role)
    r = await web_login(client, user["email"])
    assert r.status_code == 303 and r.headers["location"] == "/home"
    home = await client.get("/home", headers=HTML)
    assert text in home.text
    assert 'href="/admin/users"' not in home.text  # operator navigation only for operators
    assert f"@{user['handle']}" in home.text


async def test_admin_home_and_nav(client: httpx.AsyncClient) -> None:
    from tests.conftest import make_admin

    admin = await make_admin(client)
    await web_login(client, admin["email"])
    home = await client.get("/home", headers=HTML)
    assert "Operate the platform" in home.text
    assert 'href="/admin/users"' in home.text and 'href="/admin/test-clock"' in home.text
    users = await client.get("/admin/users", headers=HTML)
    assert users.status_code == 200 and admin["email"] in users.text
    clock = await client.get("/admin/test-clock", headers=HTML)
    r = await client.post(
        "/admin/test-clock", data={"csrf_token": csrf_of(clock.text), "seconds": "86400"}, headers=HTML
    )
    assert r.status_code == 303
    offset = lambda page: re.search(r'data-testid="clock-offset">([^<]*)<', page.text).group(1)  # noqa: E731
    assert offset(await client.get("/admin/test-clock", headers=HTML)) == "1 day"
    r = await client.post(
        "/admin/test-clock", data={"csrf_token": csrf_of(clock.text), "seconds": str(86400 + 7200 + 61)}, headers=HTML
    )
    assert offset(await client.get("/admin/test-clock", headers=HTML)) == "2 days, 2 hours, 1 minute, 1 second"
    zh = await client.get("/admin/test-clock", headers={**HTML, "Accept-Language": "zh-CN"})
    assert offset(zh) == "2 天，2 小时，1 分钟，1 秒"
    # platform time in the time zone every other page uses, named
    from datetime import datetime
    from zoneinfo import ZoneInfo

    platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    local = platform.clock.now().astimezone(ZoneInfo(platform.settings.display_timezone))
    shown = re.search(r'data-testid="clock-now">([^<]*)<', zh.text).group(1)  # type: ignore[union-attr]
    gap = datetime.strptime(shown.strip(), "%Y-%m-%d %H:%M:%S") - local.replace(tzinfo=None)
    assert abs(gap.total_seconds()) < 60
    assert platform.settings.display_timezone in zh.text


async def test_pages_need_login_and_the_right_role(client: httpx.AsyncClient) -> None:
    r = await client.get("/home", headers=HTML)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/home"
    user = await signup(client)
    await web_login(client, user["email"])
    r = await client.get("/admin/users", headers=HTML)
    assert r.status_code == 403 and "cannot open this page" in r.text


async def test_login_page_errors_and_next(client: httpx.AsyncClient) -> None:
    user = await signup(client)
    r = await form_post(client, "/login", "/login", {"email": user["email"], "password": "wrong-pass"})
    assert r.status_code == 401 and "Wrong email or password." in r.text
    r = await form_post(
        client, "/login?next=/account", "/login", {"email": user["email"], "password": PASSWORD, "next": "/account"}
    )
    assert r.headers["location"] == "/account"
    assert (await client.get("/login?next=/account", headers=HTML)).headers["location"] == "/account"
    client.cookies.delete("gr_session")
    r = await form_post(
        client, "/login", "/login", {"email": user["email"], "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert r.headers["location"] == "/home"


async def test_logout_clears_the_session(client: httpx.AsyncClient) -> None:
    user = await signup(client)
    await web_login(client, user["email"])
    home = await client.get("/home", headers=HTML)
    r = await client.post("/logout", data={"csrf_token": csrf_of(home.text)}, headers=HTML)
    assert r.status_code == 303
    assert (await client.get("/home", headers=HTML)).status_code == 303
    assert "You are logged out." in (await client.get("/", headers=HTML)).text


async def test_log_out_everywhere_revokes_old_cookies(client: httpx.AsyncClient) -> None:
    user = await signup(client)
    await web_login(client, user["email"])
    stolen = client.cookies.get("gr_session")
    account = await client.get("/account", headers=HTML)
    assert user["email"] in account.text
    await client.post("/account/revoke-sessions", data={"csrf_token": csrf_of(account.text)}, headers=HTML)
    client.cookies.set("gr_session", stolen)
    assert (await client.get("/home", headers=HTML)).status_code == 303


async def test_cookie_sessions_need_the_csrf_header_on_api_writes(client: httpx.AsyncClient) -> None:
    user = await signup(client)
    await web_login(client, user["email"])
    assert (await client.get("/api/v1/me")).json()["email"] == user["email"]  # reads are fine
    r = await client.post("/api/v1/me/revoke-sessions")
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    for bad in (client.cookies["gr_csrf"], "é", "x" * 500):  # the raw nonce is not the token
        r = await client.post("/api/v1/me/revoke-sessions", headers={"x-csrf-token": bad.encode()})
        assert r.status_code == 403, bad
    page = await client.get("/home", headers=HTML)
    token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
    assert token
    r = await client.post("/api/v1/me/revoke-sessions", headers={"x-csrf-token": token.group(1)})
    assert r.status_code == 204


async def test_csrf_tokens_are_bound_to_the_session(client: httpx.AsyncClient) -> None:
    anonymous_form = await client.get("/login", headers=HTML)
    anonymous_token = csrf_of(anonymous_form.text)
    user = await signup(client)
    await web_login(client, user["email"])
    # a token minted before logging in does not work for the logged-in session
    r = await client.post("/logout", data={"csrf_token": anonymous_token}, headers=HTML)
    assert r.status_code == 403
    # a planted nonce cookie without the server secret cannot produce a valid token
    client.cookies.set("gr_csrf", "attacker-chosen")
    r = await client.post("/logout", data={"csrf_token": "attacker-chosen"}, headers=HTML)
    assert r.status_code == 403


async def test_over_https_a_planted_nonce_cannot_log_a_browser_in(client: httpx.AsyncClient) -> None:
    """Before login the token binds only the nonce: one planted from a sibling subdomain or a
    plain-http page, with the attacker's own token, would log the victim into the attacker's
    account. Over HTTPS the nonce is a ``__Host-`` cookie, which neither can set."""
    attacker = await signup(client)
    secure = httpx.AsyncClient(transport=client._transport, base_url="https://testserver")
    page = await secure.get("/login", headers=HTML)
    assert "__Host-gr_csrf" in page.headers["set-cookie"] and "Secure" in page.headers["set-cookie"]
    nonce, token = secure.cookies["__Host-gr_csrf"], csrf_of(page.text)
    form = {"csrf_token": token, "email": attacker["email"], "password": PASSWORD, "next": "/home"}
    victim = httpx.AsyncClient(transport=client._transport, base_url="https://testserver")
    victim.cookies.set("gr_csrf", nonce)  # what a subdomain or an http page can plant
    assert (await victim.post("/login", data=form, headers=HTML)).status_code == 403
    assert "gr_session" not in victim.cookies
    r = await secure.post("/login", data=form, headers=HTML)  # the attacker's own browser logs in
    assert (r.status_code, r.headers["location"]) == (303, "/home")
    await secure.aclose()
    await victim.aclose()


async def test_a_long_address_still_leads_to_a_login_form(client: httpx.AsyncClient) -> None:
    r = await client.get("/account", params={"x": "y" * 600}, headers=HTML)
    assert (r.status_code, r.headers["location"]) == (303, "/login?next=/account")  # the page, not its query
    assert (await client.get(r.headers["location"], headers=HTML)).status_code == 200
    page = await client.get("/login", params={"next": "/home?" + "y" * 600}, headers=HTML)
    assert page.status_code == 200 and 'name="next" value="/home"' in page.text
    # elsewhere a long way back is kept: a long search's language switch returns to it
    search = "/search?q=" + "%E9%9D%A2" * 80
    r = await client.get("/lang/zh_Hans", params={"next": search})
    assert r.headers["location"] == search


async def test_a_proxys_basic_auth_header_does_not_hide_the_session(client: httpx.AsyncClient) -> None:
    """A staging site behind nginx auth_basic: every request carries "Authorization: Basic"."""
    user = await signup(client)
    await web_login(client, user["email"])
    basic = {**HTML, "Authorization": "Basic dXNlcjpwYXNz"}
    assert (await client.get("/account", headers=basic)).status_code == 200
    r = await client.post("/api/v1/me/revoke-sessions", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "csrf_failed")  # still a cookie's request


async def test_over_https_a_planted_session_is_not_a_session(client: httpx.AsyncClient) -> None:
    """A session cookie planted by a sibling subdomain or a plain-http page would sign the
    browser in as the attacker, its forms working. Over HTTPS it is a ``__Host-`` cookie."""
    attacker = await signup(client)
    own = httpx.AsyncClient(transport=client._transport, base_url="https://testserver")
    page = await own.get("/login", headers=HTML)
    form = {"csrf_token": csrf_of(page.text), "email": attacker["email"], "password": PASSWORD, "next": "/home"}
    r = await own.post("/login", data=form, headers=HTML)
    assert r.status_code == 303 and "__Host-gr_session=" in r.headers["set-cookie"]
    assert "Secure" in r.headers["set-cookie"] and "Path=/" in r.headers["set-cookie"]
    victim = httpx.AsyncClient(transport=client._transport, base_url="https://testserver")
    victim.cookies.set("gr_session", own.cookies["__Host-gr_session"])  # what they can plant
    assert (await victim.get("/account", headers=HTML)).status_code == 303  # not signed in: to the login page
    assert (await own.get("/account", headers=HTML)).status_code == 200
    page = await own.get("/account", headers=HTML)
    out = await own.post("/logout", data={"csrf_token": csrf_of(page.text)}, headers=HTML)
    assert out.status_code == 303 and (await own.get("/account", headers=HTML)).status_code == 303
    await own.aclose()
    await victim.aclose()


@pytest.mark.parametrize("token", ["é", "\x00", "🌱" * 10])
async def test_odd_csrf_values_are_a_403_not_a_500(client: httpx.AsyncClient, token: str) -> None:
    await client.get("/login", headers=HTML)
    r = await client.post("/login", data={"csrf_token": token, "email": "a@example.com"}, headers=HTML)
    assert r.status_code == 403


@pytest.mark.parametrize("cookie", ["abc.é", "é.é", "not-base64!.sig", "e30.0000", "...."])
async def test_bad_flash_cookies_are_ignored(client: httpx.AsyncClient, cookie: str) -> None:
    r = await client.get("/login", headers={**HTML, "cookie": b"gr_flash=" + cookie.encode()})  # type: ignore[dict-item]
    assert r.status_code == 200


async def test_language_from_accept_language_and_switcher(client: httpx.AsyncClient) -> None:
    r = await client.get("/", headers={**HTML, "accept-language": "zh-CN,zh;q=0.9"})
    assert '<html lang="zh-Hans">' in r.text and "从内容里长出来的生意" in r.text
    r = await client.get("/lang/en?next=/login", headers=HTML)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = await client.get("/login", headers={**HTML, "accept-language": "zh-CN"})
    assert '<html lang="en">' in r.text  # the switcher's cookie wins
    r = await client.get("/lang/zh_Hans?next=//evil.example", headers=HTML)
    assert r.headers["location"] == "/"


@pytest.mark.parametrize("page", ["/products?q=%E8%8C%B6+tea&category=food", "/search?type=products&q=tea"])
async def test_switching_language_keeps_the_whole_address(client: httpx.AsyncClient, page: str) -> None:
    import html as html_lib
    import re
    from urllib.parse import parse_qs, urlsplit

    r = await client.get(page, headers=HTML)
    switch = re.search(r'<a href="(/lang/zh_Hans\?next=[^"]+)"', r.text)
    assert switch is not None
    back = await client.get(html_lib.unescape(switch.group(1)), headers=HTML)
    assert back.status_code == 303
    went, asked = urlsplit(back.headers["location"]), urlsplit(page)
    assert (went.path, parse_qs(went.query)) == (asked.path, parse_qs(asked.query))


async def test_user_content_is_escaped(client: httpx.AsyncClient) -> None:
    r = await form_post(
        client,
        "/signup",
        "/signup",
        {
            "email": '"><script>alert(1)</script>',
            "handle": "<img src=x onerror=alert(1)>",
            "password": PASSWORD,
            "role": "consumer",
        },
    )
    assert "<script>alert(1)</script>" not in r.text
    assert "<img src=x onerror" not in r.text
    assert "&lt;script&gt;" in r.text or "&#34;&gt;&lt;script&gt;" in r.text


async def test_html_404_page(client: httpx.AsyncClient) -> None:
    r = await client.get("/no/such/page", headers={**HTML, "accept-language": "zh-CN"})
    assert r.status_code == 404 and "页面不存在" in r.text
    assert "错误代码：<code>not_found</code>" in r.text  # a Chinese colon, inside the sentence


async def test_a_mistyped_page_address_is_not_found_not_a_form_to_fix(client: httpx.AsyncClient) -> None:
    for path in ("/posts/01a21929-5bda-7375-85f7-cdf44f06fab", "/products/xyz", "/u/xyz", "/comments/1"):
        r = await client.get(path, headers=HTML)
        assert r.status_code == 404 and "validation_error" not in r.text, path
    r = await client.get("/api/v1/products/xyz")  # the API still names the field
    assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error")


async def test_signed_in_pages_are_not_kept_by_the_browser(client: httpx.AsyncClient) -> None:
    assert "no-store" not in (await client.get("/products", headers=HTML)).headers.get("cache-control", "")
    user = await signup(client, "consumer")
    assert (await web_login(client, user["email"])).status_code == 303
    for path in ("/orders", "/products", "/account"):
        r = await client.get(path, headers=HTML)
        assert r.headers["cache-control"] == "no-store, private", path


async def test_pages_answer_head_like_get_without_a_body(client: httpx.AsyncClient) -> None:
    get, head = await client.get("/products", headers=HTML), await client.head("/products", headers=HTML)
    assert (head.status_code, head.content, head.headers["content-type"]) == (200, b"", get.headers["content-type"])
    assert (await client.head("/no/such/page", headers=HTML)).status_code == 404
    assert (await client.head("/api/v1/products")).status_code == 405  # the API is as it was
