"""Keyword search over products, posts and users, Chinese and English, on both backends."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import actor, advance, drain, make_product
from tests.flow.test_feed import post


async def search(client: httpx.AsyncClient, q: str, type_: str = "products", **params: str) -> dict:
    r = await client.get("/api/v1/search", params={"q": q, "type": type_, **params})
    assert r.status_code == 200, r.text
    return r.json()


async def test_products_match_chinese_and_english_terms_short_and_long(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    mask = await make_product(client, supplier, title="玻尿酸补水面膜 Hyaluronic sheet mask", category="beauty")
    cup = await make_product(client, supplier, title="Celadon tea cup 青瓷茶杯")
    await drain(client)
    for q in ("面膜", "补水面膜", "hyaluronic", "SHEET mask", "beauty"):
        assert [p["id"] for p in (await search(client, q))["items"]] == [mask["id"]], q
    assert [p["id"] for p in (await search(client, "茶杯"))["items"]] == [cup["id"]]
    assert (await search(client, "面膜 茶杯"))["items"] == []  # every term must match
    assert (await search(client, "100%_"))["items"] == []  # LIKE wildcards are literal


async def test_title_hits_rank_first_and_pages_do_not_overlap(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    in_body = []
    for i in range(3):
        r = await client.post(
            "/api/v1/products",
            headers=supplier.headers,
            json={
                "title": f"Plain bowl {i}",
                "description": "pairs well with a teapot",
                "category": "home",
                "commission_bps": 1000,
                "status": "active",
                "skus": [{"name": "one", "price_minor": 1000, "currency": "CNY", "stock": 5}],
            },
        )
        in_body.append(r.json()["id"])
    titled = await make_product(client, supplier, title="Teapot 茶壶")
    await drain(client)
    first = await search(client, "teapot", limit="2")
    assert first["items"][0]["id"] == titled["id"]
    rest = await search(client, "teapot", limit="2", cursor=first["next_cursor"])
    ids = [p["id"] for p in first["items"] + rest["items"]]
    assert sorted(ids) == sorted([titled["id"], *in_body]) and rest["next_cursor"] is None


async def test_posts_and_users_are_searchable_and_deleted_posts_leave(client: httpx.AsyncClient) -> None:
    creator = await actor(client, "creator")
    note = await post(client, creator, "春日穿搭 spring outfits")
    await drain(client)
    assert [p["id"] for p in (await search(client, "穿搭", "posts"))["items"]] == [note["id"]]
    users = (await search(client, creator.handle[-4:], "users"))["items"]
    assert creator.id in [u["id"] for u in users]
    by_at = (await search(client, "@" + creator.handle, "users"))["items"]  # as pages show people
    assert [u["id"] for u in by_at] == [creator.id]
    assert (await client.delete(f"/api/v1/posts/{note['id']}", headers=creator.headers)).status_code == 204
    await drain(client)
    assert (await search(client, "穿搭", "posts"))["items"] == []


@pytest.mark.parametrize("params", [{"q": ""}, {"q": "   "}, {"q": "x", "type": "shops"}, {"q": "x" * 201}])
async def test_bad_queries_are_clear_4xx(client: httpx.AsyncClient, params: dict[str, str]) -> None:
    r = await client.get("/api/v1/search", params=params)
    assert r.status_code in (400, 422) and r.json()["error"]["code"]


async def test_cursors_out_of_range_are_a_clear_400(client: httpx.AsyncClient) -> None:
    from grassroots.kernel.pagination import encode_cursor

    for cursor in (encode_cursor([2**63]), encode_cursor([-1]), encode_cursor([10_001])):
        r = await client.get("/api/v1/search", params={"q": "tea", "cursor": cursor})
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_cursor"
    r = await client.get("/api/v1/feed", params={"cursor": encode_cursor(["v", 2**63])})
    assert r.status_code == 400
    loner = await actor(client, "consumer")  # follows nobody: the cursor is still checked
    r = await client.get("/api/v1/feed", params={"tab": "following", "cursor": "bad"}, headers=loner.headers)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_cursor"


async def test_search_ends_at_its_depth_limit_instead_of_refusing_its_own_cursor(
    client: httpx.AsyncClient,
    platform,  # type: ignore[no-untyped-def]
) -> None:
    import uuid

    from sqlalchemy import insert

    from grassroots.flow.models import SearchDoc
    from grassroots.flow.service import MAX_SEARCH_OFFSET
    from grassroots.kernel.pagination import encode_cursor

    async with platform.unit_of_work() as uow:
        doc = {"kind": "user", "title": "zz", "text": "zz", "popularity": 0, "created_at": uow.now()}
        await uow.session.execute(insert(SearchDoc), [{**doc, "ref_id": uuid.uuid4()} for _ in range(10_030)])
    cursor: str | None = encode_cursor([MAX_SEARCH_OFFSET - 40])
    pages = 0
    while cursor:
        r = await client.get("/api/v1/search", params={"q": "zz", "type": "users", "limit": 20, "cursor": cursor})
        assert r.status_code == 200, r.text
        cursor, pages = r.json()["next_cursor"], pages + 1
    assert pages == 3  # 9,960, 9,980 and 10,000: the list ends there


async def test_reindex_rebuilds_search_from_the_data(client: httpx.AsyncClient, platform) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import delete, text

    from grassroots.flow import service as flow
    from grassroots.flow.models import SearchDoc

    supplier, creator = await actor(client, "supplier"), await actor(client, "creator")
    mask = await make_product(client, supplier, title="玻尿酸补水面膜")
    note = await post(client, creator, "面膜测评 mask review")
    await drain(client)
    async with platform.unit_of_work() as uow:  # as after an upgrade from before search existed
        await uow.session.execute(delete(SearchDoc))
        if platform.db.dialect == "sqlite":
            await uow.session.execute(text("DELETE FROM search_fts"))
    assert (await search(client, "面膜"))["items"] == []
    counts = await flow.reindex(platform)
    assert counts["products"] >= 1 and counts["posts"] >= 1 and counts["users"] >= 2
    assert [p["id"] for p in (await search(client, "补水面膜"))["items"]] == [mask["id"]]
    assert [p["id"] for p in (await search(client, "review", "posts"))["items"]] == [note["id"]]


async def test_a_product_off_sale_leaves_search_without_a_trace(client: httpx.AsyncClient, platform) -> None:  # type: ignore[no-untyped-def]
    """A draft's words must not show even as a next page that turns out empty."""
    import uuid

    from grassroots.flow import service as flow
    from grassroots.flow.repository import upsert_doc

    supplier = await actor(client, "supplier")
    public = await make_product(client, supplier, title="Oolong tasting set")
    draft = await make_product(client, supplier, title="Secret oolong launch", status="draft")
    archived = await make_product(client, supplier, title="Old oolong tin")
    r = await client.patch(f"/api/v1/products/{archived['id']}", headers=supplier.headers, json={"status": "archived"})
    assert r.status_code == 200
    await drain(client)
    first = await search(client, "oolong", limit="1")
    assert [p["id"] for p in first["items"]] == [public["id"]] and first["next_cursor"] is None
    assert (await search(client, "secret"))["items"] == [] and (await search(client, "secret"))["next_cursor"] is None
    # an index written before off-sale products were left out: a rebuild prunes it
    async with platform.unit_of_work() as uow:
        for p in (draft, archived):
            await upsert_doc(uow.session, "product", uuid.UUID(p["id"]), p["title"], p["title"].lower(), 0, uow.now())
    assert (await search(client, "oolong", limit="1"))["next_cursor"] is not None
    await flow.reindex(platform)
    assert (await search(client, "oolong", limit="1"))["next_cursor"] is None


async def test_ties_go_to_the_newer_post_and_a_rebuild_keeps_that_order(client: httpx.AsyncClient, platform) -> None:  # type: ignore[no-untyped-def]
    from grassroots.flow import service as flow

    creator = await actor(client, "creator")
    older = await post(client, creator, "Oolong first steep")
    await advance(client, 60)
    newer = await post(client, creator, "Oolong second steep")
    await drain(client)
    assert [p["id"] for p in (await search(client, "oolong", "posts"))["items"]] == [newer["id"], older["id"]]
    await flow.reindex(platform)  # writes the newest first: its rows' order must not matter
    assert [p["id"] for p in (await search(client, "oolong", "posts"))["items"]] == [newer["id"], older["id"]]


async def test_the_hourly_refresh_ranks_posts_by_todays_engagement(client: httpx.AsyncClient, platform) -> None:  # type: ignore[no-untyped-def]
    from grassroots.flow import service as flow

    creator = await actor(client, "creator")
    quiet = await post(client, creator, "Matcha whisking")
    await advance(client, 60)
    loud = await post(client, creator, "Matcha latte art")
    await drain(client)
    for _ in range(2):  # the older post is liked after it was indexed
        fan = await actor(client, "consumer")
        assert (await client.post(f"/api/v1/posts/{quiet['id']}/like", headers=fan.headers)).status_code in (200, 201)
    await drain(client)
    assert [p["id"] for p in (await search(client, "matcha", "posts"))["items"]] == [loud["id"], quiet["id"]]
    async with platform.unit_of_work() as uow:
        assert await flow.refresh_recent_posts(uow) == 2
    assert [p["id"] for p in (await search(client, "matcha", "posts"))["items"]] == [quiet["id"], loud["id"]]
    assert [p["id"] for p in (await search(client, "whisking", "posts"))["items"]] == [quiet["id"]]  # text kept


async def test_operators_are_not_found_in_people_search(client: httpx.AsyncClient, platform) -> None:  # type: ignore[no-untyped-def]
    from grassroots.flow import service as flow
    from tests.conftest import make_admin

    admin = await make_admin(client)
    await drain(client)
    await flow.reindex(platform)  # a rebuild leaves them out too
    assert (await search(client, admin["handle"], "users"))["items"] == []


async def test_the_hourly_refresh_ranks_products_by_units_sold(client: httpx.AsyncClient, platform) -> None:  # type: ignore[no-untyped-def]
    from grassroots.flow import tasks
    from tests.conftest import pay_order, place_order

    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    seller = await make_product(client, supplier, title="Jasmine pearls")
    await advance(client, 60)
    newer = await make_product(client, supplier, title="Jasmine silver needle")
    await drain(client)
    order = await place_order(client, buyer, seller["skus"][0]["id"], 3)
    await pay_order(client, buyer, order["id"])
    await drain(client)
    assert [p["id"] for p in (await search(client, "jasmine"))["items"]] == [newer["id"], seller["id"]]
    await tasks.refresh_search(platform)
    assert [p["id"] for p in (await search(client, "jasmine"))["items"]] == [seller["id"], newer["id"]]
