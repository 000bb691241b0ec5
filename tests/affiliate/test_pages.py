"""The creator's affiliate pool page, over HTTP."""

from __future__ import annotations

import html
import re

import httpx

from tests.commerce.test_regressions import browser_for
from tests.conftest import actor, make_product
from tests.web.test_pages import HTML, csrf_of


async def test_adding_from_the_second_page_of_the_pool_returns_to_it(client: httpx.AsyncClient) -> None:
    supplier, creator = await actor(client, "supplier"), await actor(client, "creator")
    for i in range(21):
        await make_product(client, supplier, title=f"Cup {i}", commission_bps=1000 + i * 10)
    c = await browser_for(client, creator)
    first = await c.get("/affiliate/pool", headers=HTML)
    href = re.search(r'<div class="pager"><a [^>]*href="([^"]+)"', first.text)
    assert href
    second_url = html.unescape(href.group(1))
    second = await c.get(second_url, headers=HTML)
    product_id = re.search(r'name="product_id" value="([^"]+)"', second.text)
    back = re.search(r'name="next" value="([^"]+)"', second.text)
    assert product_id and back and html.unescape(back.group(1)) == second_url
    r = await c.post(
        "/showcase/add",
        data={"csrf_token": csrf_of(second.text), "product_id": product_id.group(1), "next": second_url},
        headers=HTML,
    )
    assert r.status_code == 303 and r.headers["location"] == second_url
    await c.aclose()


async def test_a_creators_own_showcase_pages_past_goods_put_back_in_draft(client: httpx.AsyncClient) -> None:
    supplier, creator = await actor(client, "supplier"), await actor(client, "creator")
    keep = await make_product(client, supplier, title="Still on sale")
    assert (await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": keep["id"]})).is_success
    for i in range(20):  # newer, then put back in draft by their supplier
        p = await make_product(client, supplier, title=f"Withdrawn {i}")
        assert (await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": p["id"]})).is_success
        r = await client.patch(f"/api/v1/products/{p['id']}", headers=supplier.headers, json={"status": "draft"})
        assert r.status_code == 200
    page = await (await browser_for(client, creator)).get("/showcase", headers=HTML)
    assert "Still on sale" in page.text and "Withdrawn" not in page.text
    mine = await client.get(f"/api/v1/creators/{creator.id}/showcase", headers=creator.headers, params={"limit": 5})
    assert [e["product"]["id"] for e in mine.json()["items"]] == [keep["id"]]


async def test_sharing_goods_outside_the_pool_does_not_promise_earnings(client: httpx.AsyncClient) -> None:
    supplier, sharer = await actor(client, "supplier"), await actor(client, "consumer")
    pooled = await make_product(client, supplier, commission_bps=1500)
    own_shop = await make_product(client, supplier, commission_bps=0)
    b = await browser_for(client, sharer)
    assert "Share and earn" in (await b.get(f"/products/{pooled['id']}", headers=HTML)).text
    page = (await b.get(f"/products/{own_shop['id']}", headers=HTML)).text
    assert "Share and earn" not in page and 'data-testid="share"' in page
    for product in (pooled, own_shop):
        r = await client.post("/api/v1/share-links", headers=sharer.headers, json={"product_id": product["id"]})
        assert r.status_code == 201
    links = (await b.get("/me/share-links", headers=HTML)).text
    assert links.count("earns no commission") == 1


async def test_removing_from_the_second_page_of_the_showcase_returns_to_it(client: httpx.AsyncClient) -> None:
    supplier, creator = await actor(client, "supplier"), await actor(client, "creator")
    for i in range(3):
        product = await make_product(client, supplier, title=f"cup {i}")
        await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": product["id"]})
    browser = await browser_for(client, creator)
    first = await browser.get("/showcase?limit=2", headers=HTML)
    more = re.search(r'href="(/showcase\?[^"]*cursor=[^"]+)"', first.text)
    assert more is not None
    second = await browser.get(html.unescape(more.group(1)), headers=HTML)
    pid = re.findall(r'name="product_id" value="([^"]+)"', second.text)[0]
    here = re.findall(r'name="next" value="([^"]+)"', second.text)[0]
    r = await browser.post(
        "/showcase/remove",
        data={"csrf_token": csrf_of(second.text), "product_id": pid, "next": html.unescape(here)},
        headers=HTML,
    )
    assert r.status_code == 303 and "cursor=" in r.headers["location"] and "limit=2" in r.headers["location"]


async def test_a_contracted_creator_is_shown_the_rate_they_keep(client: httpx.AsyncClient) -> None:
    supplier, creator, free, mcn = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "creator"),
        await actor(client, "mcn"),
    )
    product = await make_product(client, supplier, commission_bps=1500)
    for who in (creator, free):
        await client.post("/api/v1/showcase", headers=who.headers, json={"product_id": product["id"]})
    offer = {"creator_id": creator.id, "share_bps": 3000}
    contract = (await client.post("/api/v1/mcn/contracts", headers=mcn.headers, json=offer)).json()
    assert (await client.post(f"/api/v1/mcn/contracts/{contract['id']}/accept", headers=creator.headers)).is_success
    signed, alone = await browser_for(client, creator), await browser_for(client, free)
    for path in ("/affiliate/pool", "/showcase"):
        page = await signed.get(path, headers=HTML)
        assert "Earn 10.5%" in page.text and "Earn 15%" not in page.text, path
        assert "Your MCN takes 30% of your commission" in page.text, path
        page = await alone.get(path, headers=HTML)
        assert "Earn 15%" in page.text and 'data-testid="mcn-note"' not in page.text, path
    assert 'data-testid="mcn-note"' in (await signed.get("/me/share-links", headers=HTML)).text
    # a suspended MCN takes no share (attribution pays the creator all): nor is one shown
    from tests.commerce.test_money import admin_headers

    admin = await admin_headers(client)
    r = await client.post(f"/api/v1/admin/users/{mcn.id}/suspend", headers=admin, json={"reason": "fraud"})
    assert r.is_success
    page = await signed.get("/affiliate/pool", headers=HTML)
    assert "Earn 15%" in page.text and 'data-testid="mcn-note"' not in page.text


async def test_a_lowered_commission_shows_the_rate_a_creator_is_still_paid(client: httpx.AsyncClient) -> None:
    """For 30 days a creator who showcased goods before their commission was lowered is paid
    the old rate: their pages say so, while a newcomer is shown the new one."""
    from tests.conftest import advance

    supplier = await actor(client, "supplier")
    early, late = await actor(client, "creator"), await actor(client, "creator")
    product = await make_product(client, supplier, commission_bps=3000)
    assert (await client.post("/api/v1/showcase", headers=early.headers, json={"product_id": product["id"]})).is_success
    link = await client.post("/api/v1/share-links", headers=early.headers, json={"product_id": product["id"]})
    assert link.is_success, link.text
    await advance(client, 60)
    r = await client.patch(f"/api/v1/products/{product['id']}", headers=supplier.headers, json={"commission_bps": 1000})
    assert r.is_success
    assert (await client.post("/api/v1/showcase", headers=late.headers, json={"product_id": product["id"]})).is_success
    kept, newcomer = await browser_for(client, early), await browser_for(client, late)
    for path in ("/affiliate/pool", "/showcase", "/studio/new"):
        page = await kept.get(path, headers=HTML)
        assert "Earn 30%" in page.text and "Earn 10%" not in page.text, path
        page = await newcomer.get(path, headers=HTML)
        assert "Earn 10%" in page.text and "Earn 30%" not in page.text, path
    r = await client.patch(f"/api/v1/products/{product['id']}", headers=supplier.headers, json={"commission_bps": 0})
    assert r.is_success  # out of the pool, yet the early creator's link still pays 30% for now
    assert "earns no commission" not in (await kept.get("/me/share-links", headers=HTML)).text
