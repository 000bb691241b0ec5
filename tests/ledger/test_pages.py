"""Each party's earnings page and the operator's ledger page, over HTTP."""

from __future__ import annotations

import re

import httpx

from tests.commerce.test_money import admin_headers
from tests.commerce.test_regressions import browser_for
from tests.conftest import actor, advance, make_product, pay_order, place_order
from tests.web.test_pages import HTML


async def test_a_settlement_is_one_line_that_moves_money_not_a_loss(client: httpx.AsyncClient) -> None:
    supplier, creator, buyer = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier, price=10_000, commission_bps=2000)
    assert (
        await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": product["id"]})
    ).is_success
    order = await place_order(client, buyer, product["skus"][0]["id"], source={"creator_id": creator.id})
    await pay_order(client, buyer, order["id"])
    ship = {"carrier": "SF", "tracking_number": "1"}
    assert (await client.post(f"/api/v1/orders/{order['id']}/ship", headers=supplier.headers, json=ship)).is_success
    assert (await client.post(f"/api/v1/orders/{order['id']}/receive", headers=buyer.headers)).is_success
    await advance(client, 8 * 86400)
    r = await client.post("/api/v1/admin/settlements", headers=await admin_headers(client), json={})
    assert r.json()["order_ids"] == [order["id"]]
    page = (await (await browser_for(client, creator)).get("/earnings", headers=HTML)).text
    statement = page.split('data-testid="earning"')[1:]
    lines = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", x)).strip() for x in statement]
    assert len(lines) == 2, lines  # the sale, and its settlement as one line
    assert "Settled" in lines[0] and "from pending to available" in lines[0] and "¥20.00" in lines[0]
    assert "-CN¥20.00" not in page and 'class="negative"' not in page  # nothing was lost
    assert "Sale" in lines[1] and "+CN¥20.00" in lines[1]
