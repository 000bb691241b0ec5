"""Content commerce in a real Chromium: a shopper scrolls the feed, likes and comments on
a creator's note and buys the product it tags; the creator's studio shows the order and
the pending commission on that post. A second shopper buys through a third user's share
link and the sharer earns. Script payloads in posts and comments stay text."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.e2e.conftest import Server
from tests.e2e.test_browser import DESKTOP, no_horizontal_scroll, shot
from tests.e2e.test_buying import api_user, log_in, showcased_product

pytestmark = pytest.mark.browser

XSS_TITLE = "<script>window.__xss = 1</script>夏日防晒"
XSS_BODY = '<img src=x onerror="window.__xss = 2">真的好用'


def png(color: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (360, 480), color).save(out, "PNG")
    return out.getvalue()


def pay_at_checkout(page: Any) -> None:
    page.get_by_role("button", name="Buy now").click()
    page.wait_for_url("**/checkout**")
    page.get_by_label("Recipient").fill("林美")
    page.get_by_label("Phone").fill("+86 138 0000 0000")
    page.get_by_label("Address").fill("文三路 90 号")
    page.get_by_label("City").fill("杭州")
    page.get_by_role("button", name="Place order and pay").click()
    page.wait_for_url("**/sandbox/payments/**")
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url("**/orders/**")
    page.get_by_test_id("status").filter(has_text="Paid").wait_for(timeout=15_000)


def test_feed_like_comment_buy_from_a_post_and_through_a_share_link(browser: Any, embedded_server: Server) -> None:
    server = embedded_server
    supplier = api_user(server, "supplier", "sun_lab")
    creator = api_user(server, "creator", "xia_notes")
    fan = api_user(server, "consumer", "fan_one")
    for handle in ("sharer_two", "friend_three"):
        api_user(server, "consumer", handle)
    product = showcased_product(
        server,
        supplier,
        creator,
        "清透防晒乳 SPF50 sunscreen",
        "beauty",
        {"name": "50 ml", "price_minor": 12800, "currency": "CNY", "stock": 20},
    )
    media = httpx.post(
        server.url + "/api/v1/media", headers=creator["headers"], files={"file": ("cover.png", png((240, 160, 120)))}
    )
    assert media.status_code == 201, media.text
    post = httpx.post(
        server.url + "/api/v1/posts",
        headers=creator["headers"],
        json={
            "kind": "note",
            "title": "通勤防晒我只用这一支",
            "body": "不油不闷，补涂也方便。",
            "media_ids": [media.json()["id"]],
            "product_ids": [product["id"]],
            "hashtags": ["防晒"],
        },
    ).json()
    for i in range(14):  # enough posts that the feed scrolls
        r = httpx.post(
            server.url + "/api/v1/posts",
            headers=creator["headers"],
            json={"kind": "note", "title": f"日常分享 {i}", "body": "…"},
        )
        assert r.status_code == 201
    xss = httpx.post(
        server.url + "/api/v1/posts",
        headers=creator["headers"],
        json={"kind": "note", "title": XSS_TITLE, "body": XSS_BODY},
    ).json()

    # the shopper scrolls the feed, opens the note, likes and comments
    page = log_in(browser, server, "fan_one@example.com")
    page.goto(server.url + "/feed")
    cards = page.get_by_test_id("post-card")
    assert cards.count() >= 10
    no_horizontal_scroll(page)
    shot(page, "feed-phone")
    for _ in range(6):
        page.mouse.wheel(0, 1500)
        page.wait_for_timeout(200)
    page.wait_for_function("document.querySelectorAll('[data-testid=post-card]').length >= 16")
    page.goto(f"{server.url}/posts/{post['id']}?scene=feed")
    assert page.get_by_test_id("post-heading").inner_text() == "通勤防晒我只用这一支"
    page.get_by_test_id("like").click()
    assert "1" in page.get_by_test_id("like").inner_text()
    assert page.get_by_test_id("like").get_attribute("aria-pressed") == "true"
    page.get_by_label("Add a comment").fill("求链接！<b>bold?</b>")
    page.get_by_test_id("comment-submit").click()
    assert page.get_by_test_id("comment-body").first.inner_text() == "求链接！<b>bold?</b>"
    # A second tap while the first is on its way sends nothing (this page stops both here).
    page.get_by_label("Add a comment").fill("双击也只发一次")
    sent = page.evaluate(
        """() => {
          const form = document.querySelector("[data-testid=comment-submit]").form;
          let sent = 0;
          window.addEventListener("submit", (e) => { if (!e.defaultPrevented) sent++; e.preventDefault(); });
          form.requestSubmit();
          form.requestSubmit();
          return sent;
        }"""
    )
    assert sent == 1
    no_horizontal_scroll(page)
    shot(page, "post-phone")

    # ... and buys the tagged product from the post
    page.get_by_test_id("buy").first.click()
    page.wait_for_url(re.compile(r".*/products/.*post=.*"))
    pay_at_checkout(page)
    order_id = page.url.split("/orders/")[1].split("?")[0]
    order = httpx.get(
        f"{server.url}/api/v1/orders/{order_id}",
        headers=fan["headers"],
    ).json()
    assert order["post_id"] == post["id"] and order["promoter_id"] == creator["id"] and order["scene"] == "feed"

    # the creator's studio shows the order and the pending commission on that post
    studio = log_in(browser, server, "xia_notes@example.com", DESKTOP)
    studio.goto(server.url + "/studio")
    row = studio.locator(f"[data-testid=studio-row][data-post-id='{post['id']}']")
    assert row.get_by_test_id("post-orders").inner_text() == "1"
    assert "25.60" in row.get_by_test_id("post-pending").inner_text()  # 20% of ¥128.00
    shot(studio, "studio-desktop")

    # a third user shares the product; a friend buys through the link; the sharer earns
    sharer = log_in(browser, server, "sharer_two@example.com")
    sharer.goto(f"{server.url}/products/{product['id']}")
    sharer.get_by_test_id("share").click()
    sharer.wait_for_url("**/me/share-links**")
    url = sharer.get_by_test_id("share-url").first.input_value()
    assert re.search(r"/s/[\w-]+$", url)
    shot(sharer, "share-links-phone")
    friend = log_in(browser, server, "friend_three@example.com")
    friend.goto(url)
    friend.wait_for_url(re.compile(r".*/products/.*share=.*"))
    pay_at_checkout(friend)
    sharer.goto(server.url + "/earnings")
    assert "25.60" in sharer.get_by_test_id("pending").inner_text()
    shot(sharer, "sharer-earnings-phone")

    # script payloads in a post and a comment render as text and never run
    httpx.post(
        f"{server.url}/api/v1/posts/{xss['id']}/comments",
        headers=fan["headers"],
        json={"body": '<script>window.__xss = 3</script><svg onload="window.__xss = 4">'},
    )
    page.goto(f"{server.url}/posts/{xss['id']}")
    assert page.get_by_test_id("post-heading").inner_text() == XSS_TITLE
    assert page.get_by_test_id("post-body").inner_text() == XSS_BODY
    assert "<script>window.__xss = 3</script>" in page.get_by_test_id("comment-body").first.inner_text()
    page.goto(f"{server.url}/u/{creator['id']}")
    page.goto(f"{server.url}/search?type=posts&q=夏日防晒")
    assert XSS_TITLE in page.get_by_test_id("post-title").first.inner_text()
    assert page.evaluate("window.__xss") is None
