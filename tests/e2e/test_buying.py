"""Buying in a real Chromium: a shopper buys from a creator's showcase through the sandbox
pay page; the supplier ships; the shopper confirms and reviews; the creator's earnings show
the commission pending, then available after the return window and settlement."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import Server, base_env, grassroots
from tests.e2e.test_browser import DESKTOP, PHONE, no_horizontal_scroll, shot

pytestmark = pytest.mark.browser


def api_user(server: Server, role: str, handle: str) -> dict[str, Any]:
    email = f"{handle}@example.com"
    r = httpx.post(
        server.url + "/api/v1/auth/signup", json={"email": email, "password": PASSWORD, "handle": handle, "role": role}
    )
    assert r.status_code == 201, r.text
    token = httpx.post(server.url + "/api/v1/auth/token", json={"email": email, "password": PASSWORD}).json()
    return {**r.json(), "headers": {"Authorization": f"Bearer {token['access_token']}"}}


def showcased_product(
    server: Server, supplier: dict[str, Any], creator: dict[str, Any], title: str, category: str, sku: dict[str, Any]
) -> dict[str, Any]:
    """A supplier's product in the pool at 20% commission, picked into the creator's showcase."""
    product = httpx.post(
        server.url + "/api/v1/products",
        headers=supplier["headers"],
        json={"title": title, "category": category, "commission_bps": 2000, "skus": [sku]},
    ).json()
    added = httpx.post(server.url + "/api/v1/showcase", headers=creator["headers"], json={"product_id": product["id"]})
    assert added.status_code == 201, added.text
    return product


def log_in(browser: Any, server: Server, email: str, viewport: dict[str, int] = PHONE) -> Any:
    context = browser.new_context(viewport=viewport, locale="en-US")
    page = context.new_page()
    page.goto(server.url + "/login")
    page.get_by_label("Email", exact=True).fill(email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/home")
    return page


def test_buy_from_a_showcase_ship_review_and_settle(browser: Any, embedded_server: Server, embedded_data: Any) -> None:
    server = embedded_server
    supplier = api_user(server, "supplier", "tea_house")
    creator = api_user(server, "creator", "lin_tea")
    api_user(server, "consumer", "mei_buys")
    r = grassroots(
        ["create-admin", "--email", "ops2@example.com", "--password", PASSWORD, "--handle", "ops_two"],
        base_env(embedded_data / "data"),
    )
    assert r.returncode == 0, r.stderr
    product = showcased_product(
        server,
        supplier,
        creator,
        "西湖龙井 Longjing tea",
        "home",
        {"name": "250 g tin", "price_minor": 9999, "currency": "CNY", "stock": 10},
    )

    # the shopper buys from the creator's showcase
    page = log_in(browser, server, "mei_buys@example.com")
    page.goto(f"{server.url}/creators/{creator['id']}/showcase")
    assert page.get_by_role("heading", name="@lin_tea").is_visible()
    no_horizontal_scroll(page)
    shot(page, "showcase-phone")
    page.get_by_test_id("product-card").first.click()
    page.wait_for_url(re.compile(r".*/products/.*\?creator=.*"))
    no_horizontal_scroll(page)
    shot(page, "product-phone")
    page.get_by_role("button", name="Buy now").click()
    page.wait_for_url("**/checkout**")
    page.get_by_label("Recipient").fill("林美")
    page.get_by_label("Phone").fill("+86 138 0000 0000")
    page.get_by_label("Address").fill("文三路 90 号")
    page.get_by_label("City").fill("杭州")
    assert "99.99" in page.get_by_test_id("checkout-total").inner_text()
    shot(page, "checkout-phone")
    page.get_by_role("button", name="Place order and pay").click()
    page.wait_for_url("**/sandbox/payments/**")
    assert "99.99" in page.get_by_test_id("sandbox-amount").inner_text()
    shot(page, "sandbox-pay-phone")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url("**/orders/**")
    page.get_by_test_id("status").filter(has_text="Paid").wait_for(timeout=15_000)
    order_url = page.url.split("?")[0]
    shot(page, "order-paid-phone")

    # the supplier ships
    supplier_page = log_in(browser, server, "tea_house@example.com", DESKTOP)
    supplier_page.goto(server.url + "/supplier/orders")
    card = supplier_page.get_by_test_id("supplier-order").first
    card.get_by_label("Carrier").fill("SF Express")
    card.get_by_label("Tracking number").fill("SF1234567890")
    shot(supplier_page, "supplier-orders-desktop")
    card.get_by_role("button", name="Ship").click()
    assert supplier_page.get_by_text("Marked as shipped.").is_visible()

    # the shopper confirms receipt and reviews
    page.goto(order_url)
    page.get_by_role("button", name="Confirm receipt").click()
    page.get_by_test_id("status").filter(has_text="Received").wait_for()
    page.locator("input[name=rating][value='5']").check()
    page.get_by_label("What did you think?").fill("香气很正 <script>alert(1)</script>")
    page.get_by_role("button", name="Post review").click()
    assert page.get_by_text("Thanks for your review.").is_visible()
    page.goto(f"{server.url}/products/{product['id']}")
    reviews = page.get_by_test_id("reviews")
    assert "1 verified review\n" in reviews.inner_text() and "<script>alert(1)</script>" in reviews.inner_text()

    # the creator sees the commission pending: 20% of ¥99.99 is ¥20.00 (rounded to the fen)
    creator_page = log_in(browser, server, "lin_tea@example.com")
    creator_page.goto(server.url + "/earnings")
    assert "20.00" in creator_page.get_by_test_id("pending").inner_text()
    assert "0.00" in creator_page.get_by_test_id("available").inner_text()
    no_horizontal_scroll(creator_page)
    shot(creator_page, "earnings-pending-phone")

    # eight days later the operator settles; the commission becomes available
    admin_token = httpx.post(
        server.url + "/api/v1/auth/token", json={"email": "ops2@example.com", "password": PASSWORD}
    ).json()["access_token"]
    moved = httpx.post(
        server.url + "/api/v1/admin/test-clock",
        json={"advance_seconds": 8 * 86400},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    assert moved.status_code == 200
    admin_page = log_in(browser, server, "ops2@example.com", DESKTOP)
    admin_page.goto(server.url + "/admin/ledger")
    admin_page.get_by_role("button", name="Run settlement now").click()
    assert admin_page.get_by_text(re.compile(r"Settled [1-9]\d* orders?\.")).is_visible()
    assert "0.00" in admin_page.get_by_test_id("total-CNY").inner_text()
    shot(admin_page, "trial-balance-desktop")
    creator_page.reload()
    assert "20.00" in creator_page.get_by_test_id("available").inner_text()
    assert "0.00" in creator_page.get_by_test_id("pending").inner_text()
    shot(creator_page, "earnings-available-phone")
