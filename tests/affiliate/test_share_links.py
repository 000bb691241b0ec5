"""Share links: creating them, opening ``/s/{token}`` (redirect, visitor cookie, clicks
counted once per visitor a day) and who sees which links."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from grassroots.affiliate.service import VISITOR_COOKIE
from grassroots.kernel.platform import Platform
from tests.conftest import Actor, actor, advance, make_product

UNKNOWN_ID = "01a20000-0000-7000-8000-000000000000"


@asynccontextmanager
async def browser(client: httpx.AsyncClient) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser on the same app: its own cookie jar."""
    async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as b:
        yield b


async def next_morning(client: httpx.AsyncClient) -> None:
    """Move the test clock to 01:00 UTC of the next day, so clicks in a test share a day."""
    platform: Platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    await platform.clock.refresh()
    now = platform.clock.now()
    morning = (now + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)
    await advance(client, int((morning - now).total_seconds()) + 1)


async def post_tagging(client: httpx.AsyncClient, creator: Actor, *product_ids: str, title: str = "好物") -> dict:
    r = await client.post(
        "/api/v1/posts",
        headers=creator.headers,
        json={"kind": "note", "title": title, "body": "试用一周", "product_ids": list(product_ids)},
    )
    assert r.status_code == 201, r.text
    return r.json()


async def share(client: httpx.AsyncClient, who: Actor, product_id: str, post_id: str | None = None) -> httpx.Response:
    body: dict[str, Any] = {"product_id": product_id}
    if post_id is not None:
        body["post_id"] = post_id
    return await client.post("/api/v1/share-links", headers=who.headers, json=body)


def error(r: httpx.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


async def my_links(client: httpx.AsyncClient, who: Actor) -> dict[str, dict]:
    r = await client.get("/api/v1/me/share-links", headers=who.headers)
    assert r.status_code == 200, r.text
    return {x["token"]: x for x in r.json()["items"]}


async def shares_of(client: httpx.AsyncClient, post_id: str) -> int:
    return (await client.get(f"/api/v1/posts/{post_id}")).json()["counters"]["shares"]


# ------------------------------------------------------------------ creating


async def test_anyone_signed_in_but_an_operator_creates_one_link_per_target(client: httpx.AsyncClient) -> None:
    supplier, creator = await actor(client, "supplier"), await actor(client, "creator")
    product = await make_product(client, supplier)
    r = await client.post("/api/v1/share-links", json={"product_id": product["id"]})
    assert r.status_code == 401
    for role in ("consumer", "creator", "supplier", "mcn"):
        who = await actor(client, role)
        first = await share(client, who, product["id"])
        assert first.status_code == 201, (role, first.text)
        link = first.json()
        assert link["url"] == f"/s/{link['token']}"
        assert (link["product_id"], link["post_id"], link["clicks"]) == (product["id"], None, 0)
        again = await share(client, who, product["id"])
        assert again.status_code == 200
        assert again.json() == link
    # An operator's link would earn commission no earnings page shows.
    from tests.commerce.test_money import admin_headers

    admin = await admin_headers(client)
    r = await client.post("/api/v1/share-links", headers=admin, json={"product_id": product["id"]})
    assert (r.status_code, r.json()["error"]["code"]) == (403, "forbidden_role")
    # Each sharer has a link of their own.
    consumer = await actor(client, "consumer")
    mine = (await share(client, consumer, product["id"])).json()
    theirs = (await share(client, creator, product["id"])).json()
    assert mine["token"] != theirs["token"] and mine["id"] != theirs["id"]


async def test_a_link_through_a_post_is_its_own_target_and_counts_as_a_share(client: httpx.AsyncClient) -> None:
    supplier, creator, fan = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier)
    post = await post_tagging(client, creator, product["id"])
    plain = (await share(client, fan, product["id"])).json()
    assert await shares_of(client, post["id"]) == 0
    r = await share(client, fan, product["id"], post["id"])
    assert r.status_code == 201
    via_post = r.json()
    assert via_post["post_id"] == post["id"] and via_post["token"] != plain["token"]
    assert await shares_of(client, post["id"]) == 1
    assert (await share(client, fan, product["id"], post["id"])).status_code == 200
    assert await shares_of(client, post["id"]) == 1  # asking again is not another share
    assert (await share(client, creator, product["id"], post["id"])).status_code == 201
    assert await shares_of(client, post["id"]) == 2


async def test_links_only_to_products_on_sale_and_posts_that_tag_them(client: httpx.AsyncClient) -> None:
    supplier, creator, fan = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier)
    other = await make_product(client, supplier, title="other")
    draft = await make_product(client, supplier, status="draft", title="draft")
    post = await post_tagging(client, creator, other["id"])

    assert error(await share(client, fan, UNKNOWN_ID)) == (404, "product_not_found")
    assert error(await share(client, fan, draft["id"])) == (404, "product_not_found")
    assert error(await share(client, fan, product["id"], post["id"])) == (422, "product_not_tagged")
    assert error(await share(client, fan, product["id"], UNKNOWN_ID)) == (422, "post_not_found")
    assert (await share(client, fan, "not-a-uuid")).status_code == 422
    r = await client.post(
        "/api/v1/share-links", headers=fan.headers, json={"product_id": product["id"], "owner_id": fan.id}
    )
    assert r.status_code == 422

    archived = (await share(client, fan, other["id"])).json()
    r = await client.patch(f"/api/v1/products/{other['id']}", headers=supplier.headers, json={"status": "archived"})
    assert r.status_code == 200, r.text
    assert error(await share(client, fan, other["id"])) == (404, "product_not_found")
    assert archived["token"] in await my_links(client, fan)  # an existing link stays listed

    deleted = await post_tagging(client, creator, product["id"], title="gone")
    assert (await client.delete(f"/api/v1/posts/{deleted['id']}", headers=creator.headers)).status_code == 204
    assert error(await share(client, fan, product["id"], deleted["id"])) == (422, "post_not_found")
    assert await shares_of(client, post["id"]) == 0  # refused links are no shares


# ------------------------------------------------------------------ opening


async def test_opening_a_link_redirects_with_the_source_and_remembers_the_visitor(client: httpx.AsyncClient) -> None:
    supplier, creator = await actor(client, "supplier"), await actor(client, "creator")
    product = await make_product(client, supplier)
    post = await post_tagging(client, creator, product["id"])
    plain = (await share(client, creator, product["id"])).json()
    via_post = (await share(client, creator, product["id"], post["id"])).json()

    async with browser(client) as b:
        r = await b.get(plain["url"])
        assert r.status_code == 303
        target = urlsplit(r.headers["location"])
        assert target.path == f"/products/{product['id']}"
        assert parse_qs(target.query) == {"share": [plain["token"]], "scene": ["share"]}
        cookie = r.headers["set-cookie"]
        assert cookie.startswith(f"{VISITOR_COOKIE}=")
        attrs = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
        assert {"httponly", "max-age", "path", "samesite"} <= attrs
        assert "max-age=31536000" in cookie.lower() and "samesite=lax" in cookie.lower()
        assert "domain" not in attrs  # first party: this host only
        visitor = b.cookies[VISITOR_COOKIE]
        assert len(visitor) >= 16

        r = await b.get(via_post["url"])
        assert r.status_code == 303
        target = urlsplit(r.headers["location"])
        assert target.path == f"/posts/{post['id']}"
        assert parse_qs(target.query) == {"share": [via_post["token"]], "scene": ["share"]}
        assert "set-cookie" not in r.headers  # known visitor: the cookie stays
        assert b.cookies[VISITOR_COOKIE] == visitor

    async with browser(client) as b:
        r = await b.get(plain["url"], headers={"cookie": f"{VISITOR_COOKIE}=<script>"})  # not one we set
        assert r.status_code == 303
        fresh = r.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        assert len(fresh) >= 16 and fresh not in ("<script>", visitor)


@pytest.mark.parametrize("token", ["nope", "x" * 25, "x" * 300, "%00", "a.b", "ÿ"])
async def test_an_unknown_link_is_a_404(client: httpx.AsyncClient, token: str) -> None:
    async with browser(client) as b:
        for accept in ("application/json", "text/html"):
            r = await b.get(f"/s/{token}", headers={"accept": accept})
            assert r.status_code == 404, r.text
            assert r.headers["content-type"].startswith(accept)
            assert VISITOR_COOKIE not in r.headers.get("set-cookie", "")


async def test_a_link_previews_head_leads_on_and_counts_nothing(client: httpx.AsyncClient) -> None:
    supplier, sharer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    link = (await share(client, sharer, product["id"])).json()
    async with browser(client) as bot:
        head = await bot.head(link["url"])
        assert (head.status_code, head.content) == (303, b"")
        assert head.headers["location"].startswith(f"/products/{product['id']}?share=")
        assert VISITOR_COOKIE not in head.headers.get("set-cookie", "")
        assert (await bot.head("/s/no-such-link")).status_code == 404
    assert (await my_links(client, sharer))[link["token"]]["clicks"] == 0
    async with browser(client) as person:
        assert (await person.get(link["url"])).status_code == 303
    assert (await my_links(client, sharer))[link["token"]]["clicks"] == 1


async def test_clicks_count_distinct_visitors_per_day(client: httpx.AsyncClient) -> None:
    supplier, sharer = await actor(client, "supplier"), await actor(client, "consumer")
    reader = await actor(client, "consumer")
    product = await make_product(client, supplier)
    link = (await share(client, sharer, product["id"])).json()
    await next_morning(client)

    async def clicks() -> int:
        return (await my_links(client, sharer))[link["token"]]["clicks"]

    async with browser(client) as first, browser(client) as second:
        for _ in range(3):
            assert (await first.get(link["url"])).status_code == 303
        assert await clicks() == 1
        await second.get(link["url"])
        assert await clicks() == 2
        # A signed-in reader counts once however often they open it.
        async with browser(client) as b:
            await b.get(link["url"], headers=reader.headers)
            await b.get(link["url"], headers=reader.headers)
        async with browser(client) as b:
            await b.get(link["url"], headers=reader.headers)
        assert await clicks() == 3
        await advance(client, 3600)
        await first.get(link["url"])
        assert await clicks() == 3  # same day still
        await advance(client, 24 * 3600)
        await first.get(link["url"])
        await first.get(link["url"])
        assert await clicks() == 4  # a new day


async def test_each_user_sees_only_their_own_links(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    alice, bob = await actor(client, "consumer"), await actor(client, "creator")
    cup = await make_product(client, supplier)
    tea = await make_product(client, supplier, title="tea")
    a1 = (await share(client, alice, cup["id"])).json()
    a2 = (await share(client, alice, tea["id"])).json()
    b1 = (await share(client, bob, cup["id"])).json()
    assert set(await my_links(client, alice)) == {a1["token"], a2["token"]}
    assert set(await my_links(client, bob)) == {b1["token"]}
    assert (await client.get("/api/v1/me/share-links")).status_code == 401

    # Paging walks every link once.
    page = (await client.get("/api/v1/me/share-links", params={"limit": 1}, headers=alice.headers)).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = (
        await client.get(
            "/api/v1/me/share-links", params={"limit": 1, "cursor": page["next_cursor"]}, headers=alice.headers
        )
    ).json()
    assert {page["items"][0]["token"], rest["items"][0]["token"]} == {a1["token"], a2["token"]}

    async with browser(client) as b:
        await b.get(b1["url"])
    attribution = (await client.get("/api/v1/me/attribution", headers=alice.headers)).json()
    assert {x["link"]["token"] for x in attribution["by_link"]} == {a1["token"], a2["token"]}
    assert all(x["link"]["clicks"] == 0 for x in attribution["by_link"])
    theirs = (await client.get("/api/v1/me/attribution", headers=bob.headers)).json()
    assert [(x["link"]["token"], x["link"]["clicks"]) for x in theirs["by_link"]] == [(b1["token"], 1)]
    assert (await client.get("/api/v1/me/attribution")).status_code == 401


async def test_concurrent_requests_make_one_link_and_count_one_click(client: httpx.AsyncClient) -> None:
    supplier, creator, fan, friend = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier)
    post = await post_tagging(client, creator, product["id"])
    made = await asyncio.gather(*(share(client, fan, product["id"], post["id"]) for _ in range(8)))
    assert sorted(r.status_code for r in made) == [200] * 7 + [201]
    assert len({r.json()["token"] for r in made}) == 1
    assert await shares_of(client, post["id"]) == 1
    link = made[0].json()

    await next_morning(client)
    async with browser(client) as b:
        await b.get(link["url"])  # the cookie first, as a browser would have it
        opened = await asyncio.gather(*(b.get(link["url"]) for _ in range(8)))
    async with browser(client) as b:
        signed_in = await asyncio.gather(*(b.get(link["url"], headers=friend.headers) for _ in range(8)))
    assert {r.status_code for r in [*opened, *signed_in]} == {303}
    assert (await my_links(client, fan))[link["token"]]["clicks"] == 2


async def test_a_link_through_a_deleted_post_still_leads_to_the_product(client: httpx.AsyncClient) -> None:
    supplier, creator, fan = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier)
    post = await post_tagging(client, creator, product["id"])
    token = (await share(client, fan, product["id"], post["id"])).json()["token"]
    assert (await client.delete(f"/api/v1/posts/{post['id']}", headers=creator.headers)).status_code == 204
    async with browser(client) as b:
        r = await b.get(f"/s/{token}")
    assert r.status_code == 303 and urlsplit(r.headers["location"]).path == f"/products/{product['id']}"
