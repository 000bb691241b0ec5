"""The web shell in a real Chromium: sign up, log in, each role's home, log out, on a
phone-sized and a desktop-sized screen, in English and Chinese."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import ARTIFACTS, Server

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
SHOTS = ARTIFACTS / "screenshots"


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/home")


def no_horizontal_scroll(page: Any) -> None:
    # The screen's width, not window.innerWidth: a phone's browser widens its layout to fit
    # what overflows, and innerWidth with it.
    width = page.evaluate("document.documentElement.scrollWidth")
    viewport = page.viewport_size["width"]
    assert width <= viewport, f"page is {width}px wide on a {viewport}px screen"


def test_sign_up_log_in_role_home_log_out(browser: Any, embedded_server: Server) -> None:
    context = browser.new_context(viewport=PHONE, locale="en-US", device_scale_factor=2, is_mobile=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(embedded_server.url + "/")
    assert page.title().startswith("Commerce that grows from content")
    no_horizontal_scroll(page)
    shot(page, "landing-phone")

    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Email", exact=True).fill("lin@example.com")
    page.get_by_label("Handle", exact=True).fill("lin_creates")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.locator("input[name=role][value=creator]").check()
    shot(page, "signup-phone")
    page.get_by_role("button", name="Sign up").click()

    page.wait_for_url("**/home")
    assert page.get_by_text("Your creator studio is ready").is_visible()
    assert page.get_by_test_id("role-badge").inner_text() == "Creator"
    assert page.get_by_role("status").inner_text().startswith("Welcome to Grassroots")
    no_horizontal_scroll(page)
    shot(page, "home-creator-phone")

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(embedded_server.url + "/")
    assert page.get_by_text("You are logged out.").is_visible()

    page.goto(embedded_server.url + "/home")  # protected: goes to the login page and back
    page.wait_for_url("**/login?next=/home")
    page.get_by_label("Email", exact=True).fill("lin@example.com")
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong email or password."
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/home")
    assert page.get_by_text("Your creator studio is ready").is_visible()
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(embedded_server.url + "/")
    assert errors == []
    context.close()


@pytest.mark.parametrize(
    ("role", "text"),
    [
        ("consumer", "Your feed is ready"),
        ("supplier", "Your supplier console is ready"),
        ("mcn", "Your agency desk is ready"),
    ],
)
def test_each_role_sees_its_home_on_phone_and_desktop(
    browser: Any, embedded_server: Server, role: str, text: str
) -> None:
    email = f"{role}@example.com"
    r = httpx.post(
        embedded_server.url + "/api/v1/auth/signup",
        json={"email": email, "password": PASSWORD, "handle": f"{role}_demo", "role": role},
    )
    assert r.status_code == 201
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(viewport=viewport, locale="en-US")
        page = context.new_page()
        page.goto(embedded_server.url + "/login")
        page.get_by_label("Email", exact=True).fill(email)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/home")
        assert page.get_by_text(text).is_visible()
        no_horizontal_scroll(page)
        shot(page, f"home-{role}-{name}")
        context.close()


def test_operator_pages_in_chinese(browser: Any, embedded_server: Server, embedded_data: Any) -> None:
    from tests.e2e.conftest import base_env, grassroots

    env = base_env(embedded_data / "data")
    r = grassroots(["create-admin", "--email", "ops@example.com", "--password", PASSWORD, "--handle", "ops_desk"], env)
    assert r.returncode == 0, r.stderr
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    page.goto(embedded_server.url + "/")
    assert page.locator("html").get_attribute("lang") == "zh-Hans"
    assert page.get_by_role("heading", name="从内容里长出来的生意").is_visible()
    shot(page, "landing-phone-zh")
    page.get_by_role("link", name="登录").first.click()
    page.get_by_label("邮箱", exact=True).fill("ops@example.com")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/home")
    assert page.get_by_text("运营平台").is_visible()
    page.get_by_role("navigation").get_by_role("link", name="测试时钟").click()
    page.get_by_role("button", name="+ 8 天").click()
    assert page.get_by_test_id("clock-offset").inner_text().startswith("8 天")
    no_horizontal_scroll(page)
    shot(page, "test-clock-phone-zh")
    page.get_by_role("navigation").get_by_role("link", name="用户").click()
    assert page.get_by_text("ops@example.com").is_visible()
    shot(page, "admin-users-phone-zh")
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Users").is_visible()
    context.close()


def test_api_docs_render_without_a_cdn(browser: Any, embedded_server: Server) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    outside: list[str] = []
    essential = {"document", "script", "stylesheet", "fetch", "xhr"}

    def record(r: Any) -> None:
        if r.resource_type in essential and not r.url.startswith((embedded_server.url, "blob:", "data:")):
            outside.append(r.url)

    page.on("request", record)
    page.goto(embedded_server.url + "/docs")
    page.get_by_text("/api/v1/auth/signup").first.wait_for(timeout=15000)
    shot(page, "api-docs-desktop")
    page.goto(embedded_server.url + "/redoc")
    page.get_by_role("heading", name="Grassroots (0.1.0)").wait_for(timeout=15000)
    assert outside == []  # code and styles all come from our server
    context.close()


def test_a_long_unbroken_title_wraps_on_a_phone(browser: Any, embedded_server: Server) -> None:
    """A title of 100 letters with no space (or a URL) must not make the page scroll sideways."""
    title = "W" * 100
    with httpx.Client(base_url=embedded_server.url) as c:
        tokens = []
        for n, role in enumerate(("creator", "consumer", "supplier")):
            email = f"wide{n}@example.com"
            body = {"email": email, "password": PASSWORD, "handle": f"wide_{n}", "role": role}
            assert c.post("/api/v1/auth/signup", json=body).status_code == 201
            token = c.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD}).json()["access_token"]
            tokens.append({"Authorization": f"Bearer {token}"})
        post = c.post("/api/v1/posts", headers=tokens[0], json={"kind": "note", "title": title}).json()
        comment = {"body": "https://example.com/" + "x" * 200}
        assert c.post(f"/api/v1/posts/{post['id']}/comments", headers=tokens[1], json=comment).status_code == 201
        sku = {"name": "S" * 100, "price_minor": 100, "currency": "CNY", "stock": 1}
        product = {"title": "T" * 200, "category": "home", "commission_bps": 1000, "skus": [sku]}
        made = c.post("/api/v1/products", headers=tokens[2], json=product)
        assert made.status_code == 201, made.text
    # Not is_mobile: a phone's browser widens its layout viewport to fit what overflows, and
    # then nothing seems to; a 390 px window shows the overflow as it is.
    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    page.goto(embedded_server.url + f"/posts/{post['id']}")
    no_horizontal_scroll(page)
    shot(page, "long-title-post-phone")
    log_in(page, embedded_server.url, "wide0@example.com")
    page.goto(embedded_server.url + "/notifications")
    page.wait_for_selector("[data-testid=notification]")
    no_horizontal_scroll(page)
    shot(page, "long-title-notifications-phone")
    page.get_by_role("button", name="Log out").click()
    log_in(page, embedded_server.url, "wide2@example.com")
    page.goto(embedded_server.url + f"/supplier/products/{made.json()['id']}")
    no_horizontal_scroll(page)
    shot(page, "long-sku-name-phone")
    page.goto(embedded_server.url + f"/products/{made.json()['id']}")  # the SKU choices a shopper taps
    no_horizontal_scroll(page)
    shot(page, "long-sku-name-product-phone")
    page.get_by_role("button", name="Log out").click()
    log_in(page, embedded_server.url, "wide0@example.com")
    page.goto(embedded_server.url + "/studio/new")  # the pool's products to tag
    no_horizontal_scroll(page)
    shot(page, "long-title-compose-phone")
    page.goto(embedded_server.url + "/studio")  # the posts table scrolls inside itself, not for a title
    no_horizontal_scroll(page)
    width = page.evaluate("document.querySelector('[data-testid=studio-posts]').getBoundingClientRect().width")
    assert width < 1000, f"the studio table is {width}px wide"
    shot(page, "long-title-studio-phone")
    context.close()


def test_supplier_lists_and_contract_rows_keep_their_text_readable_on_a_phone(
    browser: Any, embedded_server: Server
) -> None:
    """Long unbroken product titles in the supplier's orders and returns, and a contract row
    with a long handle and its buttons: nothing scrolls sideways and the text keeps a width
    a person can read (a flex row can squeeze it to a few letters without any overflow)."""
    base = embedded_server.url
    with httpx.Client(base_url=base) as c:
        who = {}
        for role, handle in (("supplier", "narrow_shop"), ("consumer", "narrow_buyer"), ("creator", "narrow_creator")):
            email = f"{handle}@example.com"
            body = {"email": email, "password": PASSWORD, "handle": handle, "role": role}
            assert c.post("/api/v1/auth/signup", json=body).status_code == 201
            token = c.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD}).json()["access_token"]
            who[role] = {"Authorization": f"Bearer {token}"}
        body = {"email": "m@example.com", "password": PASSWORD, "handle": "M" * 30, "role": "mcn"}
        assert c.post("/api/v1/auth/signup", json=body).status_code == 201
        token = c.post("/api/v1/auth/token", json={"email": "m@example.com", "password": PASSWORD}).json()
        mcn = {"Authorization": f"Bearer {token['access_token']}"}
        creator_id = c.get("/api/v1/me", headers=who["creator"]).json()["id"]
        offer = {"creator_id": creator_id, "share_bps": 1234}
        assert c.post("/api/v1/mcn/contracts", headers=mcn, json=offer).status_code == 201
        sku = {"name": "one", "price_minor": 100, "currency": "CNY", "stock": 5}
        product = {"title": "R" * 120, "category": "home", "commission_bps": 1000, "skus": [sku]}
        made = c.post("/api/v1/products", headers=who["supplier"], json=product).json()
        address = {"name": "Lin", "phone": "13800000000", "line1": "1 Road", "city": "Hangzhou", "country": "CN"}
        orders = []
        for n in range(2):
            body = {"items": [{"sku_id": made["skus"][0]["id"], "quantity": 1}], "shipping_address": address}
            order = c.post("/api/v1/orders", headers={**who["consumer"], "Idempotency-Key": f"narrow{n}"}, json=body)
            pay = c.post(
                f"/api/v1/orders/{order.json()['id']}/pay", headers=who["consumer"], json={"provider": "sandbox"}
            )
            assert c.post(f"/sandbox/payments/{pay.json()['payment_id']}/confirm").status_code == 200
            orders.append(order.json()["id"])
        for _ in range(100):  # the signed webhook arrives asynchronously
            got = [c.get(f"/api/v1/orders/{o}", headers=who["consumer"]).json()["status"] for o in orders]
            if got == ["paid", "paid"]:
                break
            time.sleep(0.05)
        ship = {"carrier": "SF", "tracking_number": "SF1"}
        assert c.post(f"/api/v1/orders/{orders[0]}/ship", headers=who["supplier"], json=ship).status_code == 200
        assert c.post(f"/api/v1/orders/{orders[0]}/receive", headers=who["consumer"]).status_code == 200
        asked = c.post(f"/api/v1/orders/{orders[0]}/returns", headers=who["consumer"], json={"reason": "Too\nbig"})
        assert asked.status_code == 201, asked.text

    def text_width(selector: str) -> float:
        return float(page.evaluate(f"document.querySelector('{selector}').getBoundingClientRect().width"))

    context = browser.new_context(viewport=PHONE, locale="en-US")
    page = context.new_page()
    log_in(page, base, "narrow_shop@example.com")
    for path, name in (("/supplier/orders?status=paid", "orders"), ("/supplier/returns", "returns")):
        page.goto(base + path)
        no_horizontal_scroll(page)
        shot(page, f"long-title-supplier-{name}-phone")
        assert text_width(".card .title") > 200, name
    page.get_by_role("button", name="Log out").click()
    log_in(page, base, "narrow_creator@example.com")
    page.goto(base + "/mcn/contracts")
    no_horizontal_scroll(page)
    shot(page, "contract-offer-phone")
    assert text_width(".line .grow") > 200  # the buttons go under the text, not beside it
    context.close()


def test_a_phone_shows_the_current_tab_and_the_copy_button_answers(browser: Any, embedded_server: Server) -> None:
    """The nav scrolls sideways on a phone: the page's own tab is brought into view. Copying a
    share link says so for a moment. No request fails, not even the browser's icon."""
    base = embedded_server.url
    email = "tabs_creator@example.com"
    with httpx.Client(base_url=base) as c:
        body = {"email": email, "password": PASSWORD, "handle": "tabs_creator", "role": "creator"}
        assert c.post("/api/v1/auth/signup", json=body).status_code == 201
        token = c.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD}).json()["access_token"]
        who = {"Authorization": f"Bearer {token}"}
        sup = {"email": "tabs_shop@example.com", "password": PASSWORD, "handle": "tabs_shop", "role": "supplier"}
        assert c.post("/api/v1/auth/signup", json=sup).status_code == 201
        stoken = c.post("/api/v1/auth/token", json={"email": sup["email"], "password": PASSWORD}).json()
        sku = {"name": "one", "price_minor": 100, "currency": "CNY", "stock": 5}
        product = {"title": "Tab tea", "category": "home", "commission_bps": 1000, "skus": [sku]}
        made = c.post("/api/v1/products", headers={"Authorization": f"Bearer {stoken['access_token']}"}, json=product)
        assert c.post("/api/v1/share-links", headers=who, json={"product_id": made.json()["id"]}).is_success
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    page = context.new_page()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.goto(base + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url("**/home")
    page.goto(base + "/me/share-links")
    tab = page.locator(".nav-inner [aria-current=page]")
    box = tab.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    copy = page.locator("[data-copy]").first
    label = copy.inner_text()
    copy.click()
    page.wait_for_function("b => b.textContent === '已复制'", arg=copy.element_handle())
    shot(page, "share-links-copied-phone")
    page.wait_for_function("([b, l]) => b.textContent === l", arg=[copy.element_handle(), label], timeout=5000)
    assert failed == []
    context.close()
