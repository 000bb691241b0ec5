"""The commerce pages over HTTP: each role's console renders and its forms work."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from grassroots.kernel.platform import Platform
from tests.conftest import ADDRESS, Actor, actor, advance, drain, make_product, pay_order, place_order
from tests.web.test_pages import HTML, csrf_of, web_login


async def browser_for(client: httpx.AsyncClient, who: Actor) -> httpx.AsyncClient:
    from tests.commerce.test_regressions import browser_for as signed_in

    return await signed_in(client, who)


async def as_browser(client: httpx.AsyncClient, who: Actor) -> None:
    client.cookies.clear()
    r = await web_login(client, who.email)
    assert r.status_code == 303


async def test_supplier_lists_a_product_through_the_form(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    await as_browser(client, supplier)
    page = await client.get("/supplier/products/new", headers=HTML)
    assert page.status_code == 200
    form = {
        "csrf_token": csrf_of(page.text),
        "title": "绿茶 Green tea",
        "description": "Fresh",
        "category": "food",
        "commission": "12.5",
        "currency": "CNY",
        "status": "active",
        "sku0_name": "100 g",
        "sku0_price": "68.5",
        "sku0_stock": "30",
        "sku1_name": "",
        "sku1_price": "",
        "sku1_stock": "",
    }
    bad = await client.post("/supplier/products/new", data={**form, "commission": "90"}, headers=HTML)
    assert bad.status_code == 422 and "between 1% and 80%" in bad.text
    bad = await client.post("/supplier/products/new", data={**form, "sku0_price": "0"}, headers=HTML)
    assert bad.status_code == 422 and "price above zero" in bad.text
    r = await client.post("/supplier/products/new", data=form, headers=HTML)
    assert r.status_code == 303
    product_url = r.headers["location"]
    edit = await client.get(product_url, headers=HTML)
    assert "绿茶 Green tea" in edit.text and "12.5" in edit.text
    product_id = product_url.rsplit("/", 1)[1]
    api = (await client.get(f"/api/v1/products/{product_id}")).json()
    assert api["commission_bps"] == 1250 and api["skus"][0]["price_minor"] == 6850
    sku_id = api["skus"][0]["id"]
    from tests.catalog.test_pages import sku_form

    r = await client.post(f"/supplier/skus/{sku_id}", data={**sku_form(edit.text, sku_id), "stock": "7"}, headers=HTML)
    assert r.status_code == 303
    assert (await client.get(f"/api/v1/products/{product_id}")).json()["skus"][0]["stock"] == 7
    listing = await client.get("/supplier/products", headers=HTML)
    assert "绿茶 Green tea" in listing.text


async def test_a_price_changed_since_the_checkout_page_opened_is_told_not_charged(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, price=2500, stock=5)
    sku = product["skus"][0]["id"]
    await as_browser(client, buyer)
    page = await client.get(f"/checkout?sku={sku}&qty=2", headers=HTML)
    form = {
        "csrf_token": csrf_of(page.text),
        "sku": sku,
        "qty": "2",
        **dict(re.findall(r'name="(token|total_shown)" value="([^"]+)"', page.text)),
        "name": "Mei",
        "phone": "13800000000",
        "line1": "1 Road",
        "city": "Hangzhou",
        "country": "CN",
    }
    assert form["total_shown"] == "5000"
    r = await client.patch(f"/api/v1/skus/{sku}", headers=supplier.headers, json={"price_minor": 3000})
    assert r.status_code == 200
    told = await client.post("/checkout", data=form, headers=HTML)
    assert told.status_code == 422 and "The price changed since you opened this page" in told.text
    assert "60.00" in told.text and 'name="total_shown" value="6000"' in told.text and 'value="Mei"' in told.text
    assert (await client.get("/api/v1/orders", headers=buyer.headers)).json()["items"] == []
    again = dict(form, total_shown="6000", csrf_token=csrf_of(told.text))
    r = await client.post("/checkout", data=again, headers=HTML)
    assert r.status_code == 303 and r.headers["location"].startswith("/sandbox/payments/")
    orders = (await client.get("/api/v1/orders", headers=buyer.headers)).json()["items"]
    assert [o["total_minor"] for o in orders] == [6000]


async def test_checkout_page_places_an_order_and_sends_the_buyer_to_the_provider(client: httpx.AsyncClient) -> None:
    supplier, creator, buyer = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier, price=2500, stock=2)
    await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": product["id"]})
    await as_browser(client, buyer)
    sku = product["skus"][0]["id"]
    page = await client.get(f"/checkout?sku={sku}&qty=2&creator={creator.id}", headers=HTML)
    assert page.status_code == 200 and "50.00" in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token
    form = {
        "csrf_token": csrf_of(page.text),
        "sku": sku,
        "qty": "2",
        "creator": creator.id,
        "token": token.group(1),
        "name": "Mei",
        "phone": "13800000000",
        "line1": "1 Road",
        "city": "Hangzhou",
        "country": "CN",
    }
    missing = await client.post("/checkout", data={**form, "phone": ""}, headers=HTML)
    assert missing.status_code == 422 and "phone" in missing.text
    r = await client.post("/checkout", data=form, headers=HTML)
    assert r.status_code == 303 and r.headers["location"].startswith("/sandbox/payments/")
    again = await client.post("/checkout", data=form, headers=HTML)  # a double submit: same order, same checkout
    assert again.headers["location"] == r.headers["location"]
    sold_out = await client.post("/checkout", data={**form, "token": "another"}, headers=HTML)
    assert sold_out.status_code == 303 and sold_out.headers["location"] == f"/products/{product['id']}"
    assert "not enough stock" in (await client.get(sold_out.headers["location"], headers=HTML)).text
    hosted = await client.get(r.headers["location"], headers=HTML)
    assert hosted.status_code == 200 and "50.00" in hosted.text and "Sandbox Pay" in hosted.text
    # the provider's own page: none of the shop's header (it read "Log in" to a signed-in buyer)
    assert 'data-testid="provider-topbar"' in hosted.text and 'href="/login"' not in hosted.text
    orders = (await client.get("/api/v1/orders", headers=buyer.headers)).json()["items"]
    assert len(orders) == 1 and orders[0]["promoter_id"] == creator.id


async def a_paid_order_for_the_suppliers_browser(client: httpx.AsyncClient) -> tuple[Actor, Actor, dict]:
    """The supplier, the buyer and a paid order, with ``client`` signed in as the supplier."""
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, order["id"])
    await as_browser(client, supplier)
    return supplier, buyer, order


async def test_order_pages_for_the_buyer_and_the_supplier(client: httpx.AsyncClient) -> None:
    supplier, buyer, order = await a_paid_order_for_the_suppliers_browser(client)
    page = await client.get("/supplier/orders", headers=HTML)
    assert order["id"] in page.text
    r = await client.post(
        f"/supplier/orders/{order['id']}/ship",
        data={"csrf_token": csrf_of(page.text), "carrier": "SF", "tracking_number": "SF1"},
        headers=HTML,
    )
    assert r.status_code == 303
    await as_browser(client, buyer)
    page = await client.get(f"/orders/{order['id']}", headers=HTML)
    assert "SF1" in page.text and "Confirm receipt" in page.text
    r = await client.post(f"/orders/{order['id']}/receive", data={"csrf_token": csrf_of(page.text)}, headers=HTML)
    page = await client.get(f"/orders/{order['id']}", headers=HTML)
    assert "Return this order" in page.text and 'data-testid="review-form"' in page.text
    r = await client.post(
        f"/orders/{order['id']}/return", data={"csrf_token": csrf_of(page.text), "reason": "too big"}, headers=HTML
    )
    await as_browser(client, supplier)
    returns = await client.get("/supplier/returns", headers=HTML)
    assert "too big" in returns.text
    return_id = re.search(r"/supplier/returns/([0-9a-f-]+)/approve", returns.text)
    assert return_id
    r = await client.post(
        f"/supplier/returns/{return_id.group(1)}/approve",
        data={"csrf_token": csrf_of(returns.text), "restock": "1"},
        headers=HTML,
    )
    assert r.status_code == 303
    await drain(client)
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()["status"] == "refunded"
    other = await actor(client, "consumer")
    await as_browser(client, other)
    assert (await client.get(f"/orders/{order['id']}", headers=HTML)).status_code == 404


async def test_creator_and_mcn_pages(client: httpx.AsyncClient) -> None:
    supplier, creator, mcn = await actor(client, "supplier"), await actor(client, "creator"), await actor(client, "mcn")
    product = await make_product(client, supplier, commission_bps=3000, title="Pool tea")
    await as_browser(client, creator)
    pool = await client.get("/affiliate/pool", headers=HTML)
    assert "Pool tea" in pool.text and "30%" in pool.text
    r = await client.post(
        "/showcase/add",
        data={"csrf_token": csrf_of(pool.text), "product_id": product["id"], "next": "/affiliate/pool"},
        headers=HTML,
    )
    assert r.status_code == 303
    assert "Pool tea" in (await client.get("/showcase", headers=HTML)).text
    assert "Pool tea" in (await client.get(f"/creators/{creator.id}/showcase", headers=HTML)).text
    await as_browser(client, mcn)
    page = await client.get("/mcn/contracts", headers=HTML)
    r = await client.post(
        "/mcn/contracts",
        data={"csrf_token": csrf_of(page.text), "handle": "@" + creator.handle, "share": "25"},
        headers=HTML,
    )
    assert r.status_code == 303
    page = await client.get("/mcn/contracts", headers=HTML)
    assert f"@{creator.handle}" in page.text and "25%" in page.text
    await as_browser(client, creator)
    page = await client.get("/mcn/contracts", headers=HTML)
    contract_id = re.search(r"/mcn/contracts/([0-9a-f-]+)/accept", page.text)
    assert contract_id
    await client.post(
        f"/mcn/contracts/{contract_id.group(1)}/accept", data={"csrf_token": csrf_of(page.text)}, headers=HTML
    )
    contracts = (await client.get("/api/v1/mcn/contracts", headers=creator.headers)).json()["items"]
    assert contracts[0]["status"] == "active" and contracts[0]["share_bps"] == 2500
    earnings = await client.get("/earnings", headers=HTML)
    assert earnings.status_code == 200 and "Nothing earned yet" in earnings.text


async def test_pages_in_chinese_and_for_the_wrong_role(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, title="龙井")
    r = await client.get(f"/products/{product['id']}", headers={**HTML, "accept-language": "zh-CN"})
    assert "立即购买" in r.text and "家居厨房" in r.text
    await as_browser(client, buyer)
    for path in (
        "/supplier/products",
        "/supplier/orders",
        "/affiliate/pool",
        "/mcn/contracts",
        "/admin/ledger",
    ):
        assert (await client.get(path, headers=HTML)).status_code == 403, path
    # Shoppers earn through their share links, so they have an earnings page.
    assert (await client.get("/earnings", headers=HTML)).status_code == 200


async def checkout_form(c: httpx.AsyncClient, sku: str) -> dict[str, str]:
    page = await c.get(f"/checkout?sku={sku}&qty=1", headers=HTML)
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token
    return {"csrf_token": csrf_of(page.text), "sku": sku, "qty": "1", "token": token.group(1), **ADDRESS}


async def received(client: httpx.AsyncClient, supplier: Actor, buyer: Actor, product: dict) -> dict:
    order = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, order["id"])
    ship = {"carrier": "SF", "tracking_number": "SF1"}
    assert (await client.post(f"/api/v1/orders/{order['id']}/ship", headers=supplier.headers, json=ship)).is_success
    assert (await client.post(f"/api/v1/orders/{order['id']}/receive", headers=buyer.headers)).is_success
    return order


async def test_a_declined_checkout_is_not_shown_as_confirming(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    await as_browser(client, buyer)
    placed = await client.post("/checkout", data=await checkout_form(client, product["skus"][0]["id"]), headers=HTML)
    assert placed.status_code == 303
    payment_id = placed.headers["location"].rsplit("/", 1)[1]
    declined = await client.post(f"/sandbox/payments/{payment_id}/decline", headers=HTML)
    (order,) = (await client.get("/api/v1/orders", headers=buyer.headers)).json()["items"]
    assert (declined.status_code, declined.headers["location"]) == (303, f"/orders/{order['id']}?unpaid=1")
    for _ in range(2):  # before the provider's webhook arrives, and after
        page = await client.get(declined.headers["location"], headers=HTML)
        assert 'data-testid="processing"' not in page.text and 'http-equiv="refresh"' not in page.text
        assert "Pay now" in page.text and "The payment did not go through." in page.text
        await drain(client)
    # the failed payment says so on any later visit too
    assert "The payment did not go through." in (await client.get(f"/orders/{order['id']}", headers=HTML)).text


async def test_no_review_form_while_a_return_is_open_and_one_once_refunded(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    order = await received(client, supplier, buyer, await make_product(client, supplier))
    await as_browser(client, buyer)
    assert 'data-testid="review-form"' in (await client.get(f"/orders/{order['id']}", headers=HTML)).text
    await client.post(f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={"reason": "x"})
    assert 'data-testid="review-form"' not in (await client.get(f"/orders/{order['id']}", headers=HTML)).text
    await client.post(f"/api/v1/orders/{order['id']}/refund", headers=supplier.headers, json={"reason": "goodwill"})
    page = await client.get(f"/orders/{order['id']}", headers=HTML)  # received, then refunded: may say why
    assert page.status_code == 200 and 'data-testid="review-form"' in page.text


async def returns_asked(client: httpx.AsyncClient, n: int) -> Actor:
    """A supplier with ``n`` received orders whose buyer asked to return them."""
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=30)
    for _ in range(n):
        order = await received(client, supplier, buyer, product)
        await client.post(f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={"reason": "x"})
    return supplier


async def test_the_supplier_reaches_every_return_page_by_page(client: httpx.AsyncClient) -> None:
    supplier = await returns_asked(client, 21)
    await as_browser(client, supplier)
    page = await client.get("/supplier/returns", headers=HTML)
    assert page.text.count('data-testid="return"') == 20
    href = re.search(r'<div class="pager"><a [^>]*href="([^"]+)"', page.text)
    assert href
    following = await client.get(href.group(1).replace("&amp;", "&"), headers=HTML)
    assert following.text.count('data-testid="return"') == 1


async def test_a_product_taken_off_sale_mid_checkout_says_so(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    await as_browser(client, buyer)
    form = await checkout_form(client, product["skus"][0]["id"])
    await client.patch(f"/api/v1/products/{product['id']}", headers=supplier.headers, json={"status": "archived"})
    r = await client.post("/checkout", data=form, headers=HTML)
    assert r.status_code == 303 and r.headers["location"] == "/products"
    landing = await client.get("/products", headers=HTML)
    assert "This product is no longer on sale." in landing.text


async def test_chinese_pages_translate_what_went_wrong(client: httpx.AsyncClient) -> None:
    buyer = await actor(client, "consumer")
    await as_browser(client, buyer)
    zh = {**HTML, "accept-language": "zh-CN"}
    page = await client.get("/orders/01a20000-0000-7000-8000-000000000000", headers=zh)
    assert page.status_code == 404 and "没有这个订单。" in page.text and "No such order." not in page.text


async def test_the_product_page_pages_through_every_review_keeping_the_source(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=20)
    for n in range(11):
        order = await received(client, supplier, buyer, product)
        r = await client.post(
            f"/api/v1/orders/{order['id']}/reviews", headers=buyer.headers, json={"rating": 5, "body": f"review {n}"}
        )
        assert r.status_code == 201
    creator = await actor(client, "creator")
    first = await client.get(f"/products/{product['id']}?creator={creator.id}", headers=HTML)
    assert first.text.count("review ") == 10 and "review 10" in first.text and "review 0<" not in first.text
    more = re.search(r'href="([^"]+)" data-testid="more-reviews"', first.text)
    assert more is not None
    link = more.group(1).replace("&amp;", "&")
    assert f"creator={creator.id}" in link
    second = await client.get(link, headers=HTML)
    assert second.status_code == 200 and "review 0<" in second.text and second.text.count("review ") == 1
    assert 'data-testid="more-reviews"' not in second.text
    bad = await client.get(f"/products/{product['id']}?reviews_cursor=nonsense", headers=HTML)
    assert bad.status_code == 400


async def test_a_refused_contract_offer_keeps_what_the_mcn_typed(client: httpx.AsyncClient) -> None:
    mcn, creator = await actor(client, "mcn"), await actor(client, "creator")
    await as_browser(client, mcn)
    page = await client.get("/mcn/contracts", headers=HTML)
    form = {"csrf_token": csrf_of(page.text), "handle": "@" + creator.handle, "share": "95"}
    r = await client.post("/mcn/contracts", data=form, headers=HTML)
    assert r.status_code == 303
    back = await client.get(r.headers["location"], headers=HTML)
    assert "between 0.01% and 90%" in back.text
    assert f'value="@{creator.handle}"' in back.text and 'value="95"' in back.text
    r = await client.post("/mcn/contracts", data={**form, "share": "20"}, headers=HTML)
    assert r.headers["location"] == "/mcn/contracts"
    assert (await client.get("/api/v1/mcn/contracts", headers=mcn.headers)).json()["items"][0]["share_bps"] == 2000


async def test_the_order_page_tells_a_failed_refund_and_what_an_order_allows(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, title="Spring tea tin")
    order = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, order["id"], fail_refunds=True)
    await as_browser(client, supplier)
    page = await client.get(f"/orders/{order['id']}", headers=HTML)
    assert "Ship it from your orders" in page.text and "preparing your parcel" not in page.text
    r = await client.post(f"/api/v1/orders/{order['id']}/refund", headers=supplier.headers, json={"reason": "oos"})
    assert r.is_success, r.text
    await drain(client)
    await as_browser(client, buyer)
    page = await client.get(f"/orders/{order['id']}", headers=HTML)
    assert 'data-testid="refund-failed"' in page.text and "The money goes back" not in page.text
    # taken off sale: the item is no longer a link to a page that would answer 404
    assert f'href="/products/{product["id"]}"' in page.text
    await client.patch(f"/api/v1/products/{product['id']}", headers=supplier.headers, json={"status": "archived"})
    page = await client.get(f"/orders/{order['id']}", headers=HTML)
    assert f'href="/products/{product["id"]}"' not in page.text and "Spring tea tin" in page.text


async def test_a_perishable_order_promises_no_return_window(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    order = await received(client, supplier, buyer, await make_product(client, supplier, category="food"))
    await as_browser(client, buyer)
    page = await client.get(f"/orders/{order['id']}", headers=HTML)
    assert "No-reason returns until" not in page.text and "Return this order" not in page.text
    order = await received(client, supplier, buyer, await make_product(client, supplier))
    page = await client.get(f"/orders/{order['id']}", headers=HTML)
    assert "No-reason returns until" in page.text


async def test_the_return_window_is_promised_only_while_a_return_can_be_asked_for(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    asked, rejected, late = [await received(client, supplier, buyer, product) for _ in range(3)]
    for order in (asked, rejected):
        r = await client.post(f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={})
        assert r.status_code == 201, r.text
    ret = (await client.get("/api/v1/returns", headers=supplier.headers)).json()["items"]
    mine = next(x for x in ret if x["order_id"] == rejected["id"])
    r = await client.post(f"/api/v1/returns/{mine['id']}/reject", headers=supplier.headers, json={"note": "worn"})
    assert r.status_code == 200, r.text
    await as_browser(client, buyer)
    for order in (asked, rejected):
        page = await client.get(f"/orders/{order['id']}", headers=HTML)
        assert 'data-testid="return-window"' not in page.text and "Return this order" not in page.text
    assert 'data-testid="return-window"' in (await client.get(f"/orders/{late['id']}", headers=HTML)).text
    await advance(client, 7 * 86400 + 60)  # the window has closed; settlement has not run yet
    page = await client.get(f"/orders/{late['id']}", headers=HTML)
    assert 'data-testid="return-window"' not in page.text and "Return this order" not in page.text


async def test_a_page_return_without_a_reason_reads_in_the_suppliers_language(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    order = await received(client, supplier, buyer, await make_product(client, supplier))
    await as_browser(client, buyer)
    page = await client.get(f"/orders/{order['id']}", headers=HTML)
    r = await client.post(
        f"/orders/{order['id']}/return", data={"csrf_token": csrf_of(page.text), "reason": " "}, headers=HTML
    )
    assert r.status_code == 303
    await as_browser(client, supplier)
    returns = await client.get("/supplier/returns", headers={**HTML, "accept-language": "zh-CN"})
    assert "未填写原因" in returns.text and "no reason given" not in returns.text


async def test_counts_on_pages_agree_with_their_number(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    order = await received(client, supplier, buyer, product)
    await client.post(f"/api/v1/orders/{order['id']}/reviews", headers=buyer.headers, json={"rating": 4})
    page = await client.get(f"/products/{product['id']}", headers=HTML)
    assert "1 verified review<" in page.text
    page = await client.get(f"/products/{product['id']}", headers={**HTML, "accept-language": "zh-CN"})
    assert "1 条已验证购买的评价" in page.text


async def test_a_refused_shipment_keeps_what_the_supplier_typed(client: httpx.AsyncClient) -> None:
    _, _, order = await a_paid_order_for_the_suppliers_browser(client)
    page = await client.get("/supplier/orders", headers=HTML)
    r = await client.post(
        f"/supplier/orders/{order['id']}/ship",
        data={"csrf_token": csrf_of(page.text), "carrier": "SF Express", "tracking_number": "  "},
        headers=HTML,
    )
    assert r.status_code == 303
    back = await client.get(r.headers["location"], headers=HTML)
    assert "Enter the carrier and the tracking number." in back.text and 'value="SF Express"' in back.text


async def test_a_shipment_on_a_later_page_of_the_list_comes_back_to_that_page(client: httpx.AsyncClient) -> None:
    supplier, buyer, first = await a_paid_order_for_the_suppliers_browser(client)
    product = await make_product(client, supplier)
    for _ in range(2):
        await pay_order(client, buyer, (await place_order(client, buyer, product["skus"][0]["id"]))["id"])
    page = await client.get("/supplier/orders?limit=2", headers=HTML)
    assert f'id="o-{first["id"]}"' not in page.text  # the oldest is on the second page
    more = re.search(r'href="(/supplier/orders\?[^"]*cursor=[^"]+)"', page.text)
    assert more is not None
    page2 = await client.get(more.group(1).replace("&amp;", "&"), headers=HTML)
    assert f'id="o-{first["id"]}"' in page2.text

    async def ship_from(page: str, carrier: str, tracking: str) -> httpx.Response:
        """The order's ship form on ``page``, with the page's place in the list it carries."""
        where = dict(re.findall(r'name="(cursor|limit)" value="([^"]+)"', page))
        form = {**where, "csrf_token": csrf_of(page), "carrier": carrier, "tracking_number": tracking}
        return await client.post(f"/supplier/orders/{first['id']}/ship", data=form, headers=HTML)

    refused = await ship_from(page2.text, "SF Express", " ")
    back = await client.get(refused.headers["location"], headers=HTML)
    assert 'value="SF Express"' in back.text and f'id="o-{first["id"]}"' in back.text
    shipped = await ship_from(back.text, "SF", "SF9")
    assert shipped.status_code == 303 and "cursor=" in shipped.headers["location"]
    assert "limit=2" in shipped.headers["location"]


async def test_the_checkout_form_sent_again_leads_to_the_order_it_placed(client: httpx.AsyncClient) -> None:
    """The phone's back button shows the old form; sending it again places nothing new and
    never strands the shopper on an error: paid, expired or changed, it shows that order."""
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    sku = (await make_product(client, supplier, stock=5))["skus"][0]["id"]
    await as_browser(client, buyer)

    async def orders() -> list[dict]:
        return (await client.get("/api/v1/orders", headers=buyer.headers)).json()["items"]

    paid_form = await checkout_form(client, sku)
    pay_url = (await client.post("/checkout", data=paid_form, headers=HTML)).headers["location"]
    assert (await client.post(pay_url + "/confirm", headers=HTML)).status_code == 303
    await drain(client)
    expired_form = await checkout_form(client, sku)
    assert (await client.post("/checkout", data=expired_form, headers=HTML)).status_code == 303
    await advance(client, 16 * 60)  # unpaid past its deadline (the expiry job has not run yet)
    changed_form = await checkout_form(client, sku)
    assert (await client.post("/checkout", data=changed_form, headers=HTML)).status_code == 303
    placed = {o["id"] for o in await orders()}
    assert len(placed) == 3

    for form in (paid_form, expired_form, {**changed_form, "line1": "corrected street 9"}):
        again = await client.post("/checkout", data=form, headers=HTML)
        assert again.status_code == 303, again.text[:300]
        order_id = again.headers["location"].removeprefix("/orders/")
        assert order_id in placed
        page = await client.get(again.headers["location"], headers=HTML)
        assert "You placed this order already" in page.text
    assert {o["id"] for o in await orders()} == placed


async def test_pay_now_on_an_out_of_date_order_page_shows_the_order(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    sku = (await make_product(client, supplier))["skus"][0]["id"]
    paid, expired = await place_order(client, buyer, sku), await place_order(client, buyer, sku)
    await as_browser(client, buyer)
    page = await client.get(f"/orders/{paid['id']}", headers=HTML)
    await pay_order(client, buyer, paid["id"])  # in another tab
    await advance(client, 16 * 60)  # the other one's payment deadline passes
    for order in (paid, expired):
        r = await client.post(f"/orders/{order['id']}/pay", data={"csrf_token": csrf_of(page.text)}, headers=HTML)
        assert (r.status_code, r.headers["location"]) == (303, f"/orders/{order['id']}")
        assert (await client.get(r.headers["location"], headers=HTML)).status_code == 200


async def test_a_form_sent_after_the_session_ended_comes_back_to_its_page_after_login(
    client: httpx.AsyncClient,
) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    order = await place_order(client, buyer, (await make_product(client, supplier))["skus"][0]["id"])
    await as_browser(client, buyer)
    page = await client.get(f"/orders/{order['id']}", headers=HTML)
    assert (await client.post("/api/v1/me/revoke-sessions", headers=buyer.headers)).status_code == 204
    cancel = f"/orders/{order['id']}/cancel"
    page_url = f"/orders/{order['id']}?x=1"
    for referer, back in ((f"http://testserver{page_url}", page_url), (None, "/home")):
        headers = {**HTML, "referer": referer} if referer else HTML
        r = await client.post(cancel, data={"csrf_token": csrf_of(page.text)}, headers=headers)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
        login = await client.get(r.headers["location"], headers=HTML)
        assert f'name="next" value="{back}"' in login.text


async def test_ship_sent_twice_is_done_once_and_not_reported_as_refused(client: httpx.AsyncClient) -> None:
    supplier, _, order = await a_paid_order_for_the_suppliers_browser(client)
    page = await client.get("/supplier/orders", headers=HTML)
    data = {"csrf_token": csrf_of(page.text), "carrier": "SF", "tracking_number": "SF123"}
    for _ in range(2):  # a double tap: the phone shows the second answer
        r = await client.post(f"/supplier/orders/{order['id']}/ship", data=data, headers=HTML)
        assert r.headers["location"] == "/supplier/orders?status=paid"
        assert "Marked as shipped." in (await client.get(r.headers["location"], headers=HTML)).text
    other = await client.post(
        f"/supplier/orders/{order['id']}/ship", data={**data, "tracking_number": "SF999"}, headers=HTML
    )
    assert "not possible" in (await client.get(other.headers["location"], headers=HTML)).text

    # Two at once: the later one finds the order shipped by the other while it waited.
    buyer = await actor(client, "consumer")
    order = await place_order(client, buyer, (await make_product(client, supplier))["skus"][0]["id"])
    await pay_order(client, buyer, order["id"])
    tabs = [await browser_for(client, supplier) for _ in range(2)]
    forms = [{**data, "csrf_token": csrf_of((await t.get("/supplier/orders", headers=HTML)).text)} for t in tabs]
    ship = f"/supplier/orders/{order['id']}/ship"
    both = await asyncio.gather(*(t.post(ship, data=f, headers=HTML) for t, f in zip(tabs, forms, strict=True)))
    for tab, r in zip(tabs, both, strict=True):
        assert "Marked as shipped." in (await tab.get(r.headers["location"], headers=HTML)).text
        await tab.aclose()


async def test_the_supplier_or_an_operator_refunds_an_order_from_its_page(client: httpx.AsyncClient) -> None:
    from tests.conftest import make_admin

    supplier, buyer, order = await a_paid_order_for_the_suppliers_browser(client)
    page = await client.get(f"/orders/{order['id']}", headers=HTML)
    assert 'action="/orders/' + order["id"] + '/refund"' in page.text
    blank = await client.post(
        f"/orders/{order['id']}/refund", data={"csrf_token": csrf_of(page.text), "reason": " "}, headers=HTML
    )
    assert "Say why the order is refunded." in (await client.get(blank.headers["location"], headers=HTML)).text
    r = await client.post(
        f"/orders/{order['id']}/refund", data={"csrf_token": csrf_of(page.text), "reason": "out of stock"}, headers=HTML
    )
    assert "Refunded. The money goes back to the buyer." in (await client.get(r.headers["location"], headers=HTML)).text
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()["status"] == "refunded"
    again = await client.post(
        f"/orders/{order['id']}/refund", data={"csrf_token": csrf_of(page.text), "reason": "twice"}, headers=HTML
    )
    assert "not possible" in (await client.get(again.headers["location"], headers=HTML)).text

    other = await place_order(client, buyer, (await make_product(client, supplier))["skus"][0]["id"])
    await pay_order(client, buyer, other["id"])
    await as_browser(client, buyer)  # the buyer has no refund button and cannot post one
    page = await client.get(f"/orders/{other['id']}", headers=HTML)
    assert "/refund" not in page.text
    r = await client.post(
        f"/orders/{other['id']}/refund", data={"csrf_token": csrf_of(page.text), "reason": "x"}, headers=HTML
    )
    assert r.status_code == 403
    admin = await make_admin(client)
    await as_browser(client, Actor(admin["id"], admin["email"], admin["handle"], "admin", {}))
    page = await client.get(f"/orders/{other['id']}", headers=HTML)
    r = await client.post(
        f"/orders/{other['id']}/refund", data={"csrf_token": csrf_of(page.text), "reason": "counterfeit"}, headers=HTML
    )
    assert r.headers["location"] == f"/orders/{other['id']}"
    assert (await client.get(f"/api/v1/orders/{other['id']}", headers=buyer.headers)).json()["status"] == "refunded"


async def test_a_refund_with_the_provider_switched_off_is_refused_in_the_readers_language(
    client: httpx.AsyncClient, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    _supplier, buyer, order = await a_paid_order_for_the_suppliers_browser(client)
    zh = {**HTML, "accept-language": "zh-CN"}
    page = await client.get(f"/orders/{order['id']}", headers=zh)
    monkeypatch.setattr(platform.settings, "payments_sandbox", False)  # as GRASSROOTS_PAYMENTS_SANDBOX=false
    r = await client.post(
        f"/orders/{order['id']}/refund", data={"csrf_token": csrf_of(page.text), "reason": "假货"}, headers=zh
    )
    shown = (await client.get(r.headers["location"], headers=zh)).text
    assert "支付机构在此未启用" in shown and "not available" not in shown
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()["status"] == "paid"


async def test_the_returns_page_reads_its_orders_in_one_query(client: httpx.AsyncClient) -> None:
    from sqlalchemy import event

    supplier = await returns_asked(client, 5)
    await drain(client)
    await as_browser(client, supplier)
    engine = client._transport.app.state.platform.db.engine.sync_engine  # type: ignore[attr-defined]
    reads: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *rest: object) -> None:
        if statement.lstrip().startswith("SELECT orders."):
            reads.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = await client.get("/supplier/returns", headers=HTML)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert page.text.count('data-testid="return"') == 5
    assert len(reads) == 1  # not one per return


async def test_an_offer_is_declined_or_withdrawn_and_a_chinese_percent_sign_is_a_percent(
    client: httpx.AsyncClient,
) -> None:
    mcn, creator, other = await actor(client, "mcn"), await actor(client, "creator"), await actor(client, "creator")
    await as_browser(client, mcn)
    for who in (creator, other):
        page = await client.get("/mcn/contracts", headers=HTML)
        r = await client.post(
            "/mcn/contracts",
            data={"csrf_token": csrf_of(page.text), "handle": "@" + who.handle, "share": "30％"},
            headers=HTML,
        )
        assert r.status_code == 303, r.text
    offers = {
        c["creator_id"]: c["id"]
        for c in (await client.get("/api/v1/mcn/contracts", headers=mcn.headers)).json()["items"]
    }

    async def end_offer(contract_id: str, asked: str) -> str:
        page = await client.get("/mcn/contracts", headers=HTML)
        assert asked in page.text and "End this contract?" not in page.text
        r = await client.post(
            f"/mcn/contracts/{contract_id}/terminate",
            data={"csrf_token": csrf_of(page.text), "offer": "1"},
            headers=HTML,
        )
        return (await client.get(r.headers["location"], headers=HTML)).text

    assert "Offer withdrawn." in await end_offer(offers[other.id], "Withdraw this offer?")
    await as_browser(client, creator)
    assert "Offer declined." in await end_offer(offers[creator.id], "Decline this offer?")
    shares = {c["share_bps"] for c in (await client.get("/api/v1/mcn/contracts", headers=mcn.headers)).json()["items"]}
    assert shares == {3000}


async def test_the_test_clock_page_says_when_it_reached_its_century(client: httpx.AsyncClient) -> None:
    from tests.conftest import make_admin

    admin = await make_admin(client)
    await web_login(client, admin["email"])
    decade = str(10 * 366 * 86400)
    for n in range(11):
        page = await client.get("/admin/test-clock", headers=HTML)
        r = await client.post(
            "/admin/test-clock", data={"csrf_token": csrf_of(page.text), "seconds": decade}, headers=HTML
        )
        assert r.status_code == 303, (n, r.text)
    assert "cannot run more than 100 years ahead" in (await client.get("/admin/test-clock", headers=HTML)).text


async def test_ended_offers_do_not_hide_the_contracts_in_force(client: httpx.AsyncClient) -> None:
    mcn, signed = await actor(client, "mcn"), await actor(client, "creator")
    r = await client.post(
        "/api/v1/mcn/contracts", headers=mcn.headers, json={"creator_id": signed.id, "share_bps": 2000}
    )
    assert (await client.post(f"/api/v1/mcn/contracts/{r.json()['id']}/accept", headers=signed.headers)).is_success
    for _ in range(21):  # a page and more of offers made and withdrawn since
        creator = await actor(client, "creator")
        r = await client.post(
            "/api/v1/mcn/contracts", headers=mcn.headers, json={"creator_id": creator.id, "share_bps": 2000}
        )
        assert (await client.post(f"/api/v1/mcn/contracts/{r.json()['id']}/terminate", headers=mcn.headers)).is_success
    await as_browser(client, mcn)
    everything = await client.get("/mcn/contracts", headers=HTML)
    assert f"@{signed.handle}</div>" not in everything.text  # newest first: behind the ended ones
    active = await client.get("/mcn/contracts?status=active", headers=HTML)
    assert f"@{signed.handle}</div>" in active.text and active.text.count('data-testid="contract"') == 1
    ended = await client.get("/mcn/contracts?status=terminated", headers=HTML)
    assert ended.text.count('data-testid="contract"') == 20 and "status=terminated&amp;cursor=" in ended.text


async def test_pay_again_right_after_a_decline_opens_a_new_checkout(client: httpx.AsyncClient, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Before the decline's webhook arrives, the payment is still pending here: Pay now must
    not lead back to the closed sandbox page, nor its way back claim the money arrived."""
    from grassroots.payments import sandbox

    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    await as_browser(client, buyer)
    form = await checkout_form(client, product["skus"][0]["id"])
    pay_url = (await client.post("/checkout", data=form, headers=HTML)).headers["location"]
    monkeypatch.setattr(sandbox, "_event", lambda uow, type_, data: None)  # its webhook is on its way
    order_url = (await client.post(pay_url + "/decline", headers=HTML)).headers["location"].split("?")[0]
    declined = await client.get(pay_url, headers=HTML)
    back = re.search(r'<a class="btn btn-primary btn-block" href="([^"]+)"', declined.text).group(1)  # type: ignore[union-attr]
    assert "processing" not in back
    order_page = await client.get(order_url, headers=HTML)
    again = await client.post(order_url + "/pay", data={"csrf_token": csrf_of(order_page.text)}, headers=HTML)
    new_url = again.headers["location"]
    assert new_url.startswith("/sandbox/payments/") and new_url != pay_url
    monkeypatch.undo()
    assert (await client.post(new_url + "/confirm", headers=HTML)).status_code == 303
    await drain(client)
    order_id = order_url.split("/")[2].split("?")[0]
    assert (await client.get(f"/api/v1/orders/{order_id}", headers=buyer.headers)).json()["status"] == "paid"


async def test_asking_for_more_than_is_left_sets_the_quantity_to_what_is_left(client: httpx.AsyncClient) -> None:
    supplier, buyer, rival = (
        await actor(client, "supplier"),
        await actor(client, "consumer"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier, price=1000, stock=3)
    sku = product["skus"][0]["id"]
    await as_browser(client, buyer)
    page = await client.get(f"/checkout?sku={sku}&qty={'9' * 5000}", headers=HTML)  # more digits than int() reads
    assert page.status_code == 200 and 'name="qty" value="1"' in page.text
    page = await client.get(f"/checkout?sku={sku}&qty=5", headers=HTML)  # the product page allows 99
    assert "Only 3 are left: the quantity is now 3." in page.text
    assert 'name="qty" value="3"' in page.text and "¥30.00" in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {"csrf_token": csrf_of(page.text), "sku": sku, "qty": "3", "token": token, **ADDRESS}
    await place_order(client, rival, sku, 2)  # someone else buys two meanwhile
    r = await client.post("/checkout", data=form, headers=HTML)
    assert r.status_code == 422 and "Only 1 is left: the quantity is now 1." in r.text
    assert 'name="qty" value="1"' in r.text and "¥10.00" in r.text and ADDRESS["line1"] in r.text
    again = {**form, "qty": "1", "token": re.search(r'name="token" value="([^"]+)"', r.text).group(1)}  # type: ignore[union-attr]
    assert again["token"] != token  # another order: another key
    r = await client.post("/checkout", data={**again, "csrf_token": csrf_of(r.text)}, headers=HTML)
    assert r.status_code == 303 and r.headers["location"].startswith("/sandbox/payments/")
    sold_out = await client.get(f"/checkout?sku={sku}&qty=1", headers=HTML)
    assert sold_out.status_code == 303 and sold_out.headers["location"] == f"/products/{product['id']}"


async def test_the_checkout_promises_the_payment_window_that_is_enforced(client: httpx.AsyncClient, stack) -> None:  # type: ignore[no-untyped-def]
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    sku = (await make_product(client, supplier))["skus"][0]["id"]
    await as_browser(client, buyer)
    window = lambda page: re.search(r'data-testid="payment-window">([^<]*)<', page.text).group(1)  # noqa: E731
    assert "after 15 minutes" in window(await client.get(f"/checkout?sku={sku}&qty=1", headers=HTML))
    for seconds, said in (
        (3600, "after 1 hour"),
        (7200, "after 2 hours"),
        (60, "after 1 minute"),
        (90, "after 90 seconds"),
        (5400, "after 90 minutes"),
    ):
        stack.settings.order_payment_ttl_seconds = seconds
        try:
            assert said in window(await client.get(f"/checkout?sku={sku}&qty=1", headers=HTML)), seconds
        finally:
            stack.settings.order_payment_ttl_seconds = 900


async def test_confirming_receipt_or_cancelling_twice_is_done_not_refused(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    shipped = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, shipped["id"])
    ship = {"carrier": "SF", "tracking_number": "SF1"}
    assert (await client.post(f"/api/v1/orders/{shipped['id']}/ship", headers=supplier.headers, json=ship)).is_success
    unpaid = await place_order(client, buyer, product["skus"][0]["id"])
    await as_browser(client, buyer)
    for order, action, said in ((shipped, "receive", "Receipt confirmed"), (unpaid, "cancel", "Order cancelled")):
        token = csrf_of((await client.get(f"/orders/{order['id']}", headers=HTML)).text)
        for _ in range(2):  # a double tap
            r = await client.post(f"/orders/{order['id']}/{action}", data={"csrf_token": token}, headers=HTML)
            shown = await client.get(r.headers["location"], headers=HTML)
            assert said in shown.text and "not possible" not in shown.text, action


async def test_a_phone_typed_in_full_width_is_the_same_number(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    sku = (await make_product(client, supplier))["skus"][0]["id"]
    await as_browser(client, buyer)
    form = {**await checkout_form(client, sku), "phone": "＋86　１３８ ００００ ００００"}  # a Chinese keyboard
    r = await client.post("/checkout", data=form, headers={**HTML, "accept-language": "zh-CN"})
    assert r.status_code == 303, r.text
    (order,) = (await client.get("/api/v1/orders", headers=buyer.headers)).json()["items"]
    assert order["shipping_address"]["phone"] == "+86 138 0000 0000"


async def test_earnings_lines_tell_orders_placed_a_moment_apart_apart(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    orders = [await place_order(client, buyer, product["skus"][0]["id"]) for _ in range(2)]
    for order in orders:
        await pay_order(client, buyer, order["id"])
    await as_browser(client, supplier)
    page = (await client.get("/earnings", headers=HTML)).text
    labels = re.findall(r"Order …([0-9a-f]{8})<", page)
    assert sorted(labels) == sorted(o["id"][-8:] for o in orders)


async def test_a_phone_number_needs_digits(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    sku = (await make_product(client, supplier))["skus"][0]["id"]
    for phone in ("-----", "(+) ()", "12-3-4"):
        body = {"items": [{"sku_id": sku, "quantity": 1}], "shipping_address": {**ADDRESS, "phone": phone}}
        r = await client.post("/api/v1/orders", headers={**buyer.headers, "Idempotency-Key": phone}, json=body)
        assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error"), phone
        assert "shipping_address.phone" in r.json()["error"]["fields"]
    await as_browser(client, buyer)
    r = await client.post("/checkout", data={**await checkout_form(client, sku), "phone": "-----"}, headers=HTML)
    assert r.status_code == 422 and (await client.get("/api/v1/orders", headers=buyer.headers)).json()["items"] == []


async def test_buy_now_with_an_emptied_quantity_buys_one(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    sku = (await make_product(client, supplier, price=1000))["skus"][0]["id"]
    await as_browser(client, buyer)
    for qty in ("", "1e1", "-3", "٣"):
        page = await client.get("/checkout", params={"sku": sku, "qty": qty}, headers=HTML)
        assert page.status_code == 200 and 'name="qty" value="1"' in page.text, qty
    page = await client.get("/checkout", params={"sku": sku, "qty": "3"}, headers=HTML)
    assert 'name="qty" value="3"' in page.text
    assert (await client.get("/checkout?sku=nonsense&qty=1", headers=HTML)).headers["location"] == "/products"


async def test_an_order_being_confirmed_offers_neither_pay_nor_cancel(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    await as_browser(client, buyer)
    placed = await client.post("/checkout", data=await checkout_form(client, product["skus"][0]["id"]), headers=HTML)
    payment_id = placed.headers["location"].rsplit("/", 1)[1]
    paid = await client.post(f"/sandbox/payments/{payment_id}/confirm", headers=HTML)
    page = await client.get(paid.headers["location"], headers=HTML)  # before the webhook arrives
    assert 'data-testid="processing"' in page.text
    assert "Pay now" not in page.text and "Cancel order" not in page.text


async def test_the_price_shown_for_a_product_is_one_that_can_be_bought(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    skus = [
        {"name": "small", "price_minor": 45_900, "currency": "CNY", "stock": 0},
        {"name": "large", "price_minor": 64_260, "currency": "CNY", "stock": 3},
    ]
    body = {"title": "Teapot", "category": "home", "commission_bps": 1000, "skus": skus}
    product = (await client.post("/api/v1/products", headers=supplier.headers, json=body)).json()
    assert "459.00" not in (await client.get("/products?q=Teapot", headers=HTML)).text
    assert "642.60" in (await client.get("/products?q=Teapot", headers=HTML)).text
    for sku in product["skus"]:  # all sold out: the lowest of them all, marked sold out elsewhere
        await client.put(f"/api/v1/skus/{sku['id']}/stock", headers=supplier.headers, json={"stock": 0})
    assert "459.00" in (await client.get("/products?q=Teapot", headers=HTML)).text


async def test_a_buyer_cancels_a_paid_order_from_its_page_and_a_double_tap_is_done(client: httpx.AsyncClient) -> None:
    _, buyer, order = await a_paid_order_for_the_suppliers_browser(client)
    page = await client.get(f"/orders/{order['id']}", headers=HTML)
    assert 'data-testid="cancel-paid"' not in page.text  # the supplier ships or refunds; only the buyer takes back
    await as_browser(client, buyer)
    page = await client.get(f"/orders/{order['id']}", headers={**HTML, "accept-language": "zh-CN"})
    assert 'data-testid="cancel-paid"' in page.text and "取消并退款" in page.text
    form = {"csrf_token": csrf_of(page.text), "reason": "买错了"}
    for _ in range(2):  # the second is a double tap: done, not refused
        r = await client.post(f"/orders/{order['id']}/cancel-and-refund", data=form, headers=HTML)
        shown = await client.get(r.headers["location"], headers=HTML)
        assert "Order cancelled. The refund is on its way." in shown.text
    got = (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()
    assert got["status"] == "refunded"
    assert 'data-testid="cancel-paid"' not in (await client.get(f"/orders/{order['id']}", headers=HTML)).text


async def test_shipping_an_order_taken_back_and_taking_back_a_shipped_one_say_what_happened(
    client: httpx.AsyncClient,
) -> None:
    supplier, buyer, order = await a_paid_order_for_the_suppliers_browser(client)
    to_ship = await client.get("/supplier/orders", headers=HTML)  # the supplier's page, open
    r = await client.post(
        f"/api/v1/orders/{order['id']}/cancel-and-refund", headers=buyer.headers, json={"reason": "wrong size"}
    )
    assert r.status_code == 200
    form = {"csrf_token": csrf_of(to_ship.text), "carrier": "SF", "tracking_number": "SF1"}
    zh = {**HTML, "accept-language": "zh-CN"}
    r = await client.post(f"/supplier/orders/{order['id']}/ship", data=form, headers=zh)
    told = await client.get(r.headers["location"], headers=zh)
    assert "此订单已在发货前取消并退款，请勿发货。" in told.text
    await drain(client)  # the provider confirms the refund
    seen = await client.get(f"/orders/{order['id']}", headers=HTML)
    assert (
        "Refunded to the buyer." in seen.text and "Cancelled by the buyer before it shipped: “wrong size”" in seen.text
    )

    product = await make_product(client, supplier)
    second = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, second["id"])
    await as_browser(client, buyer)
    page = await client.get(f"/orders/{second['id']}", headers=HTML)  # the buyer's page, open
    ship = {"carrier": "SF", "tracking_number": "SF2"}
    assert (await client.post(f"/api/v1/orders/{second['id']}/ship", headers=supplier.headers, json=ship)).is_success
    r = await client.post(
        f"/orders/{second['id']}/cancel-and-refund", data={"csrf_token": csrf_of(page.text)}, headers=HTML
    )
    told = await client.get(r.headers["location"], headers=HTML)
    assert "The order has shipped: once it arrives you can ask for a return." in told.text
