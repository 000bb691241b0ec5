from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
import pytest

from grassroots.catalog import service as catalog
from grassroots.catalog.schemas import ProductPatch, SkuIn, SkuPatch
from grassroots.kernel.auth import Principal, Role
from grassroots.kernel.errors import Invalid
from grassroots.kernel.platform import Platform
from tests.conftest import ADDRESS, actor, make_product, place_order


def code(r: httpx.Response) -> str:
    return r.json()["error"]["code"]


async def test_supplier_lists_a_product(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    product = await make_product(client, supplier, price=6800, stock=12, commission_bps=1500)
    assert product["status"] == "active" and product["commission_bps"] == 1500
    assert product["supplier_id"] == supplier.id
    sku = product["skus"][0]
    assert set(sku) == {"id", "name", "price_minor", "currency", "stock"}
    assert (sku["price_minor"], sku["currency"], sku["stock"]) == (6800, "CNY", 12)
    fetched = (await client.get(f"/api/v1/products/{product['id']}")).json()
    assert fetched == product


@pytest.mark.parametrize(
    ("patch", "status", "error"),
    [
        ({"commission_bps": 50}, 422, "invalid_commission"),
        ({"commission_bps": 8001}, 422, "invalid_commission"),
        ({"commission_bps": -1}, 422, "invalid_commission"),
        ({"category": "weapons"}, 422, "invalid_category"),
        ({"skus": []}, 422, "validation_error"),
        ({"skus": [{"name": "a", "price_minor": 0, "currency": "CNY", "stock": 1}]}, 422, "validation_error"),
        ({"skus": [{"name": "a", "price_minor": 100, "currency": "XYZ", "stock": 1}]}, 422, "invalid_currency"),
        ({"skus": [{"name": "a", "price_minor": 100, "currency": "CNY", "stock": -1}]}, 422, "validation_error"),
        (
            {
                "skus": [
                    {"name": "a", "price_minor": 1, "currency": "CNY", "stock": 1},
                    {"name": "b", "price_minor": 1, "currency": "USD", "stock": 1},
                ]
            },
            422,
            "mixed_currency",
        ),
        (
            {
                "skus": [
                    {"name": "a", "price_minor": 1, "currency": "CNY", "stock": 1},
                    {"name": "A", "price_minor": 1, "currency": "CNY", "stock": 1},
                ]
            },
            422,
            "validation_error",
        ),
        ({"title": "   "}, 422, "validation_error"),
        ({"price": 5}, 422, "validation_error"),
        # money, stock and rates are JSON integers: no true, "6800" or 68.0 read as one
        ({"skus": [{"name": "a", "price_minor": True, "currency": "CNY", "stock": 1}]}, 422, "validation_error"),
        ({"skus": [{"name": "a", "price_minor": "6800", "currency": "CNY", "stock": 1}]}, 422, "validation_error"),
        ({"skus": [{"name": "a", "price_minor": 68.0, "currency": "CNY", "stock": 1}]}, 422, "validation_error"),
        ({"skus": [{"name": "a", "price_minor": 100, "currency": "CNY", "stock": True}]}, 422, "validation_error"),
        ({"commission_bps": "2000"}, 422, "validation_error"),
        # withdrawn currencies, gold and ISO's test code are no money to sell in
        *(
            ({"skus": [{"name": "a", "price_minor": 100, "currency": c, "stock": 1}]}, 422, "invalid_currency")
            for c in ("DEM", "VEF", "XAU", "XTS", "XXX")
        ),
    ],
)
async def test_bad_products_are_refused(client: httpx.AsyncClient, patch: dict, status: int, error: str) -> None:
    supplier = await actor(client, "supplier")
    body = {
        "title": "Cup",
        "category": "home",
        "commission_bps": 1000,
        "skus": [{"name": "one", "price_minor": 100, "currency": "CNY", "stock": 1}],
        **patch,
    }
    r = await client.post("/api/v1/products", headers=supplier.headers, json=body)
    assert (r.status_code, code(r)) == (status, error)


@pytest.mark.parametrize("role", ["consumer", "creator", "mcn", "admin"])
async def test_only_suppliers_list_products(client: httpx.AsyncClient, role: str) -> None:
    who = await actor(client, role)
    r = await client.post(
        "/api/v1/products",
        headers=who.headers,
        json={
            "title": "Cup",
            "category": "home",
            "commission_bps": 0,
            "skus": [{"name": "one", "price_minor": 100, "currency": "CNY", "stock": 1}],
        },
    )
    assert (r.status_code, code(r)) == (403, "forbidden_role")


async def test_drafts_are_seen_only_by_their_supplier(client: httpx.AsyncClient) -> None:
    supplier, other = await actor(client, "supplier"), await actor(client, "supplier")
    draft = await make_product(client, supplier, status="draft", title="Secret draft")
    live = await make_product(client, supplier, title="Live cup")
    assert (await client.get(f"/api/v1/products/{draft['id']}")).status_code == 404
    assert (await client.get(f"/api/v1/products/{draft['id']}", headers=other.headers)).status_code == 404
    assert (await client.get(f"/api/v1/products/{draft['id']}", headers=supplier.headers)).status_code == 200
    public = (await client.get("/api/v1/products", params={"supplier_id": supplier.id})).json()["items"]
    assert [p["id"] for p in public] == [live["id"]]
    own = (await client.get("/api/v1/products", params={"supplier_id": supplier.id}, headers=supplier.headers)).json()
    assert {p["id"] for p in own["items"]} == {draft["id"], live["id"]}
    snooping = (await client.get("/api/v1/products", params={"supplier_id": supplier.id}, headers=other.headers)).json()
    assert [p["id"] for p in snooping["items"]] == [live["id"]]


async def test_search_and_category_filter(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    tea = await make_product(client, supplier, title="西湖龙井 Longjing tea", category="food")
    cup = await make_product(client, supplier, title="Celadon cup", category="home")
    assert [p["id"] for p in (await client.get("/api/v1/products", params={"q": "龙井"})).json()["items"]] == [
        tea["id"]
    ]
    assert [p["id"] for p in (await client.get("/api/v1/products", params={"q": "CELADON"})).json()["items"]] == [
        cup["id"]
    ]
    assert [p["id"] for p in (await client.get("/api/v1/products", params={"category": "food"})).json()["items"]] == [
        tea["id"]
    ]
    assert (await client.get("/api/v1/products", params={"q": "100%_\\"})).status_code == 200
    assert tea["returnable"] is False and cup["returnable"] is True


async def test_only_the_owner_edits_and_sets_stock(client: httpx.AsyncClient) -> None:
    supplier, other = await actor(client, "supplier"), await actor(client, "supplier")
    product = await make_product(client, supplier)
    sku_id = product["skus"][0]["id"]
    r = await client.patch(f"/api/v1/products/{product['id']}", headers=other.headers, json={"title": "Mine now"})
    assert (r.status_code, code(r)) == (403, "not_owner")
    r = await client.put(f"/api/v1/skus/{sku_id}/stock", headers=other.headers, json={"stock": 0})
    assert (r.status_code, code(r)) == (403, "not_owner")
    r = await client.patch(
        f"/api/v1/products/{product['id']}",
        headers=supplier.headers,
        json={"title": "Celadon cup, large", "commission_bps": 3000},
    )
    assert r.status_code == 200 and r.json()["title"] == "Celadon cup, large" and r.json()["commission_bps"] == 3000
    r = await client.put(f"/api/v1/skus/{sku_id}/stock", headers=supplier.headers, json={"stock": 42})
    assert r.status_code == 200 and r.json()["stock"] == 42
    r = await client.put(f"/api/v1/skus/{sku_id}/stock", headers=supplier.headers, json={"stock": -1})
    assert (r.status_code, code(r)) == (422, "validation_error")
    r = await client.patch(f"/api/v1/products/{product['id']}", headers=supplier.headers, json={"status": "archived"})
    assert r.json()["status"] == "archived"
    assert (await client.get(f"/api/v1/products/{product['id']}")).status_code == 404


async def test_unknown_ids_are_404(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    missing = "01a20000-0000-7000-8000-000000000000"
    assert code(await client.get(f"/api/v1/products/{missing}")) == "product_not_found"
    assert code(await client.put(f"/api/v1/skus/{missing}/stock", headers=supplier.headers, json={"stock": 1})) == (
        "sku_not_found"
    )
    assert (await client.get("/api/v1/products/not-a-uuid")).status_code == 422


async def test_categories_are_listed(client: httpx.AsyncClient) -> None:
    cats = {c["code"]: c for c in (await client.get("/api/v1/categories")).json()}
    assert cats["food"]["returnable"] is False and cats["digital"]["returnable"] is False
    assert cats["beauty"]["returnable"] is True


async def test_a_draft_is_its_suppliers_alone_and_unknown_to_everyone_else(client: httpx.AsyncClient) -> None:
    supplier, other, buyer = (
        await actor(client, "supplier"),
        await actor(client, "supplier"),
        await actor(client, "consumer"),
    )
    draft = await make_product(client, supplier, status="draft")
    sku = draft["skus"][0]["id"]
    # its supplier previews it, reviews included (none yet)
    r = await client.get(f"/api/v1/products/{draft['id']}/reviews", headers=supplier.headers)
    assert r.status_code == 200 and r.json()["summary"]["count"] == 0
    page = await client.get(f"/products/{draft['id']}", headers={**supplier.headers, "accept": "text/html"})
    assert page.status_code == 200 and draft["title"] in page.text
    for who in (other, buyer):
        r = await client.get(f"/api/v1/products/{draft['id']}/reviews", headers=who.headers)
        assert (r.status_code, code(r)) == (404, "product_not_found")
    # another supplier cannot tell its SKU from one that does not exist
    missing = "01a20000-0000-7000-8000-000000000000"
    for sku_id in (sku, missing):
        r = await client.put(f"/api/v1/skus/{sku_id}/stock", headers=other.headers, json={"stock": 1})
        assert (r.status_code, code(r)) == (404, "sku_not_found")
    # nor can a shopper, ordering it
    for sku_id in (sku, missing):
        r = await client.post(
            "/api/v1/orders",
            headers={**buyer.headers, "Idempotency-Key": sku_id},
            json={"items": [{"sku_id": sku_id, "quantity": 1}], "shipping_address": ADDRESS},
        )
        assert (r.status_code, code(r)) == (422, "unknown_sku")


@pytest.mark.parametrize("q", ["чай", "ÉTÉ", "été", "TEA"])
async def test_the_product_filter_ignores_case_in_every_script(client: httpx.AsyncClient, q: str) -> None:
    supplier = await actor(client, "supplier")
    await make_product(client, supplier, title="Чай Été tea")
    r = await client.get("/api/v1/products", params={"q": q})
    assert r.status_code == 200 and [p["title"] for p in r.json()["items"]] == ["Чай Été tea"]


async def test_stock_set_from_a_stale_count_is_refused(client: httpx.AsyncClient) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    sku = (await make_product(client, supplier, stock=10))["skus"][0]["id"]
    await place_order(client, buyer, sku, 3)  # takes 3 after the supplier read 10
    r = await client.put(
        f"/api/v1/skus/{sku}/stock", headers=supplier.headers, json={"stock": 15, "expected_stock": 10}
    )
    assert (r.status_code, code(r), r.json()["error"]["fields"]) == (409, "stock_changed", {"stock": "7"})
    r = await client.put(f"/api/v1/skus/{sku}/stock", headers=supplier.headers, json={"stock": 12, "expected_stock": 7})
    assert (r.status_code, r.json()["stock"]) == (200, 12)
    r = await client.put(f"/api/v1/skus/{sku}/stock", headers=supplier.headers, json={"stock": 5})  # outright
    assert (r.status_code, r.json()["stock"]) == (200, 5)


async def test_a_commission_is_changed_only_over_the_rate_the_client_read(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    product = await make_product(client, supplier, commission_bps=3000)
    url = f"/api/v1/products/{product['id']}"
    assert (await client.patch(url, headers=supplier.headers, json={"commission_bps": 4000})).is_success
    r = await client.patch(
        url, headers=supplier.headers, json={"commission_bps": 2500, "expected_commission_bps": 3000}
    )
    assert (r.status_code, code(r), r.json()["error"]["fields"]) == (
        409,
        "commission_changed",
        {"commission_bps": "4000"},
    )
    assert (await client.get(url)).json()["commission_bps"] == 4000
    r = await client.patch(
        url, headers=supplier.headers, json={"commission_bps": 2500, "expected_commission_bps": 4000}
    )
    assert r.json()["commission_bps"] == 2500
    # a title fixed from a stale read with no new rate is no conflict
    r = await client.patch(url, headers=supplier.headers, json={"title": "New", "expected_commission_bps": 1})
    assert (r.status_code, r.json()["commission_bps"]) == (200, 2500)


async def test_two_commission_changes_at_once_are_recorded_in_the_order_they_happen(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    """The second change waits for the first and is recorded from the rate the first left:
    the 30-day protection is measured from these records."""
    if platform.db.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: the second cannot read before the first commits")
    supplier = await actor(client, "supplier")
    product = await make_product(client, supplier, commission_bps=3000)
    me = Principal(id=uuid.UUID(supplier.id), role=Role.supplier, handle=supplier.handle, email=supplier.email)
    pid = uuid.UUID(product["id"])

    async def change(bps: int) -> None:
        async with platform.unit_of_work() as uow:
            await catalog.update_product(uow, me, pid, ProductPatch(commission_bps=bps))

    async with platform.unit_of_work() as first:
        await catalog.update_product(first, me, pid, ProductPatch(commission_bps=1000))
        second = asyncio.create_task(change(5000))
        await asyncio.sleep(0.3)
        assert not second.done()  # it waits for the first to commit
    await second
    async with platform.unit_of_work(write=False) as uow:
        since = datetime(2000, 1, 1, tzinfo=UTC)
        history = await catalog.commission_changes_since(uow, [pid], since)
    ordered = sorted(history, key=lambda c: c.changed_at)
    assert [(c.old_bps, c.new_bps) for c in ordered] == [(3000, 1000), (1000, 5000)]
    assert (await client.get(f"/api/v1/products/{product['id']}")).json()["commission_bps"] == 5000


async def test_blank_filters_are_no_filters(client: httpx.AsyncClient) -> None:
    """``?q=&category=&supplier_id=&cursor=``: a URL template or a form left blank."""
    supplier, creator = await actor(client, "supplier"), await actor(client, "creator")
    product = await make_product(client, supplier, commission_bps=2000)
    r = await client.get("/api/v1/products?q=&category=&supplier_id=&cursor=")
    assert [p["id"] for p in r.json()["items"]] == [product["id"]]
    r = await client.get("/api/v1/affiliate/pool?category=&sort=commission&cursor=", headers=creator.headers)
    assert [p["id"] for p in r.json()["items"]] == [product["id"]]
    r = await client.get("/api/v1/products?supplier_id=nobody")
    assert (r.status_code, code(r)) == (422, "validation_error")


async def test_a_supplier_renames_and_reprices_a_sku_and_orders_placed_keep_their_price(
    client: httpx.AsyncClient,
) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, price=680, stock=10)
    sku = product["skus"][0]
    before = await place_order(client, buyer, sku["id"], 2)
    r = await client.patch(
        f"/api/v1/skus/{sku['id']}",
        headers=supplier.headers,
        json={"name": "250 g tin", "price_minor": 6800, "expected_price_minor": 680},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["price_minor"], r.json()["stock"]) == ("250 g tin", 6800, 8)
    got = (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]
    assert (got["name"], got["price_minor"]) == ("250 g tin", 6800)
    after = await place_order(client, buyer, sku["id"], 1)
    assert (before["total_minor"], after["total_minor"]) == (1360, 6800)
    again = await client.get(f"/api/v1/orders/{before['id']}", headers=buyer.headers)
    assert again.json()["total_minor"] == 1360  # placed at the old price, paid at it
    # a page read before this change sets nothing over it
    r = await client.patch(
        f"/api/v1/skus/{sku['id']}", headers=supplier.headers, json={"price_minor": 700, "expected_price_minor": 680}
    )
    assert (r.status_code, code(r), r.json()["error"]["fields"]) == (409, "price_changed", {"price_minor": "6800"})
    r = await client.patch(f"/api/v1/skus/{sku['id']}", headers=supplier.headers, json={"name": "  "})
    assert (r.status_code, code(r)) == (422, "validation_error")
    for bad in ({"price_minor": 0}, {"price_minor": "700"}, {"price_minor": 6.5}, {"name": "x" * 101}, {"stock": 3}):
        r = await client.patch(f"/api/v1/skus/{sku['id']}", headers=supplier.headers, json=bad)
        assert (r.status_code, code(r)) == (422, "validation_error"), bad


async def test_a_supplier_adds_a_sku_in_the_products_currency_with_a_name_of_its_own(
    client: httpx.AsyncClient,
) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, price=1000)
    new = {"name": "Gift box", "price_minor": 2500, "currency": "CNY", "stock": 4}
    r = await client.post(f"/api/v1/products/{product['id']}/skus", headers=supplier.headers, json=new)
    assert r.status_code == 201, r.text
    added = r.json()
    got = (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"]
    assert [s["id"] for s in got] == [product["skus"][0]["id"], added["id"]]  # after the others
    assert (await place_order(client, buyer, added["id"], 4))["total_minor"] == 10_000
    for body, status, error in (
        ({**new, "name": "GIFT BOX "}, 422, "validation_error"),  # names differ beyond case and spaces
        ({**new, "name": "USD box", "currency": "USD"}, 422, "mixed_currency"),
        ({**new, "name": "Old money", "currency": "DEM"}, 422, "invalid_currency"),
        ({**new, "name": "Free", "price_minor": 0}, 422, "validation_error"),
    ):
        r = await client.post(f"/api/v1/products/{product['id']}/skus", headers=supplier.headers, json=body)
        assert (r.status_code, code(r)) == (status, error), body
    renamed = await client.patch(
        f"/api/v1/skus/{product['skus'][0]['id']}", headers=supplier.headers, json={"name": "gift box"}
    )
    assert (renamed.status_code, code(renamed)) == (422, "validation_error")
    for i in range(48):  # up to 50 options, as at listing
        body = {**new, "name": f"size {i}"}
        assert (
            await client.post(f"/api/v1/products/{product['id']}/skus", headers=supplier.headers, json=body)
        ).is_success
    r = await client.post(
        f"/api/v1/products/{product['id']}/skus", headers=supplier.headers, json={**new, "name": "one more"}
    )
    assert (r.status_code, code(r)) == (422, "too_many_skus")


async def test_only_the_owner_changes_or_adds_skus(client: httpx.AsyncClient) -> None:
    owner, other = await actor(client, "supplier"), await actor(client, "supplier")
    product = await make_product(client, owner)
    draft = await make_product(client, owner, status="draft")
    sku = product["skus"][0]["id"]
    new = {"name": "B", "price_minor": 100, "currency": "CNY", "stock": 1}
    r = await client.patch(f"/api/v1/skus/{sku}", headers=other.headers, json={"price_minor": 1})
    assert (r.status_code, code(r)) == (403, "not_owner")
    r = await client.post(f"/api/v1/products/{product['id']}/skus", headers=other.headers, json=new)
    assert (r.status_code, code(r)) == (403, "not_owner")
    # another supplier's draft is as unknown as nothing at all
    r = await client.patch(f"/api/v1/skus/{draft['skus'][0]['id']}", headers=other.headers, json={"price_minor": 1})
    assert (r.status_code, code(r)) == (404, "sku_not_found")
    r = await client.post(f"/api/v1/products/{draft['id']}/skus", headers=other.headers, json=new)
    assert (r.status_code, code(r)) == (404, "product_not_found")
    r = await client.patch(f"/api/v1/skus/{uuid.uuid4()}", headers=owner.headers, json={"price_minor": 1})
    assert (r.status_code, code(r)) == (404, "sku_not_found")
    for role in ("consumer", "creator", "mcn"):
        who = await actor(client, role)
        r = await client.patch(f"/api/v1/skus/{sku}", headers=who.headers, json={"price_minor": 1})
        assert (r.status_code, code(r)) == (403, "forbidden_role"), role
        r = await client.post(f"/api/v1/products/{product['id']}/skus", headers=who.headers, json=new)
        assert (r.status_code, code(r)) == (403, "forbidden_role"), role
    assert (await client.patch(f"/api/v1/skus/{sku}", json={"price_minor": 1})).status_code == 401
    got = (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"]
    assert [(s["name"], s["price_minor"]) for s in got] == [
        (product["skus"][0]["name"], product["skus"][0]["price_minor"])
    ]


async def test_sku_edits_of_one_product_at_once_take_turns(client: httpx.AsyncClient, platform: Platform) -> None:
    """An edit waiting for another's locks sees what the other added: two adds of one name,
    or an add and a rename to it, never leave a product with two options of one name."""
    if platform.db.dialect != "postgresql":
        pytest.skip("SQLite has one writer at a time: the second cannot read before the first commits")
    supplier = await actor(client, "supplier")
    product = await make_product(client, supplier)
    me = Principal(id=uuid.UUID(supplier.id), role=Role.supplier, handle=supplier.handle, email=supplier.email)
    pid, first_sku = uuid.UUID(product["id"]), uuid.UUID(product["skus"][0]["id"])

    async def add(name: str) -> None:
        async with platform.unit_of_work() as uow:
            await catalog.add_sku(uow, me, pid, SkuIn(name=name, price_minor=2500, currency="CNY", stock=4))

    async def rename(name: str) -> None:
        async with platform.unit_of_work() as uow:
            await catalog.update_sku(uow, me, first_sku, SkuPatch(name=name))

    for name, late in (("Gift box", add("gift BOX")), ("Gift tin", rename("GIFT tin"))):
        async with platform.unit_of_work() as first:
            await catalog.add_sku(first, me, pid, SkuIn(name=name, price_minor=2500, currency="CNY", stock=4))
            second = asyncio.create_task(late)
            await asyncio.sleep(0.3)
            assert not second.done()  # it waits for the first to commit
        with pytest.raises(Invalid):
            await second
    names = [s["name"] for s in (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"]]
    assert names == [product["skus"][0]["name"], "Gift box", "Gift tin"]
