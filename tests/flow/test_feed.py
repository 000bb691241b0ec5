"""The discover and following feeds, through the API."""

from __future__ import annotations

from typing import Any

import httpx

from grassroots.flow import service as flow
from grassroots.kernel.platform import Platform
from tests.conftest import Actor, actor, make_product


async def post(
    client: httpx.AsyncClient, author: Actor, title: str, product_ids: list[str] | None = None
) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/posts",
        headers=author.headers,
        json={"kind": "note", "title": title, "body": "…", "media_ids": [], "product_ids": product_ids or []},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def scroll(client: httpx.AsyncClient, limit: int, headers: dict[str, str] | None = None, tab: str = "discover"):
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"tab": tab, "limit": str(limit)}
        if cursor:
            params["cursor"] = cursor
        r = await client.get("/api/v1/feed", params=params, headers=headers or {})
        assert r.status_code == 200, r.text
        body = r.json()
        items.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def test_discover_ranks_engagement_never_repeats_and_spreads_authors(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    creators = [await actor(client, "creator") for _ in range(3)]
    fans = [await actor(client, "consumer") for _ in range(4)]
    posts = {c.id: [await post(client, c, f"{c.handle} note {i}") for i in range(5)] for c in creators}
    star = posts[creators[2].id][0]
    for fan in fans:
        assert (await client.post(f"/api/v1/posts/{star['id']}/like", headers=fan.headers)).status_code in (200, 201)
    async with platform.unit_of_work() as uow:
        await flow.rerank(uow)

    items = await scroll(client, limit=4)
    ids = [i["post"]["id"] for i in items]
    assert len(ids) == len(set(ids)) == 15  # every post once across the pages
    assert ids[0] == star["id"]  # four likes beat fresh posts with none
    authors = [i["post"]["author_id"] for i in items]
    for a, b, c in zip(authors, authors[1:], authors[2:], strict=False):
        assert not (a == b == c), "three in a row by one author"


async def test_discover_items_carry_tagged_products_and_skip_deleted_posts(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    supplier, creator = await actor(client, "supplier"), await actor(client, "creator")
    product = await make_product(client, supplier, price=3900, title="玻尿酸补水面膜")
    tagged = await post(client, creator, "这款面膜真的好用", [product["id"]])
    gone = await post(client, creator, "deleted soon")
    assert (await client.delete(f"/api/v1/posts/{gone['id']}", headers=creator.headers)).status_code == 204
    async with platform.unit_of_work() as uow:
        await flow.rerank(uow)
    items = await scroll(client, limit=10)
    assert [i["post"]["id"] for i in items] == [tagged["id"]]
    (chip,) = items[0]["products"]
    assert chip["id"] == product["id"] and chip["price_minor"] == 3900 and chip["in_stock"]


async def test_a_cursor_from_another_list_is_a_clear_400(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/feed", params={"cursor": "not-a-cursor"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_cursor"


async def test_following_shows_only_followed_accounts_newest_first(client: httpx.AsyncClient) -> None:
    followed, other = await actor(client, "creator"), await actor(client, "creator")
    fan = await actor(client, "consumer")
    first = await post(client, followed, "first")
    await post(client, other, "not followed")
    second = await post(client, followed, "second")
    assert (await client.post(f"/api/v1/users/{followed.id}/follow", headers=fan.headers)).status_code in (200, 201)
    items = await scroll(client, limit=1, headers=fan.headers, tab="following")
    assert [i["post"]["id"] for i in items] == [second["id"], first["id"]]
    anonymous = await client.get("/api/v1/feed", params={"tab": "following"})
    assert anonymous.status_code == 401


async def test_view_events_count_once_per_viewer_and_drop_unknown_posts(client: httpx.AsyncClient) -> None:
    creator, viewer = await actor(client, "creator"), await actor(client, "consumer")
    p = await post(client, creator, "watch me")
    unknown = "0190f0f0-0000-7000-8000-000000000000"
    batch = {
        "events": [
            {"type": "impression", "post_id": p["id"]},
            {"type": "view", "post_id": p["id"], "ms": 2500},
            {"type": "view", "post_id": p["id"], "ms": 100},
            {"type": "view", "post_id": unknown},
        ]
    }
    r = await client.post("/api/v1/events", json=batch, headers=viewer.headers)
    assert r.status_code == 202 and r.json() == {"accepted": 3}
    again = await client.post("/api/v1/events", json=batch, headers=viewer.headers)
    assert again.status_code == 202
    got = (await client.get(f"/api/v1/posts/{p['id']}")).json()
    assert got["counters"]["views"] == 1
    bad = await client.post("/api/v1/events", json={"events": [{"type": "stare", "post_id": p["id"]}]})
    assert bad.status_code == 422
    too_many = await client.post("/api/v1/events", json={"events": [{"type": "view", "post_id": p["id"]}] * 101})
    assert too_many.status_code == 422

    # A visitor cookie is any string the browser sends, a member's id too: it never stands for them.
    other = await post(client, creator, "watch me too")
    view = {"events": [{"type": "view", "post_id": other["id"]}]}
    async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as anonymous:
        anonymous.cookies.set("gr_visitor", viewer.id)
        assert (await anonymous.post("/api/v1/events", json=view)).status_code == 202
    assert (await client.post("/api/v1/events", json=view, headers=viewer.headers)).status_code == 202
    assert (await client.get(f"/api/v1/posts/{other['id']}")).json()["counters"]["views"] == 2
