"""Orders: creation, stock, idempotency, the state machine, expiry, returns, reviews."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import func, select, update

from grassroots.catalog.models import Sku
from grassroots.commerce import service as commerce
from grassroots.commerce import tasks
from grassroots.commerce.models import Order
from grassroots.commerce.schemas import AddressIn, ItemIn, OrderIn
from grassroots.kernel.auth import Principal, Role
from grassroots.kernel.errors import Conflict
from grassroots.kernel.idempotency import IdempotencyKey
from grassroots.kernel.platform import Platform
from tests.commerce.test_money import admin_headers
from tests.conftest import ADDRESS, Actor, Stack, actor, advance, drain, make_product, pay_order, place_order


def code(r: httpx.Response) -> str:
    return r.json()["error"]["code"]


async def stock_of(client: httpx.AsyncClient, product: dict) -> list[int]:
    fresh = (await client.get(f"/api/v1/products/{product['id']}")).json()
    return [s["stock"] for s in fresh["skus"]]


async def two_sku_product(client: httpx.AsyncClient, supplier: Actor, stocks: tuple[int, int]) -> dict:
    r = await client.post(
        "/api/v1/products",
        headers=supplier.headers,
        json={
            "title": "Silk scarf",
            "category": "fashion",
            "commission_bps": 1000,
            "skus": [
                {"name": "red", "price_minor": 5000, "currency": "CNY", "stock": stocks[0]},
                {"name": "blue", "price_minor": 5500, "currency": "CNY", "stock": stocks[1]},
            ],
        },
    )
    assert r.status_code == 201
    return r.json()


async def test_an_order_reserves_stock_and_records_its_source(client: httpx.AsyncClient) -> None:
    supplier, creator, buyer = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier, price=12_345, stock=5)
    await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": product["id"]})
    order = await place_order(client, buyer, product["skus"][0]["id"], 2, source={"creator_id": creator.id})
    assert order["status"] == "pending_payment"
    assert (order["total_minor"], order["currency"]) == (24_690, "CNY")
    assert (order["promoter_id"], order["scene"]) == (creator.id, "showcase")
    assert order["items"][0]["quantity"] == 2 and order["items"][0]["commission_bps"] == 2000
    assert await stock_of(client, product) == [3]
    direct = await place_order(client, buyer, product["skus"][0]["id"])
    assert (direct["promoter_id"], direct["scene"]) == (None, "direct")


async def test_out_of_stock_reserves_nothing(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await two_sku_product(client, supplier, (5, 1))
    red, blue = (s["id"] for s in product["skus"])
    r = await client.post(
        "/api/v1/orders",
        headers={**buyer.headers, "Idempotency-Key": "a"},
        json={"items": [{"sku_id": red, "quantity": 2}, {"sku_id": blue, "quantity": 2}], "shipping_address": ADDRESS},
    )
    assert (r.status_code, code(r)) == (409, "out_of_stock")
    assert await stock_of(client, product) == [5, 1]
    r = await client.post(
        "/api/v1/orders",
        headers={**buyer.headers, "Idempotency-Key": "b"},
        json={"items": [{"sku_id": red, "quantity": 2}, {"sku_id": red, "quantity": 3}], "shipping_address": ADDRESS},
    )
    assert r.status_code == 201 and r.json()["items"][0]["quantity"] == 5  # same SKU twice is merged
    assert await stock_of(client, product) == [0, 1]


async def test_idempotency_keys(client: httpx.AsyncClient) -> None:
    supplier, buyer, other = (
        await actor(client, "supplier"),
        await actor(client, "consumer"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier, stock=10)
    sku = product["skus"][0]["id"]
    body = {"items": [{"sku_id": sku, "quantity": 1}], "shipping_address": ADDRESS}
    r = await client.post("/api/v1/orders", headers=buyer.headers, json=body)
    assert (r.status_code, code(r)) == (400, "idempotency_key_required")
    for bad in ("k" * 256, "tab\there"):
        r = await client.post("/api/v1/orders", headers={**buyer.headers, "Idempotency-Key": bad}, json=body)
        assert (r.status_code, code(r)) == (400, "invalid_idempotency_key"), bad
    first = await client.post("/api/v1/orders", headers={**buyer.headers, "Idempotency-Key": "k-1"}, json=body)
    again = await client.post("/api/v1/orders", headers={**buyer.headers, "Idempotency-Key": "k-1"}, json=body)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    changed = await client.post(
        "/api/v1/orders",
        headers={**buyer.headers, "Idempotency-Key": "k-1"},
        json={**body, "items": [{"sku_id": sku, "quantity": 2}]},
    )
    assert (changed.status_code, code(changed)) == (409, "idempotency_key_reused")
    # keys are per buyer
    theirs = await client.post("/api/v1/orders", headers={**other.headers, "Idempotency-Key": "k-1"}, json=body)
    assert theirs.status_code == 201 and theirs.json()["id"] != first.json()["id"]
    assert await stock_of(client, product) == [8]


async def test_concurrent_retries_with_one_key_create_one_order(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=100)
    body = {"items": [{"sku_id": product["skus"][0]["id"], "quantity": 1}], "shipping_address": ADDRESS}
    results = await asyncio.gather(
        *(
            client.post("/api/v1/orders", headers={**buyer.headers, "Idempotency-Key": "same"}, json=body)
            for _ in range(20)
        )
    )
    assert {r.status_code for r in results} == {201}
    assert len({r.json()["id"] for r in results}) == 1
    assert await stock_of(client, product) == [99]
    listed = (await client.get("/api/v1/orders", headers=buyer.headers)).json()["items"]
    assert len(listed) == 1


async def test_concurrent_orders_never_oversell(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    buyers = [await actor(client, "consumer") for _ in range(5)]
    product = await make_product(client, supplier, stock=30)
    sku = product["skus"][0]["id"]

    async def attempt(i: int) -> int:
        r = await client.post(
            "/api/v1/orders",
            headers={**buyers[i % 5].headers, "Idempotency-Key": f"o{i}"},
            json={"items": [{"sku_id": sku, "quantity": 1}], "shipping_address": ADDRESS},
        )
        return r.status_code

    codes = await asyncio.gather(*(attempt(i) for i in range(80)))
    assert codes.count(201) == 30 and codes.count(409) == 50
    assert await stock_of(client, product) == [0]


async def test_order_errors(client: httpx.AsyncClient) -> None:
    s1, s2, buyer, consumer = (
        await actor(client, "supplier"),
        await actor(client, "supplier"),
        await actor(client, "consumer"),
        await actor(client, "consumer"),
    )
    a = await make_product(client, s1)
    b = await make_product(client, s2)
    usd = await make_product(client, s1, currency="USD")
    archived = await make_product(client, s1)
    await client.patch(f"/api/v1/products/{archived['id']}", headers=s1.headers, json={"status": "archived"})

    async def order(items: list, source: dict | None = None) -> httpx.Response:
        return await client.post(
            "/api/v1/orders",
            headers={**buyer.headers, "Idempotency-Key": str(len(items)) + str(items)},
            json={"items": items, "shipping_address": ADDRESS, "source": source or {}},
        )

    def line(p: dict) -> dict:
        return {"sku_id": p["skus"][0]["id"], "quantity": 1}

    assert code(await order([line(a), line(b)])) == "multiple_suppliers"
    assert code(await order([line(a), line(usd)])) == "mixed_currency"
    r = await order([line(archived)])
    assert (r.status_code, code(r)) == (409, "product_unavailable")
    r = await order([{"sku_id": "01a20000-0000-7000-8000-000000000000", "quantity": 1}])
    assert (r.status_code, code(r)) == (422, "unknown_sku")
    r = await order([line(a)], {"creator_id": consumer.id})
    assert (r.status_code, code(r)) == (422, "invalid_source")
    for bad in (
        {"items": [], "shipping_address": ADDRESS},
        {"items": [line(a)]},
        {"items": [{**line(a), "quantity": 0}], "shipping_address": ADDRESS},
        {"items": [{**line(a), "quantity": True}], "shipping_address": ADDRESS},
        {"items": [{**line(a), "quantity": "2"}], "shipping_address": ADDRESS},
        {"items": [{**line(a), "quantity": 600}] * 2, "shipping_address": ADDRESS},  # 1,200 of one SKU
        {"items": [line(a)], "shipping_address": {**ADDRESS, "phone": "call me"}},
    ):
        r = await client.post("/api/v1/orders", headers={**buyer.headers, "Idempotency-Key": "x"}, json=bad)
        assert (r.status_code, code(r)) == (422, "validation_error"), bad


@pytest.mark.parametrize("role", ["creator", "supplier", "mcn", "admin"])
async def test_only_consumers_place_orders(client: httpx.AsyncClient, role: str) -> None:
    who = await actor(client, role)
    r = await client.post(
        "/api/v1/orders",
        headers={**who.headers, "Idempotency-Key": "x"},
        json={
            "items": [{"sku_id": "01a20000-0000-7000-8000-000000000000", "quantity": 1}],
            "shipping_address": ADDRESS,
        },
    )
    assert r.status_code == 403


async def test_the_state_machine_refuses_illegal_moves(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    oid = order["id"]
    ship = {"carrier": "SF", "tracking_number": "SF1"}
    assert code(await client.post(f"/api/v1/orders/{oid}/ship", headers=supplier.headers, json=ship)) == "invalid_state"
    assert code(await client.post(f"/api/v1/orders/{oid}/receive", headers=buyer.headers)) == "invalid_state"
    assert code(await client.post(f"/api/v1/orders/{oid}/returns", headers=buyer.headers, json={"reason": "x"})) == (
        "invalid_state"
    )
    await pay_order(client, buyer, oid)
    r = await client.post(f"/api/v1/orders/{oid}/pay", headers=buyer.headers, json={"provider": "sandbox"})
    assert (r.status_code, code(r)) == (409, "invalid_state")
    assert code(await client.post(f"/api/v1/orders/{oid}/cancel", headers=buyer.headers)) == "invalid_state"
    assert (await client.post(f"/api/v1/orders/{oid}/ship", headers=supplier.headers, json=ship)).json()[
        "status"
    ] == "shipped"
    assert code(await client.post(f"/api/v1/orders/{oid}/ship", headers=supplier.headers, json=ship)) == "invalid_state"
    r = await client.post(f"/api/v1/orders/{oid}/receive", headers=buyer.headers)
    assert r.json()["status"] == "received" and r.json()["received_at"]


async def test_who_sees_and_acts_on_an_order(client: httpx.AsyncClient) -> None:
    supplier, other_supplier = await actor(client, "supplier"), await actor(client, "supplier")
    buyer, stranger, creator = (
        await actor(client, "consumer"),
        await actor(client, "consumer"),
        await actor(client, "creator"),
    )
    product = await make_product(client, supplier)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    oid = order["id"]
    assert (await client.get(f"/api/v1/orders/{oid}", headers=supplier.headers)).status_code == 200
    for who in (stranger, other_supplier):
        r = await client.get(f"/api/v1/orders/{oid}", headers=who.headers)
        assert (r.status_code, code(r)) == (404, "order_not_found")
    assert code(await client.post(f"/api/v1/orders/{oid}/pay", headers=stranger.headers)) == "order_not_found"
    assert code(await client.post(f"/api/v1/orders/{oid}/cancel", headers=stranger.headers)) == "order_not_found"
    assert (await client.get(f"/api/v1/orders/{oid}", headers=creator.headers)).status_code == 403
    assert (await client.get("/api/v1/orders", headers=stranger.headers)).json()["items"] == []
    assert [o["id"] for o in (await client.get("/api/v1/orders", headers=supplier.headers)).json()["items"]] == [oid]
    assert (await client.get("/api/v1/orders", headers=other_supplier.headers)).json()["items"] == []


async def test_unpaid_orders_expire_and_release_stock(client: httpx.AsyncClient, platform: Platform) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=3)
    order = await place_order(client, buyer, product["skus"][0]["id"], 2)
    kept = await place_order(client, buyer, product["skus"][0]["id"], 1)
    await advance(client, 10 * 60)
    kept = await pay_order(client, buyer, kept["id"])
    assert kept["status"] == "paid"
    assert await tasks.expire_unpaid_orders(platform) == 0
    await advance(client, 6 * 60)
    # the in-process worker's own periodic run may get there first; either way it is expired once
    assert await tasks.expire_unpaid_orders(platform) in (0, 1)
    assert await tasks.expire_unpaid_orders(platform) == 0
    expired = (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()
    assert (expired["status"], expired["cancel_reason"]) == ("cancelled", "expired")
    assert await stock_of(client, product) == [2]
    r = await client.post(f"/api/v1/orders/{order['id']}/pay", headers=buyer.headers, json={"provider": "sandbox"})
    assert code(r) == "invalid_state"


async def test_buyer_cancels_an_unpaid_order(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=3)
    order = await place_order(client, buyer, product["skus"][0]["id"], 3)
    r = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=buyer.headers)
    assert r.json()["status"] == "cancelled" and r.json()["cancel_reason"] == "buyer"
    assert await stock_of(client, product) == [3]


async def test_shipped_orders_are_received_automatically(client: httpx.AsyncClient, platform: Platform) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, order["id"])
    await client.post(
        f"/api/v1/orders/{order['id']}/ship", headers=supplier.headers, json={"carrier": "SF", "tracking_number": "1"}
    )
    await advance(client, 9 * 86400)
    assert await tasks.auto_receive(platform) == 0
    await advance(client, 86400 + 1)
    assert await tasks.auto_receive(platform) == 1
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()["status"] == "received"


async def received_order(
    client: httpx.AsyncClient, category: str = "home", **kw: object
) -> tuple[Actor, Actor, dict, dict]:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, category=category, **kw)  # type: ignore[arg-type]
    order = await place_order(client, buyer, product["skus"][0]["id"], 2)
    await pay_order(client, buyer, order["id"])
    await client.post(
        f"/api/v1/orders/{order['id']}/ship", headers=supplier.headers, json={"carrier": "SF", "tracking_number": "1"}
    )
    order = (await client.post(f"/api/v1/orders/{order['id']}/receive", headers=buyer.headers)).json()
    return supplier, buyer, product, order


async def test_return_within_the_window_refunds_and_restocks(client: httpx.AsyncClient) -> None:
    supplier, buyer, product, order = await received_order(client, stock=5)
    assert await stock_of(client, product) == [3]
    await advance(client, 6 * 86400)
    r = await client.post(
        f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={"reason": "changed my mind"}
    )
    assert r.status_code == 201 and r.json()["status"] == "requested"
    again = await client.post(f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={"reason": "again"})
    assert (again.status_code, code(again)) == (409, "return_exists")
    pending = (await client.get("/api/v1/returns", params={"status": "requested"}, headers=supplier.headers)).json()
    assert [x["id"] for x in pending["items"]] == [r.json()["id"]]
    other = await actor(client, "supplier")
    assert (await client.post(f"/api/v1/returns/{r.json()['id']}/approve", headers=other.headers)).status_code == 404
    approved = await client.post(
        f"/api/v1/returns/{r.json()['id']}/approve", headers=supplier.headers, json={"restock": True}
    )
    assert approved.json()["status"] == "approved"
    await drain(client)
    refunded = (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()
    assert refunded["status"] == "refunded"
    assert await stock_of(client, product) == [5]
    twice = await client.post(f"/api/v1/returns/{r.json()['id']}/approve", headers=supplier.headers)
    assert (twice.status_code, code(twice)) == (409, "invalid_state")
    # The buyer who sent it back may still say why, once the return is decided.
    review = {"rating": 2, "body": "The glaze was cracked."}
    r = await client.post(f"/api/v1/orders/{order['id']}/reviews", headers=buyer.headers, json=review)
    assert r.status_code == 201, r.text
    summary = (await client.get(f"/api/v1/products/{product['id']}/reviews")).json()["summary"]
    assert (summary["count"], summary["average"]) == (1, 2.0)


async def test_an_order_refunded_before_it_arrived_takes_no_review(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, order["id"])
    r = await client.post(f"/api/v1/orders/{order['id']}/refund", headers=supplier.headers, json={"reason": "no stock"})
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/orders/{order['id']}/reviews", headers=buyer.headers, json={"rating": 1})
    assert (r.status_code, code(r)) == (409, "invalid_state")


async def test_returns_after_the_window_or_of_perishables_are_refused(client: httpx.AsyncClient) -> None:
    _, buyer, _, order = await received_order(client)
    await advance(client, 7 * 86400 + 60)
    r = await client.post(f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={"reason": "late"})
    assert (r.status_code, code(r)) == (409, "return_window_closed")
    # and once settlement has completed it, the answer is the same
    admin = await admin_headers(client)
    assert (await client.post("/api/v1/admin/settlements", headers=admin, json={})).status_code == 200
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()["status"] == "completed"
    r = await client.post(f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={"reason": "late"})
    assert (r.status_code, code(r)) == (409, "return_window_closed")
    _, buyer2, _, food = await received_order(client, category="food")
    r = await client.post(f"/api/v1/orders/{food['id']}/returns", headers=buyer2.headers, json={"reason": "stale"})
    assert (r.status_code, code(r)) == (409, "not_returnable")


async def test_rejected_returns_keep_the_order(client: httpx.AsyncClient) -> None:
    supplier, buyer, _, order = await received_order(client)
    r = await client.post(f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={"reason": "meh"})
    rejected = await client.post(
        f"/api/v1/returns/{r.json()['id']}/reject", headers=supplier.headers, json={"note": "used and damaged"}
    )
    assert rejected.json()["status"] == "rejected" and rejected.json()["decision_note"] == "used and damaged"
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()["status"] == "received"


async def test_verified_reviews(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    early = await place_order(client, buyer, product["skus"][0]["id"])
    r = await client.post(f"/api/v1/orders/{early['id']}/reviews", headers=buyer.headers, json={"rating": 5})
    assert (r.status_code, code(r)) == (409, "invalid_state")
    _, buyer2, product2, order = await received_order(client)
    for rating in (0, 6):
        r = await client.post(f"/api/v1/orders/{order['id']}/reviews", headers=buyer2.headers, json={"rating": rating})
        assert (r.status_code, code(r)) == (422, "validation_error")
    r = await client.post(
        f"/api/v1/orders/{order['id']}/reviews",
        headers=buyer2.headers,
        json={"rating": 4, "body": "Lovely glaze <b>bold</b>"},
    )
    assert r.status_code == 201 and r.json()["verified_purchase"] is True
    r = await client.post(f"/api/v1/orders/{order['id']}/reviews", headers=buyer2.headers, json={"rating": 1})
    assert (r.status_code, code(r)) == (409, "already_reviewed")
    stranger = await actor(client, "consumer")
    r = await client.post(f"/api/v1/orders/{order['id']}/reviews", headers=stranger.headers, json={"rating": 1})
    assert r.status_code == 404
    reviews = (await client.get(f"/api/v1/products/{product2['id']}/reviews")).json()
    assert reviews["summary"] == {"count": 1, "average": 4.0, "distribution": {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}}
    assert reviews["items"][0]["body"] == "Lovely glaze <b>bold</b>"
    empty = (await client.get(f"/api/v1/products/{product['id']}/reviews")).json()
    assert empty["summary"]["count"] == 0 and empty["summary"]["average"] is None


async def test_refunded_units_no_longer_count_as_sold(client: httpx.AsyncClient) -> None:
    supplier, buyer, product, order = await received_order(client)  # two units
    other = await place_order(client, buyer, product["skus"][0]["id"], 3)
    await pay_order(client, buyer, other["id"])
    assert (await client.get(f"/api/v1/products/{product['id']}")).json()["sold_units"] == 5
    ret = await client.post(f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={"reason": "x"})
    assert (await client.post(f"/api/v1/returns/{ret.json()['id']}/approve", headers=supplier.headers)).is_success
    r = await client.post(f"/api/v1/orders/{other['id']}/refund", headers=supplier.headers, json={"reason": "oos"})
    assert r.is_success, r.text
    assert (await client.get(f"/api/v1/products/{product['id']}")).json()["sold_units"] == 0


async def test_a_review_keeps_counting_after_its_order_is_refunded(client: httpx.AsyncClient) -> None:
    # A supplier cannot erase a bad review by approving the return that follows it.
    supplier, buyer, product, order = await received_order(client)
    r = await client.post(f"/api/v1/orders/{order['id']}/reviews", headers=buyer.headers, json={"rating": 1})
    assert r.status_code == 201
    ret = await client.post(f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={"reason": "cracked"})
    assert (await client.post(f"/api/v1/returns/{ret.json()['id']}/approve", headers=supplier.headers)).is_success
    await drain(client)
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()["status"] == "refunded"
    summary = (await client.get(f"/api/v1/products/{product['id']}/reviews")).json()["summary"]
    assert (summary["count"], summary["average"], summary["distribution"]["1"]) == (1, 1.0, 1)


async def test_racing_orders_for_the_last_units_keep_exactly_the_stock(client: httpx.AsyncClient) -> None:
    """Everyone passes the early stock check; the stock is taken at the end (at commit on
    PostgreSQL). Exactly the stock's worth succeed, the rest get 409 and keep nothing."""
    supplier = await actor(client, "supplier")
    buyers = [await actor(client, "consumer") for _ in range(6)]
    product = await two_sku_product(client, supplier, (2, 5))
    red, blue = (s["id"] for s in product["skus"])
    # each wants one red and one blue, listed in either order: the SKUs are locked in one order
    items = [[{"sku_id": red, "quantity": 1}, {"sku_id": blue, "quantity": 1}]]
    items.append(list(reversed(items[0])))

    async def attempt(i: int) -> httpx.Response:
        return await client.post(
            "/api/v1/orders",
            headers={**buyers[i].headers, "Idempotency-Key": f"race-{i}"},
            json={"items": items[i % 2], "shipping_address": ADDRESS},
        )

    answers = await asyncio.gather(*(attempt(i) for i in range(6)))
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [201, 201, 409, 409, 409, 409], [r.text for r in answers]
    for r in answers:
        if r.status_code == 409:
            assert r.json()["error"]["code"] == "out_of_stock"
            assert r.json()["error"]["fields"] == {"sku_id": red}
    assert await stock_of(client, product) == [0, 3]  # the losers took no blue either


def _concurrent_writers_only(platform: Platform) -> None:
    if platform.db.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing can take the stock in between")


def _principal(who: Actor) -> Principal:
    return Principal(id=uuid.UUID(who.id), role=Role(who.role), handle=who.handle, email=who.email)


def _one(sku_id: str, quantity: int = 1) -> OrderIn:
    return OrderIn(items=[ItemIn(sku_id=uuid.UUID(sku_id), quantity=quantity)], shipping_address=AddressIn(**ADDRESS))


async def test_stock_gone_by_the_commit_fails_the_order_with_409(client: httpx.AsyncClient, platform: Platform) -> None:
    """The stock is checked early and taken last (at COMMIT on PostgreSQL): stock that goes
    in between fails the whole order with 409 out_of_stock, and nothing of it is kept."""
    _concurrent_writers_only(platform)
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=3)
    sku = product["skus"][0]["id"]
    with pytest.raises(Conflict) as raised:
        async with platform.unit_of_work() as uow:
            await commerce.create_order(uow, _principal(buyer), _one(sku, 2), "late-1")
            async with platform.unit_of_work() as other:  # meanwhile someone takes the stock
                await other.session.execute(update(Sku).where(Sku.id == uuid.UUID(sku)).values(stock=1))
    assert (raised.value.code, raised.value.fields) == ("out_of_stock", {"sku_id": sku})
    assert await stock_of(client, product) == [1]
    async with platform.unit_of_work(write=False) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Order)) == 0
        assert await uow.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


async def test_stock_taken_at_once_fails_inside_a_savepoint(client: httpx.AsyncClient, platform: Platform) -> None:
    """``stock_now`` answers before the commit, so a page can show the shortage in its form
    and carry on with the rest of its unit of work."""
    _concurrent_writers_only(platform)
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=3)
    sku = product["skus"][0]["id"]
    async with platform.unit_of_work() as uow:
        with pytest.raises(Conflict) as raised:
            async with uow.attempt():
                async with platform.unit_of_work() as other:
                    await other.session.execute(update(Sku).where(Sku.id == uuid.UUID(sku)).values(stock=1))
                await commerce.create_order(uow, _principal(buyer), _one(sku, 2), "now-1", stock_now=True)
        assert raised.value.code == "out_of_stock"
        _order, created = await commerce.create_order(uow, _principal(buyer), _one(sku, 1), "now-2", stock_now=True)
        assert created
    assert await stock_of(client, product) == [0]
    async with platform.unit_of_work(write=False) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Order)) == 1


async def test_a_transition_undone_by_a_savepoint_leaves_no_stale_state(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    from sqlalchemy import inspect

    from grassroots.commerce import repository
    from grassroots.commerce.models import OrderStatus

    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    placed = await place_order(client, buyer, product["skus"][0]["id"])
    async with platform.unit_of_work() as uow:
        order = await repository.get(uow.session, uuid.UUID(placed["id"]))
        assert order is not None
        with pytest.raises(RuntimeError):
            async with uow.attempt():
                cancelled = [OrderStatus.pending_payment]
                assert await repository.transition(
                    uow.session, order.id, cancelled, OrderStatus.cancelled, cancel_reason="changed my mind"
                )
                assert (order.status, order.cancel_reason) == (OrderStatus.cancelled, "changed my mind")
                raise RuntimeError("the rest of the block fails")
        assert {"status", "cancel_reason"} <= inspect(order).expired_attributes
        await uow.session.refresh(order)
        assert (order.status, order.cancel_reason) == (OrderStatus.pending_payment, None)


async def test_a_line_of_only_spaces_is_no_answer(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, order["id"])
    ship = f"/api/v1/orders/{order['id']}/ship"
    for blank in ({"carrier": "  ", "tracking_number": "SF1"}, {"carrier": "SF", "tracking_number": "\t "}):
        r = await client.post(ship, headers=supplier.headers, json=blank)
        assert (r.status_code, code(r)) == (422, "validation_error")
    r = await client.post(ship, headers=supplier.headers, json={"carrier": " SF ", "tracking_number": " SF1 "})
    assert (r.json()["carrier"], r.json()["tracking_number"]) == ("SF", "SF1")
    await client.post(f"/api/v1/orders/{order['id']}/receive", headers=buyer.headers)
    r = await client.post(f"/api/v1/orders/{order['id']}/refund", headers=supplier.headers, json={"reason": " "})
    assert (r.status_code, code(r)) == (422, "validation_error")


async def test_the_supplier_sees_the_buyers_address_only_once_paid(client: httpx.AsyncClient) -> None:
    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML

    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    assert order["shipping_address"]["phone"]  # the buyer always sees their own
    seen = (await client.get(f"/api/v1/orders/{order['id']}", headers=supplier.headers)).json()
    assert seen["shipping_address"] is None
    listed = (await client.get("/api/v1/orders", headers=supplier.headers)).json()["items"]
    assert [o["shipping_address"] for o in listed] == [None]
    browser = await browser_for(client, supplier)
    for page in ("/supplier/orders?status=pending_payment", f"/orders/{order['id']}"):
        assert "文三路" not in (await browser.get(page, headers=HTML)).text, page
    await pay_order(client, buyer, order["id"])
    seen = (await client.get(f"/api/v1/orders/{order['id']}", headers=supplier.headers)).json()
    assert seen["shipping_address"]["line1"] == "文三路 90 号"
    assert "文三路" in (await browser.get("/supplier/orders?status=paid", headers=HTML)).text


async def test_a_no_reason_return_needs_no_reason(client: httpx.AsyncClient) -> None:
    _, buyer, _, order = await received_order(client)
    r = await client.post(f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={"reason": "   "})
    assert r.status_code == 201 and r.json()["reason"] == ""  # spaces are no reason, which is allowed


async def test_an_order_with_an_expected_total_is_placed_only_at_that_total(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, price=1000, stock=5)
    sku = product["skus"][0]["id"]

    async def order(total: object, key: str) -> httpx.Response:
        body = {"items": [{"sku_id": sku, "quantity": 2}], "shipping_address": ADDRESS, "expected_total_minor": total}
        return await client.post("/api/v1/orders", headers={**buyer.headers, "Idempotency-Key": key}, json=body)

    r = await order(1800, "a")
    assert (r.status_code, code(r), r.json()["error"]["fields"]) == (409, "price_changed", {"total_minor": "2000"})
    stock = (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]["stock"]
    assert stock == 5 and (await client.get("/api/v1/orders", headers=buyer.headers)).json()["items"] == []
    for bad in (0, "2000", 2000.0, True):
        assert (await order(bad, "b")).status_code == 422, bad
    r = await order(2000, "a")  # the refused request kept nothing, not even its key
    assert r.status_code == 201 and r.json()["total_minor"] == 2000


async def test_a_buyer_takes_back_a_paid_order_the_supplier_has_not_shipped(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    supplier, buyer, other = (
        await actor(client, "supplier"),
        await actor(client, "consumer"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier, price=5000, stock=4)
    order = await place_order(client, buyer, product["skus"][0]["id"], 2)
    await pay_order(client, buyer, order["id"])
    url = f"/api/v1/orders/{order['id']}/cancel-and-refund"
    r = await client.post(url, headers=other.headers)
    assert (r.status_code, code(r)) == (404, "order_not_found")
    r = await client.post(url, headers=supplier.headers)
    assert (r.status_code, code(r)) == (403, "forbidden_role")
    r = await client.post(url, headers=buyer.headers, json={"reason": "x" * 201})
    assert (r.status_code, code(r)) == (422, "validation_error")
    r = await client.post(url, headers=buyer.headers)
    assert r.status_code == 200 and r.json()["status"] == "refunded", r.text
    await drain(client)
    assert (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]["stock"] == 4  # back on sale
    tb = (await client.get("/api/v1/admin/ledger/trial-balance", headers=admin)).json()
    assert tb["total_minor"] == 0
    assert (await client.get("/api/v1/me/earnings", headers=supplier.headers)).json()["pending_minor"] == 0
    refunds = (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()
    assert refunds["status"] == "refunded"
    told = (await client.get("/api/v1/notifications", headers=supplier.headers)).json()["items"]
    assert [n["kind"] for n in told if n["order_id"] == order["id"]] == ["buyer_cancelled"]
    r = await client.post(url, headers=buyer.headers)  # once refunded, nothing more to take back
    assert (r.status_code, code(r)) == (409, "invalid_state")
    ship = {"carrier": "SF", "tracking_number": "SF1"}
    r = await client.post(f"/api/v1/orders/{order['id']}/ship", headers=supplier.headers, json=ship)
    assert (r.status_code, code(r)) == (409, "invalid_state")  # the supplier does not ship it

    shipped = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, shipped["id"])
    await client.post(f"/api/v1/orders/{shipped['id']}/ship", headers=supplier.headers, json=ship)
    r = await client.post(f"/api/v1/orders/{shipped['id']}/cancel-and-refund", headers=buyer.headers)
    assert (r.status_code, code(r)) == (409, "invalid_state")  # on its way: a return instead
    unpaid = await place_order(client, buyer, product["skus"][0]["id"])
    r = await client.post(f"/api/v1/orders/{unpaid['id']}/cancel-and-refund", headers=buyer.headers)
    assert (r.status_code, code(r)) == (409, "invalid_state")  # unpaid: cancel it


async def test_taking_back_an_order_as_it_ships_ends_one_way(client: httpx.AsyncClient, stack: Stack) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=30)
    ship = {"carrier": "SF", "tracking_number": "SF1"}
    shipped_count = 0
    for _ in range(8):
        order = await place_order(client, buyer, product["skus"][0]["id"])
        await pay_order(client, buyer, order["id"])
        shipped, taken = await asyncio.gather(
            client.post(f"/api/v1/orders/{order['id']}/ship", headers=supplier.headers, json=ship),
            client.post(f"/api/v1/orders/{order['id']}/cancel-and-refund", headers=buyer.headers),
        )
        assert sorted((shipped.status_code, taken.status_code)) == [200, 409]
        final = (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()["status"]
        assert final == ("shipped" if shipped.status_code == 200 else "refunded")
        shipped_count += shipped.status_code == 200
    await drain(client)
    left = (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]["stock"]
    assert left == 30 - shipped_count  # what was taken back is on sale again, what shipped is not
