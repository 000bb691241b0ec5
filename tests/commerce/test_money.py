"""The money path end to end over HTTP: split, pending, settlement, refunds, claw-back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx

from grassroots.commerce import service as commerce
from grassroots.commerce import tasks
from grassroots.commerce.models import Order
from grassroots.kernel.clock import FixedClock
from grassroots.kernel.ids import new_id
from grassroots.kernel.platform import Platform
from grassroots.payments import sandbox
from tests.conftest import Actor, actor, advance, drain, earnings, make_admin, make_product, pay_order, place_order


async def admin_headers(client: httpx.AsyncClient) -> dict[str, str]:
    admin = await make_admin(client)
    r = await client.post("/api/v1/auth/token", json={"email": admin["email"], "password": admin["password"]})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def trial_balance(client: httpx.AsyncClient, admin: dict[str, str]) -> dict:
    tb = (await client.get("/api/v1/admin/ledger/trial-balance", headers=admin)).json()
    assert tb["total_minor"] == 0 and all(v == 0 for v in tb["totals"].values())
    assert tb["unbalanced_transactions"] == []
    return tb


async def world(client: httpx.AsyncClient) -> tuple[Actor, Actor, Actor, Actor, dict]:
    supplier, creator, mcn, buyer = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "mcn"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier, price=9999, stock=20, commission_bps=2000)
    await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": product["id"]})
    contract = (
        await client.post(
            "/api/v1/mcn/contracts", headers=mcn.headers, json={"creator_id": creator.id, "share_bps": 3000}
        )
    ).json()
    await client.post(f"/api/v1/mcn/contracts/{contract['id']}/accept", headers=creator.headers)
    return supplier, creator, mcn, buyer, product


async def test_a_paid_order_splits_to_the_last_fen_and_settles_after_the_window(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    supplier, creator, mcn, buyer, product = await world(client)
    order = await place_order(client, buyer, product["skus"][0]["id"], 2, source={"creator_id": creator.id})
    assert order["total_minor"] == 19_998
    for who in (creator, mcn, supplier):
        assert (await earnings(client, who))["pending_minor"] == 0
    await pay_order(client, buyer, order["id"])
    # 5% fee 1000, 20% commission 4000 of which the MCN takes 30% (1200), supplier the rest
    got = {who.role: await earnings(client, who) for who in (creator, mcn, supplier)}
    assert {k: (v["pending_minor"], v["available_minor"]) for k, v in got.items()} == {
        "creator": (2800, 0),
        "mcn": (1200, 0),
        "supplier": (14_998, 0),
    }
    assert got["creator"]["entries"][0]["order_id"] == order["id"] and got["creator"]["currency"] == "CNY"
    tb = await trial_balance(client, admin)
    fee = next(a for a in tb["accounts"] if a["account"] == "fee_revenue")
    assert fee["balance_minor"] == -1000

    await client.post(
        f"/api/v1/orders/{order['id']}/ship", headers=supplier.headers, json={"carrier": "SF", "tracking_number": "1"}
    )
    await client.post(f"/api/v1/orders/{order['id']}/receive", headers=buyer.headers)
    await advance(client, 7 * 86400 - 60)
    assert (await client.post("/api/v1/admin/settlements", headers=admin, json={})).json()["settled"] == 0
    await advance(client, 120)
    settled = (await client.post("/api/v1/admin/settlements", headers=admin, json={})).json()
    assert settled == {"settled": 1, "order_ids": [order["id"]]}
    assert (await client.post("/api/v1/admin/settlements", headers=admin)).json()["settled"] == 0
    got = {who.role: await earnings(client, who) for who in (creator, mcn, supplier)}
    assert {k: (v["pending_minor"], v["available_minor"]) for k, v in got.items()} == {
        "creator": (0, 2800),
        "mcn": (0, 1200),
        "supplier": (0, 14_998),
    }
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()["status"] == "completed"
    await trial_balance(client, admin)


async def test_refund_before_settlement_reverses_the_split(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    supplier, creator, mcn, buyer, product = await world(client)
    order = await place_order(client, buyer, product["skus"][0]["id"], 1, source={"creator_id": creator.id})
    await pay_order(client, buyer, order["id"])
    r = await client.post(f"/api/v1/orders/{order['id']}/refund", headers=supplier.headers, json={"reason": "no stock"})
    assert r.json()["status"] == "refunded"
    tb = await trial_balance(client, admin)
    payable = next(a for a in tb["accounts"] if a["account"] == "refunds_payable")
    assert payable["balance_minor"] == -9999  # owed to the buyer until the provider confirms
    await drain(client)
    tb = await trial_balance(client, admin)
    assert all(a["balance_minor"] == 0 for a in tb["accounts"])
    for who in (creator, mcn, supplier):
        e = await earnings(client, who)
        assert (e["pending_minor"], e["available_minor"]) == (0, 0)
        assert [x["kind"] for x in e["entries"]] == ["refund", "payment"]


async def test_refund_after_settlement_claws_back(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    supplier, creator, _mcn, buyer, product = await world(client)
    kept = await place_order(client, buyer, product["skus"][0]["id"], 1, source={"creator_id": creator.id})
    clawed = await place_order(client, buyer, product["skus"][0]["id"], 1, source={"creator_id": creator.id})
    for o in (kept, clawed):
        await pay_order(client, buyer, o["id"])
        await client.post(
            f"/api/v1/orders/{o['id']}/ship", headers=supplier.headers, json={"carrier": "SF", "tracking_number": "1"}
        )
        await client.post(f"/api/v1/orders/{o['id']}/receive", headers=buyer.headers)
    await advance(client, 8 * 86400)
    assert (await client.post("/api/v1/admin/settlements", headers=admin, json={})).json()["settled"] == 2
    assert (await earnings(client, creator))["available_minor"] == 2 * 1400
    r = await client.post(f"/api/v1/orders/{clawed['id']}/refund", headers=admin, json={"reason": "counterfeit"})
    assert r.json()["status"] == "refunded"
    await drain(client)
    e = await earnings(client, creator)
    assert (e["pending_minor"], e["available_minor"]) == (0, 1400)
    assert e["entries"][0]["kind"] == "clawback" and e["entries"][0]["amount_minor"] == -1400
    assert (await earnings(client, supplier))["available_minor"] == 7499
    await trial_balance(client, admin)
    other_supplier = await actor(client, "supplier")
    r = await client.post(f"/api/v1/orders/{kept['id']}/refund", headers=other_supplier.headers, json={"reason": "x"})
    assert r.status_code == 404


async def test_a_payment_that_arrives_after_expiry_is_refunded(client: httpx.AsyncClient, platform: Platform) -> None:
    admin = await admin_headers(client)
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=1)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    pay = (await client.post(f"/api/v1/orders/{order['id']}/pay", headers=buyer.headers, json={})).json()
    await advance(client, 16 * 60)
    # The buyer pressed Pay just as the shop expired the order: the provider took the money,
    # and its webhook arrives for a cancelled order.
    async with platform.unit_of_work() as uow:
        await sandbox.confirm(uow, uuid.UUID(pay["payment_id"]))
        assert await commerce.expire(uow, uuid.UUID(order["id"]))
    await drain(client)
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()["status"] == "cancelled"
    payment = (await client.get(f"/api/v1/payments/{pay['payment_id']}", headers=buyer.headers)).json()
    assert payment["status"] == "succeeded"
    tb = await trial_balance(client, admin)
    assert all(a["balance_minor"] == 0 for a in tb["accounts"])  # money in, money back out
    assert {a["account"] for a in tb["accounts"]} == {"clearing", "refunds_payable"}
    assert (await earnings(client, supplier))["pending_minor"] == 0


async def test_a_checkout_closes_with_its_order(client: httpx.AsyncClient, platform: Platform) -> None:
    """A pay page still open in another tab takes no money once the order is cancelled or
    expired: the shop closes the checkout at the provider too."""
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    sku = (await make_product(client, supplier, stock=5))["skus"][0]["id"]
    cancelled = await place_order(client, buyer, sku)
    expired = await place_order(client, buyer, sku)
    pays = {}
    for order in (cancelled, expired):
        r = await client.post(f"/api/v1/orders/{order['id']}/pay", headers=buyer.headers, json={})
        pays[order["id"]] = r.json()["payment_id"]
    assert (await client.post(f"/api/v1/orders/{cancelled['id']}/cancel", headers=buyer.headers)).is_success
    await advance(client, 16 * 60)
    assert await tasks.expire_unpaid_orders(platform) == 1
    for order in (cancelled, expired):
        payment_id = pays[order["id"]]
        page = await client.get(f"/sandbox/payments/{payment_id}", headers={"accept": "text/html"})
        assert page.status_code == 200 and "Expired" in page.text and "/confirm" not in page.text
        r = await client.post(f"/sandbox/payments/{payment_id}/confirm")
        assert (r.status_code, r.json()["error"]["code"]) == (409, "checkout_closed")
        await drain(client)
        payment = (await client.get(f"/api/v1/payments/{payment_id}", headers=buyer.headers)).json()
        assert payment["status"] == "expired"
        got = (await client.get(f"/api/v1/orders/{order['id']}", headers=buyer.headers)).json()
        assert got["status"] == "cancelled"


async def test_each_party_sees_only_its_own_money(client: httpx.AsyncClient) -> None:
    supplier, creator_a, mcn_a, buyer, product = await world(client)
    creator_b, mcn_b = await actor(client, "creator"), await actor(client, "mcn")
    await client.post("/api/v1/showcase", headers=creator_b.headers, json={"product_id": product["id"]})
    contract = (
        await client.post(
            "/api/v1/mcn/contracts", headers=mcn_b.headers, json={"creator_id": creator_b.id, "share_bps": 5000}
        )
    ).json()
    await client.post(f"/api/v1/mcn/contracts/{contract['id']}/accept", headers=creator_b.headers)
    a = await place_order(client, buyer, product["skus"][0]["id"], 1, source={"creator_id": creator_a.id})
    b = await place_order(client, buyer, product["skus"][0]["id"], 1, source={"creator_id": creator_b.id})
    await pay_order(client, buyer, a["id"])
    await pay_order(client, buyer, b["id"])
    ea, eb = await earnings(client, mcn_a), await earnings(client, mcn_b)
    assert (ea["pending_minor"], eb["pending_minor"]) == (600, 1000)
    assert {e["order_id"] for e in ea["entries"]} == {a["id"]}
    assert {e["order_id"] for e in eb["entries"]} == {b["id"]}
    # shoppers earn only as sharers: the buyer sees an empty account of their own
    mine = await client.get("/api/v1/me/earnings", headers=buyer.headers)
    assert mine.status_code == 200 and mine.json()["pending_minor"] == 0 and mine.json()["entries"] == []
    assert (await client.get("/api/v1/admin/ledger/trial-balance", headers=supplier.headers)).status_code == 403
    assert (await client.post("/api/v1/admin/settlements", headers=mcn_a.headers, json={})).status_code == 403


async def test_earnings_in_two_currencies_show_both_balances_and_page_one_currency(client: httpx.AsyncClient) -> None:
    supplier, creator, buyer = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
    )
    cny = await make_product(client, supplier, price=10_000, commission_bps=2000)
    usd = await make_product(client, supplier, price=2_000, commission_bps=1000, currency="USD")
    for p in (cny, usd):
        await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": p["id"]})
    a = await place_order(client, buyer, cny["skus"][0]["id"], 1, source={"creator_id": creator.id})
    b = await place_order(client, buyer, usd["skus"][0]["id"], 1, source={"creator_id": creator.id})
    await pay_order(client, buyer, a["id"])
    await pay_order(client, buyer, b["id"])
    got = await earnings(client, creator)
    # one answer carries every currency's balance; the entries are those of one currency
    assert got["currencies"] == ["CNY", "USD"]
    assert got["balances"] == [
        {"currency": "CNY", "pending_minor": 2000, "available_minor": 0},
        {"currency": "USD", "pending_minor": 200, "available_minor": 0},
    ]
    assert (got["currency"], got["pending_minor"]) == ("CNY", 2000)
    assert {e["order_id"] for e in got["entries"]} == {a["id"]}
    r = await client.get("/api/v1/me/earnings?currency=USD", headers=creator.headers)
    assert r.status_code == 200 and (r.json()["currency"], r.json()["pending_minor"]) == ("USD", 200)
    assert {e["order_id"] for e in r.json()["entries"]} == {b["id"]}
    r = await client.get("/api/v1/me/earnings?currency=usd", headers=creator.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (422, "validation_error")
    # a currency with nothing in it is an empty account, not an error
    r = await client.get("/api/v1/me/earnings?currency=EUR", headers=creator.headers)
    assert r.status_code == 200 and (r.json()["pending_minor"], r.json()["entries"]) == (0, [])


async def test_the_last_instant_of_the_return_window_still_takes_a_return(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    clock = FixedClock(datetime.now(UTC).replace(microsecond=0))
    platform.clock = clock
    admin = await admin_headers(client)
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=5)
    orders = [await place_order(client, buyer, product["skus"][0]["id"]) for _ in range(2)]
    for order in orders:
        await pay_order(client, buyer, order["id"])
        ship = {"carrier": "SF", "tracking_number": "SF1"}
        assert (await client.post(f"/api/v1/orders/{order['id']}/ship", headers=supplier.headers, json=ship)).is_success
        assert (await client.post(f"/api/v1/orders/{order['id']}/receive", headers=buyer.headers)).is_success
    clock.advance(timedelta(days=7))  # the window's last instant: open for returns, so not settled
    assert (await client.post("/api/v1/admin/settlements", headers=admin, json={})).json()["settled"] == 0
    late = await client.post(f"/api/v1/orders/{orders[0]['id']}/returns", headers=buyer.headers, json={"reason": "x"})
    assert late.status_code == 201
    clock.advance(timedelta(microseconds=1))
    settled = (await client.post("/api/v1/admin/settlements", headers=admin, json={})).json()
    assert settled["order_ids"] == [orders[1]["id"]]  # the other waits for its return's decision
    again = await client.post(f"/api/v1/orders/{orders[1]['id']}/returns", headers=buyer.headers, json={"reason": "x"})
    assert again.status_code == 409


def received_orders(supplier: Actor, buyer: Actor, n: int, at: datetime, status: str = "received") -> list[dict]:
    """Rows of ``n`` orders received (or shipped) at ``at``, written directly: a backlog."""
    moment = {"received_at": at} if status == "received" else {"shipped_at": at}
    return [
        {
            "id": new_id(),
            "buyer_id": uuid.UUID(buyer.id),
            "supplier_id": uuid.UUID(supplier.id),
            "status": status,
            "currency": "CNY",
            "goods_minor": 100,
            "total_minor": 100,
            "scene": "direct",
            "attributed_by": "none",
            "mcn_share_bps": 0,
            "fee_bps": 500,
            "source": {},
            "shipping_address": {},
            "created_at": at - timedelta(days=1),
            "expires_at": at - timedelta(days=1),
            "paid_at": at - timedelta(days=1),
            **moment,
        }
        for _ in range(n)
    ]


async def test_a_backlog_larger_than_a_batch_is_settled_and_received_in_one_run(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    admin = await admin_headers(client)
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    long_ago = platform.clock.now() - timedelta(days=30)
    n = commerce.BATCH + 1
    async with platform.db.engine.begin() as conn:
        await conn.execute(Order.__table__.insert(), received_orders(supplier, buyer, n, long_ago))
    assert (await client.post("/api/v1/admin/settlements", headers=admin, json={})).json()["settled"] == n
    async with platform.db.engine.begin() as conn:
        await conn.execute(Order.__table__.insert(), received_orders(supplier, buyer, n, long_ago))
        await conn.execute(Order.__table__.insert(), received_orders(supplier, buyer, n, long_ago, "shipped"))
    assert await tasks.auto_receive(platform) == n
    assert await tasks.settle(platform) == n  # the window of the orders just received is still open
    await trial_balance(client, admin)
