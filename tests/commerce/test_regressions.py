"""Defects found in review, each pinned by a test."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest
from sqlalchemy import func, select

from grassroots.catalog.models import Sku
from grassroots.commerce import service as commerce
from grassroots.commerce.models import Order
from grassroots.kernel.auth import Principal, Role
from grassroots.kernel.platform import Platform
from grassroots.payments.models import Payment
from tests.conftest import ADDRESS, Actor, actor, advance, drain, make_product, pay_order, place_order
from tests.web.test_pages import HTML, csrf_of, web_login


async def browser_for(client: httpx.AsyncClient, who: Actor) -> httpx.AsyncClient:
    c = httpx.AsyncClient(transport=client._transport, base_url="http://testserver")
    r = await web_login(c, who.email)
    assert r.status_code == 303
    return c


# The new-product page's form, filled in validly.
NEW_PRODUCT_FORM = {
    "title": "Tea",
    "category": "home",
    "commission": "10",
    "currency": "CNY",
    "status": "active",
    "sku0_name": "tin",
    "sku0_price": "68.50",
    "sku0_stock": "5",
}


async def new_product(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    supplier = await actor(client, "supplier")
    c = await browser_for(client, supplier)
    page = await c.get("/supplier/products/new", headers=HTML)
    form = {"csrf_token": csrf_of(page.text), **NEW_PRODUCT_FORM, **fields}
    r = await c.post("/supplier/products/new", data=form, headers=HTML)
    await c.aclose()
    return r


async def test_a_failed_checkout_page_commits_nothing(client: httpx.AsyncClient, platform: Platform) -> None:
    """Eight shoppers submit the checkout form at once for the last unit: one order, stock 0."""
    supplier = await actor(client, "supplier")
    buyers = [await actor(client, "consumer") for _ in range(8)]
    product = await make_product(client, supplier, price=2500, stock=1)
    sku = product["skus"][0]["id"]
    browsers, forms = [], []
    for b in buyers:
        c = await browser_for(client, b)
        page = await c.get(f"/checkout?sku={sku}&qty=1", headers=HTML)
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        assert token
        browsers.append(c)
        forms.append({"csrf_token": csrf_of(page.text), "sku": sku, "qty": "1", "token": token.group(1), **ADDRESS})
    results = await asyncio.gather(
        *(c.post("/checkout", data=f, headers=HTML) for c, f in zip(browsers, forms, strict=True))
    )
    # One goes on to pay. The others are sold out: back to the product page, told why (or,
    # when the winner had not committed yet as they looked, the form again, told why).
    paying = [r for r in results if r.status_code == 303 and r.headers["location"].startswith("/sandbox/")]
    assert len(paying) == 1
    for r in results:
        if r is not paying[0]:
            sent_back = r.status_code == 303 and r.headers["location"] == f"/products/{product['id']}"
            assert sent_back or (r.status_code == 422 and "not enough stock" in r.text), r.status_code
    async with platform.unit_of_work(write=False) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Order)) == 1
        assert await uow.session.scalar(select(Sku.stock)) == 0
    # a loser sending the form again is told the same, and nothing was claimed meanwhile
    loser = next(i for i, r in enumerate(results) if r is not paying[0])
    retry = await browsers[loser].post("/checkout", data=forms[loser], headers=HTML)
    assert retry.status_code == 303 and retry.headers["location"] == f"/products/{product['id']}"
    assert "not enough stock" in (await browsers[loser].get(retry.headers["location"], headers=HTML)).text
    async with platform.unit_of_work(write=False) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Order)) == 1
    for c in browsers:
        await c.aclose()


async def test_concurrent_pay_clicks_share_one_checkout(client: httpx.AsyncClient, platform: Platform) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=5)
    for _ in range(3):
        order = await place_order(client, buyer, product["skus"][0]["id"])
        results = await asyncio.gather(
            *(client.post(f"/api/v1/orders/{order['id']}/pay", headers=buyer.headers) for _ in range(6))
        )
        assert {r.status_code for r in results} == {200}
        assert len({r.json()["payment_id"] for r in results}) == 1
    async with platform.unit_of_work(write=False) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Payment)) == 3


async def test_cancel_racing_a_payment_webhook_keeps_the_books_straight(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=20)
    for _ in range(10):
        order = await place_order(client, buyer, product["skus"][0]["id"])
        pay = (await client.post(f"/api/v1/orders/{order['id']}/pay", headers=buyer.headers)).json()
        await client.post(f"/sandbox/payments/{pay['payment_id']}/confirm")
        cancel, _ = await asyncio.gather(
            client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer.headers), drain(client)
        )
        assert cancel.status_code in (200, 409)
        await drain(client)
        final = (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()["status"]
        assert final == ("cancelled" if cancel.status_code == 200 else "paid")
    fresh = (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]["stock"]
    paid = (await client.get("/api/v1/orders", params={"status": "paid"}, headers=buyer.headers)).json()["items"]
    assert fresh == 20 - len(paid)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("orders", {"shipping_address": {**ADDRESS, "name": "a\u0000b"}}),
        ("orders", {"source": {"share_token": "\u0000"}}),
        ("products", {"title": "a\u0000"}),
    ],
)
async def test_nul_characters_are_a_422(client: httpx.AsyncClient, path: str, body: dict) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    if path == "orders":
        full = {"items": [{"sku_id": product["skus"][0]["id"], "quantity": 1}], "shipping_address": ADDRESS, **body}
        r = await client.post("/api/v1/orders", headers={**buyer.headers, "Idempotency-Key": "n"}, json=full)
    else:
        full = {
            "category": "home",
            "commission_bps": 0,
            "skus": [{"name": "n", "price_minor": 1, "currency": "CNY", "stock": 1}],
            **body,
        }
        r = await client.post("/api/v1/products", headers=supplier.headers, json=full)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error")
    r = await client.get("/api/v1/products", params={"q": "x\u0000y"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_characters")


@pytest.mark.parametrize(
    "fields",
    [
        {"sku0_stock": "99999999"},
        {"sku0_stock": "²"},  # a digit to str.isdigit, not a number
        {"sku0_stock": "①"},
        {"sku0_price": "1e20"},
        {"sku0_price": "sNaN"},
        {"commission": "sNaN"},
        {"commission": "1e99999999"},
        {"sku0_price": "Infinity"},
        {"sku0_price": "68,50"},  # a decimal comma: asked again, not stored as 6,850 yuan
        {"currency": "KWD", "sku0_price": "20000000"},  # more fils than a price holds
        {"currency": "XAU"},  # gold is no currency to sell in
    ],
)
async def test_odd_numbers_in_forms_are_form_errors(client: httpx.AsyncClient, fields: dict[str, str]) -> None:
    r = await new_product(client, **fields)
    assert r.status_code == 422 and 'name="sku0_name" value="tin"' in r.text  # the form again, as typed


async def test_approving_a_return_the_refund_already_settled_changes_nothing(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=3)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, order["id"])
    await client.post(
        f"/api/v1/orders/{order['id']}/ship", headers=supplier.headers, json={"carrier": "SF", "tracking_number": "1"}
    )
    await client.post(f"/api/v1/orders/{order['id']}/receive", headers=buyer.headers)
    ret = (
        await client.post(f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={"reason": "x"})
    ).json()
    await client.post(
        f"/api/v1/orders/{order['id']}/refund", headers=supplier.headers, json={"reason": "refunded first"}
    )
    c = await browser_for(client, supplier)
    page = await c.get("/supplier/returns", headers=HTML)
    r = await c.post(
        f"/supplier/returns/{ret['id']}/approve", data={"csrf_token": csrf_of(page.text), "restock": "1"}, headers=HTML
    )
    assert r.status_code == 303
    returns = (await client.get("/api/v1/returns", headers=buyer.headers)).json()["items"]
    assert returns[0]["status"] == "approved"  # by the refund, which put nothing back on sale
    assert returns[0]["restock"] is False
    assert (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]["stock"] == 2
    await c.aclose()


async def test_refunding_an_unshipped_order_puts_the_goods_back(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=5)
    order = await place_order(client, buyer, product["skus"][0]["id"], 2)
    await pay_order(client, buyer, order["id"])
    await client.post(f"/api/v1/orders/{order['id']}/refund", headers=supplier.headers, json={"reason": "can't ship"})
    assert (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]["stock"] == 5
    r = await client.post(f"/api/v1/orders/{order['id']}/reviews", headers=buyer.headers, json={"rating": 1})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "invalid_state")  # refunded: no review


async def test_checkout_refuses_products_not_on_sale(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    draft = await make_product(client, supplier, status="draft", title="Secret")
    c = await browser_for(client, buyer)
    r = await c.get(f"/checkout?sku={draft['skus'][0]['id']}&qty=1", headers=HTML)
    assert r.status_code == 303 and r.headers["location"] == "/products"
    await c.aclose()


async def test_a_refund_racing_the_shipment_restocks_only_goods_that_never_left(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=100)
    sku = product["skus"][0]["id"]
    left_the_warehouse = 0
    for _ in range(8):
        order = await place_order(client, buyer, sku)
        await pay_order(client, buyer, order["id"])
        ship, refund = await asyncio.gather(
            client.post(
                f"/api/v1/orders/{order['id']}/ship",
                headers=supplier.headers,
                json={"carrier": "SF", "tracking_number": "SF100"},
            ),
            client.post(f"/api/v1/orders/{order['id']}/refund", headers=supplier.headers, json={"reason": "x"}),
        )
        assert refund.status_code == 200, refund.text  # refundable before and after shipping
        assert ship.status_code in (200, 409)
        left_the_warehouse += ship.status_code == 200
    stock = (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]["stock"]
    assert stock == 100 - left_the_warehouse


async def test_pay_racing_cancel_leaves_no_payable_checkout(client: httpx.AsyncClient, platform: Platform) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    sku = (await make_product(client, supplier, stock=20))["skus"][0]["id"]
    for _ in range(6):
        order = await place_order(client, buyer, sku)
        pay, cancel = await asyncio.gather(
            client.post(f"/api/v1/orders/{order['id']}/pay", headers=buyer.headers, json={}),
            client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer.headers),
        )
        assert cancel.status_code == 200 and pay.status_code in (200, 409)
        # The checkout a Pay opened just before the cancel is expired with the order, as
        # an earlier one would be (money paid into it anyway is refunded as a late payment).
        async with platform.unit_of_work(write=False) as uow:
            found = await uow.session.scalars(select(Payment.status).where(Payment.order_id == uuid.UUID(order["id"])))
            assert "pending" not in list(found)


async def test_a_refund_settles_the_open_return_request(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=3)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, order["id"])
    ship = {"carrier": "SF", "tracking_number": "SF1"}
    assert (await client.post(f"/api/v1/orders/{order['id']}/ship", headers=supplier.headers, json=ship)).is_success
    assert (await client.post(f"/api/v1/orders/{order['id']}/receive", headers=buyer.headers)).is_success
    ret = await client.post(f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={"reason": "too big"})
    assert ret.status_code == 201
    r = await client.post(f"/api/v1/orders/{order['id']}/refund", headers=supplier.headers, json={"reason": "goodwill"})
    assert r.status_code == 200 and r.json()["status"] == "refunded"
    open_ = (await client.get("/api/v1/returns", params={"status": "requested"}, headers=supplier.headers)).json()
    assert open_["items"] == []
    approve = await client.post(f"/api/v1/returns/{ret.json()['id']}/approve", headers=supplier.headers)
    assert (approve.status_code, approve.json()["error"]["code"]) == (409, "invalid_state")
    stock = (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]["stock"]
    assert stock == 2  # received goods are not restocked by a refund


async def received_order(client: httpx.AsyncClient, supplier: Actor, product: dict) -> tuple[Actor, dict]:
    buyer = await actor(client, "consumer")
    order = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, order["id"])
    ship = {"carrier": "SF", "tracking_number": "SF1"}
    assert (await client.post(f"/api/v1/orders/{order['id']}/ship", headers=supplier.headers, json=ship)).is_success
    assert (await client.post(f"/api/v1/orders/{order['id']}/receive", headers=buyer.headers)).is_success
    return buyer, order


async def test_a_return_racing_a_refund_is_never_left_open(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    product = await make_product(client, supplier, stock=20)
    for _ in range(8):
        buyer, order = await received_order(client, supplier, product)
        asked, refunded = await asyncio.gather(
            client.post(f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={"reason": "x"}),
            client.post(f"/api/v1/orders/{order['id']}/refund", headers=supplier.headers, json={"reason": "goodwill"}),
        )
        assert refunded.status_code == 200 and asked.status_code in (201, 409)
    still_open = await client.get("/api/v1/returns", headers=supplier.headers, params={"status": "requested"})
    assert still_open.json()["items"] == []  # each was refused, or approved by the refund


async def test_no_review_while_a_return_is_open(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    buyer, order = await received_order(client, supplier, await make_product(client, supplier))
    await client.post(f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={"reason": "x"})
    r = await client.post(f"/api/v1/orders/{order['id']}/reviews", headers=buyer.headers, json={"rating": 1})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "invalid_state")


async def test_the_product_page_rounds_its_rating_half_up(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    product = await make_product(client, supplier, stock=10)
    for rating in (5, 4):
        buyer, order = await received_order(client, supplier, product)
        await client.post(f"/api/v1/orders/{order['id']}/reviews", headers=buyer.headers, json={"rating": rating})
    page = await client.get(f"/products/{product['id']}", headers=HTML)
    shown = re.search(r'class="stat">([^<]*)</span><span class="stars">([^<]*)<', page.text)
    assert shown and shown.groups() == ("4.5", "★★★★★")


async def test_settlement_never_completes_an_order_whose_return_it_has_not_seen(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    """A return requested at the window's last instant, still committing when settlement
    chose its batch: settlement waits for the order's lock and sees the request."""
    if platform.db.dialect != "postgresql":
        pytest.skip("SQLite serialises writers: settlement waits for the return's whole transaction")
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, order["id"])
    ship = {"carrier": "SF", "tracking_number": "SF1"}
    assert (await client.post(f"/api/v1/orders/{order['id']}/ship", headers=supplier.headers, json=ship)).is_success
    assert (await client.post(f"/api/v1/orders/{order['id']}/receive", headers=buyer.headers)).is_success
    await advance(client, 7 * 86400 - 3)  # three seconds before the window closes
    me = Principal(id=uuid.UUID(buyer.id), role=Role.consumer, handle=buyer.handle, email=buyer.email)

    async def settle() -> list[uuid.UUID]:
        async with platform.unit_of_work() as uow:
            return (await commerce.settle_batch(uow))[0]

    async with platform.unit_of_work() as uow:
        await commerce.request_return(uow, me, uuid.UUID(order["id"]), "too big")  # inside the window
        await advance(client, 10)  # the window closes while the request commits
        settling = asyncio.create_task(settle())
        await asyncio.sleep(0.5)
    assert await settling == []
    got = (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()
    assert got["status"] == "received"
    returns = (await client.get("/api/v1/returns", headers=buyer.headers)).json()["items"]
    assert [r["status"] for r in returns] == ["requested"]


@pytest.mark.parametrize(
    ("ratings", "average", "shown", "stars"),
    [
        ([2] * 6 + [1] * 5, 1.55, "1.5", 2),  # 17/11 = 1.5454…: rounded once, not 1.55 → 1.6
        ([2] * 11 + [1] * 2, 1.85, "1.8", 2),  # 24/13 = 1.846…
        ([5, 4], 4.5, "4.5", 5),  # an exact half goes up
        ([5, 4, 4, 4, 4, 4, 4, 4], 4.13, "4.1", 4),  # 33/8 = 4.125: half up, not to even
        ([5, 5, 5, 4, 4, 4, 4, 4], 4.38, "4.4", 4),  # 35/8 = 4.375
        ([1], 1.0, "1.0", 1),
    ],
)
def test_rating_summaries_round_once_and_half_up(ratings: list[int], average: float, shown: str, stars: int) -> None:
    from collections import Counter

    from grassroots.commerce.service import summarize

    summary = summarize(dict(Counter(ratings)))
    assert (summary.count, summary.average, summary.shown, summary.stars) == (len(ratings), average, shown, stars)
    assert summarize({}).average is None
