from __future__ import annotations

import httpx
import pytest

from tests.conftest import actor, advance, make_product, pay_order, place_order


async def test_pool_lists_active_products_with_a_commission(client: httpx.AsyncClient) -> None:
    supplier, creator = await actor(client, "supplier"), await actor(client, "creator")
    low = await make_product(client, supplier, commission_bps=500, title="low")
    high = await make_product(client, supplier, commission_bps=4000, title="high", category="beauty")
    await make_product(client, supplier, commission_bps=0, title="not in pool")
    await make_product(client, supplier, commission_bps=6000, title="draft", status="draft")
    pool = (await client.get("/api/v1/affiliate/pool", headers=creator.headers)).json()["items"]
    assert [p["title"] for p in pool] == ["high", "low"]
    assert all(p["in_showcase"] is False for p in pool)
    newest = (await client.get("/api/v1/affiliate/pool", params={"sort": "new"}, headers=creator.headers)).json()
    assert [p["title"] for p in newest["items"]] == ["high", "low"]
    beauty = (await client.get("/api/v1/affiliate/pool", params={"category": "beauty"}, headers=creator.headers)).json()
    assert [p["id"] for p in beauty["items"]] == [high["id"]]
    bad = await client.get("/api/v1/affiliate/pool", params={"category": "nope"}, headers=creator.headers)
    assert bad.json()["error"]["code"] == "invalid_category"
    assert low["id"] in [p["id"] for p in pool]


async def test_pool_sorts_by_sales(client: httpx.AsyncClient) -> None:
    supplier, creator, buyer = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
    )
    a = await make_product(client, supplier, commission_bps=500, title="seller")
    await make_product(client, supplier, commission_bps=900, title="quiet")
    order = await place_order(client, buyer, a["skus"][0]["id"], 3)
    await pay_order(client, buyer, order["id"])
    by_sales = (await client.get("/api/v1/affiliate/pool", params={"sort": "sales"}, headers=creator.headers)).json()
    assert [p["title"] for p in by_sales["items"]] == ["seller", "quiet"]
    assert by_sales["items"][0]["sold_units"] == 3


@pytest.mark.parametrize("role", ["consumer", "supplier", "mcn"])
async def test_only_creators_browse_the_pool_and_keep_showcases(client: httpx.AsyncClient, role: str) -> None:
    who = await actor(client, role)
    assert (await client.get("/api/v1/affiliate/pool", headers=who.headers)).status_code == 403
    r = await client.post(
        "/api/v1/showcase", headers=who.headers, json={"product_id": "01a20000-0000-7000-8000-000000000000"}
    )
    assert r.status_code == 403


async def test_showcase_add_list_remove(client: httpx.AsyncClient) -> None:
    supplier, creator = await actor(client, "supplier"), await actor(client, "creator")
    cup = await make_product(client, supplier)
    tea = await make_product(client, supplier, title="tea")
    unpooled = await make_product(client, supplier, commission_bps=0, title="own shop only")
    assert (
        await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": cup["id"]})
    ).status_code == 201
    again = await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": cup["id"]})
    assert again.status_code == 200
    assert (
        await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": tea["id"]})
    ).status_code == 201
    r = await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": unpooled["id"]})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "not_in_pool")
    showcase = (await client.get(f"/api/v1/creators/{creator.id}/showcase")).json()["items"]
    assert [e["product"]["title"] for e in showcase] == ["tea", cup["title"]]
    pool = (await client.get("/api/v1/affiliate/pool", headers=creator.headers)).json()["items"]
    assert all(p["in_showcase"] for p in pool)
    assert (await client.delete(f"/api/v1/showcase/{tea['id']}", headers=creator.headers)).status_code == 204
    r = await client.delete(f"/api/v1/showcase/{tea['id']}", headers=creator.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (404, "not_in_showcase")
    await client.patch(f"/api/v1/products/{cup['id']}", headers=supplier.headers, json={"status": "archived"})
    assert (await client.get(f"/api/v1/creators/{creator.id}/showcase")).json()["items"] == []  # off sale: hidden


async def test_lowered_commission_is_honoured_for_30_days_to_existing_promoters(client: httpx.AsyncClient) -> None:
    supplier, early, late = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "creator"),
    )
    buyer = await actor(client, "consumer")
    product = await make_product(client, supplier, commission_bps=3000, stock=50)
    sku = product["skus"][0]["id"]
    await client.post("/api/v1/showcase", headers=early.headers, json={"product_id": product["id"]})
    await advance(client, 60)
    await client.patch(f"/api/v1/products/{product['id']}", headers=supplier.headers, json={"commission_bps": 1000})
    await advance(client, 60)
    await client.post("/api/v1/showcase", headers=late.headers, json={"product_id": product["id"]})

    def rate(order: dict) -> int:
        return order["items"][0]["commission_bps"]

    assert rate(await place_order(client, buyer, sku, source={"creator_id": early.id})) == 3000
    assert rate(await place_order(client, buyer, sku, source={"creator_id": late.id})) == 1000
    await advance(client, 29 * 86400)
    assert rate(await place_order(client, buyer, sku, source={"creator_id": early.id})) == 3000
    await advance(client, 2 * 86400)
    assert rate(await place_order(client, buyer, sku, source={"creator_id": early.id})) == 1000
    # raising it applies to everyone at once
    await client.patch(f"/api/v1/products/{product['id']}", headers=supplier.headers, json={"commission_bps": 2500})
    assert rate(await place_order(client, buyer, sku, source={"creator_id": late.id})) == 2500


async def test_no_commission_for_goods_outside_the_promoters_showcase(client: httpx.AsyncClient) -> None:
    supplier, creator, buyer = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier, commission_bps=3000)
    order = await place_order(client, buyer, product["skus"][0]["id"], source={"creator_id": creator.id})
    # the creator did not promote it: the scene stays, nobody is the promoter, nothing is paid
    assert order["promoter_id"] is None and order["scene"] == "showcase"
    assert order["items"][0]["commission_bps"] == 0


async def test_a_showcase_is_a_creators_and_shows_others_what_is_on_sale(client: httpx.AsyncClient) -> None:
    supplier, creator, shopper = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
    )
    for who in ("01a20000-0000-7000-8000-000000000000", shopper.id, supplier.id):
        r = await client.get(f"/api/v1/creators/{who}/showcase")
        assert (r.status_code, r.json()["error"]["code"]) == (404, "creator_not_found")
    on_sale = await make_product(client, supplier, title="Still on sale")
    await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": on_sale["id"]})
    later = [await make_product(client, supplier, title=f"Gone {i}") for i in range(21)]
    for p in later:  # showcased after it, then taken off sale: a whole first page of them
        await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": p["id"]})
        await client.patch(f"/api/v1/products/{p['id']}", headers=supplier.headers, json={"status": "archived"})
    public = (await client.get(f"/api/v1/creators/{creator.id}/showcase")).json()
    assert [e["product"]["id"] for e in public["items"]] == [on_sale["id"]] and public["next_cursor"] is None
    page = await client.get(f"/creators/{creator.id}/showcase", headers={"accept": "text/html"})
    assert "Still on sale" in page.text
    own = (await client.get(f"/api/v1/creators/{creator.id}/showcase", headers=creator.headers)).json()
    assert len(own["items"]) == 20 and own["next_cursor"]  # the creator still sees everything
