"""Operators suspend and reinstate accounts: who may, what it ends (sign-in, sessions),
and what follows it in the other domains (goods off sale, showcase, posts and search
hidden, no commission on new orders), and the operator's pages."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.affiliate.test_share_links import post_tagging
from tests.commerce.test_attribution import click, link_of, showcasing, world
from tests.conftest import (
    PASSWORD,
    Actor,
    actor,
    advance,
    drain,
    earnings,
    make_admin,
    make_product,
    pay_order,
    place_order,
)
from tests.web.test_pages import HTML, csrf_of, web_login


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


async def admin_actor(client: httpx.AsyncClient) -> Actor:
    user = await make_admin(client)
    r = await client.post("/api/v1/auth/token", json={"email": user["email"], "password": PASSWORD})
    return Actor(
        user["id"], user["email"], user["handle"], "admin", {"Authorization": f"Bearer {r.json()['access_token']}"}
    )


async def suspend(
    client: httpx.AsyncClient, admin: Actor, who: Actor | str, reason: str = "Counterfeit goods"
) -> httpx.Response:
    user_id = who if isinstance(who, str) else who.id
    return await client.post(f"/api/v1/admin/users/{user_id}/suspend", headers=admin.headers, json={"reason": reason})


async def reinstate(client: httpx.AsyncClient, admin: Actor, who: Actor) -> httpx.Response:
    return await client.post(f"/api/v1/admin/users/{who.id}/reinstate", headers=admin.headers)


def failing_once(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Catalog's handler fails its first delivery (a deadlock, a restart); it is retried
    after a backoff. Returns the count of deliveries, as it goes."""
    from grassroots.catalog import service as catalog

    real, calls = catalog.follow_supplier_account, [0]

    async def flaky(uow, supplier_id):  # type: ignore[no-untyped-def]
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("transient")
        return await real(uow, supplier_id)

    monkeypatch.setattr(catalog, "follow_supplier_account", flaky)
    return calls


# ------------------------------------------------------------------ who may, and what it ends


@pytest.mark.parametrize("role", ["consumer", "creator", "supplier", "mcn"])
async def test_only_operators_suspend_reinstate_or_look_up_an_account(client: httpx.AsyncClient, role: str) -> None:
    caller, target = await actor(client, role), await actor(client, "consumer")
    for r in (
        await suspend(client, caller, target),
        await client.post(f"/api/v1/admin/users/{target.id}/reinstate", headers=caller.headers),
        await client.get(f"/api/v1/admin/users/{target.id}", headers=caller.headers),
    ):
        assert (r.status_code, code(r)) == (403, "forbidden_role")
    r = await client.post(f"/api/v1/admin/users/{target.id}/suspend", json={"reason": "x"})
    assert r.status_code == 401
    assert (await client.get("/api/v1/me", headers=target.headers)).status_code == 200  # untouched


async def test_suspending_ends_every_session_and_refuses_sign_in_until_reinstated(client: httpx.AsyncClient) -> None:
    admin, target = await admin_actor(client), await actor(client, "creator")
    r = await suspend(client, admin, target, "  Fake reviews, ticket #4411  ")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["disabled"] is True and body["disabled_reason"] == "Fake reviews, ticket #4411"
    assert body["disabled_by"] == admin.id and body["disabled_at"]

    assert (await client.get("/api/v1/me", headers=target.headers)).status_code == 401
    r = await client.post("/api/v1/auth/token", json={"email": target.email, "password": PASSWORD})
    assert (r.status_code, code(r)) == (403, "account_suspended")
    r = await client.post("/api/v1/auth/token", json={"email": target.email, "password": "wrong password!"})
    assert (r.status_code, code(r)) == (401, "invalid_credentials")  # nothing told without the password

    again = await suspend(client, admin, target, "another reason")  # already suspended: nothing changes
    assert again.status_code == 200 and again.json()["disabled_reason"] == "Fake reviews, ticket #4411"
    assert again.json()["disabled_at"] == body["disabled_at"]

    r = await reinstate(client, admin, target)
    assert r.status_code == 200 and r.json()["disabled"] is False and r.json()["disabled_reason"] is None
    assert (await client.get("/api/v1/me", headers=target.headers)).status_code == 401  # old sessions stay ended
    r = await client.post("/api/v1/auth/token", json={"email": target.email, "password": PASSWORD})
    assert r.status_code == 200
    assert (await reinstate(client, admin, target)).status_code == 200  # twice: nothing changes


@pytest.mark.parametrize(
    ("reason", "status", "error"),
    [("", 422, "reason_required"), ("   ", 422, "reason_required"), ("x" * 501, 422, "reason_too_long")],
)
async def test_a_suspension_needs_a_reason(client: httpx.AsyncClient, reason: str, status: int, error: str) -> None:
    admin, target = await admin_actor(client), await actor(client, "consumer")
    r = await suspend(client, admin, target, reason)
    assert (r.status_code, code(r)) == (status, error)
    assert (await client.get("/api/v1/me", headers=target.headers)).status_code == 200


async def test_an_operator_cannot_suspend_themselves_or_an_unknown_account(client: httpx.AsyncClient) -> None:
    admin = await admin_actor(client)
    r = await suspend(client, admin, admin)
    assert (r.status_code, code(r)) == (409, "cannot_suspend_self")
    r = await suspend(client, admin, "0193a000-0000-7000-8000-000000000000")
    assert (r.status_code, code(r)) == (404, "user_not_found")
    r = await client.post("/api/v1/admin/users/0193a000-0000-7000-8000-000000000000/reinstate", headers=admin.headers)
    assert (r.status_code, code(r)) == (404, "user_not_found")
    other = await admin_actor(client)  # another operator's account can be suspended (a stolen one)
    assert (await suspend(client, admin, other)).status_code == 200
    assert (await client.get("/api/v1/me", headers=other.headers)).status_code == 401


# ------------------------------------------------------------------ what follows it


async def test_a_suspended_suppliers_goods_go_off_sale_and_come_back(client: httpx.AsyncClient) -> None:
    admin, supplier, buyer = await admin_actor(client), await actor(client, "supplier"), await actor(client, "consumer")
    on_sale = await make_product(client, supplier, title="Longjing tin")
    draft = await make_product(client, supplier, status="draft")
    archived = await make_product(client, supplier)
    r = await client.patch(f"/api/v1/products/{archived['id']}", headers=supplier.headers, json={"status": "archived"})
    assert r.status_code == 200
    await drain(client)
    assert (await client.get("/api/v1/search", params={"q": "longjing"})).json()["items"]

    assert (await suspend(client, admin, supplier)).status_code == 200
    await drain(client)
    assert (await client.get(f"/api/v1/products/{on_sale['id']}")).status_code == 404
    place = await place_order(client, buyer, on_sale["skus"][0]["id"], expect=409)
    assert place["error"]["code"] == "product_unavailable"
    assert not (await client.get("/api/v1/search", params={"q": "longjing"})).json()["items"]
    listed = (await client.get("/api/v1/products", params={"supplier_id": supplier.id})).json()["items"]
    assert listed == []
    seen = await client.get(f"/api/v1/products/{on_sale['id']}", headers=admin.headers)  # operators still see it
    assert seen.json()["status"] == "suspended"

    assert (await reinstate(client, admin, supplier)).status_code == 200
    await drain(client)
    statuses = {
        p["id"]: (await client.get(f"/api/v1/products/{p['id']}", headers=admin.headers)).json()["status"]
        for p in (on_sale, draft, archived)
    }
    assert statuses == {on_sale["id"]: "active", draft["id"]: "draft", archived["id"]: "archived"}
    assert (await client.get("/api/v1/search", params={"q": "longjing"})).json()["items"]
    await place_order(client, buyer, on_sale["skus"][0]["id"])


async def test_a_suspended_creators_showcase_posts_and_profile_are_hidden(client: httpx.AsyncClient) -> None:
    admin, supplier = await admin_actor(client), await actor(client, "supplier")
    product = await make_product(client, supplier)
    creator = await showcasing(client, product)
    post = await post_tagging(client, creator, product["id"], title="青瓷茶杯开箱")
    await drain(client)
    assert (await client.get("/api/v1/search", params={"q": "青瓷茶杯开箱", "type": "posts"})).json()["items"]

    assert (await suspend(client, admin, creator)).status_code == 200
    await drain(client)
    r = await client.get(f"/api/v1/creators/{creator.id}/showcase")
    assert (r.status_code, code(r)) == (404, "creator_not_found")
    r = await client.get(f"/api/v1/posts/{post['id']}")
    assert (r.status_code, code(r)) == (404, "post_not_found")
    assert (await client.get(f"/api/v1/users/{creator.id}")).status_code == 404
    assert not (await client.get("/api/v1/search", params={"q": "青瓷茶杯开箱", "type": "posts"})).json()["items"]
    assert not (await client.get("/api/v1/search", params={"q": creator.handle, "type": "users"})).json()["items"]

    assert (await reinstate(client, admin, creator)).status_code == 200
    await drain(client)
    assert (await client.get(f"/api/v1/creators/{creator.id}/showcase")).status_code == 200
    assert (await client.get(f"/api/v1/posts/{post['id']}")).status_code == 200
    assert (await client.get("/api/v1/search", params={"q": "青瓷茶杯开箱", "type": "posts"})).json()["items"]
    assert (await client.get("/api/v1/search", params={"q": creator.handle, "type": "users"})).json()["items"]


async def test_a_suspended_account_earns_no_commission_on_new_orders(client: httpx.AsyncClient) -> None:
    admin = await admin_actor(client)
    _supplier, sharer, buyer, product = await world(client, commission_bps=3000)
    sku = product["skus"][0]["id"]
    creator = await showcasing(client, product)
    post = await post_tagging(client, creator, product["id"])
    first_sharer = await actor(client, "consumer")
    earlier, last = (
        await link_of(client, first_sharer, product),
        await link_of(client, sharer, product),
    )
    await click(client, earlier, buyer)
    await advance(client, 60)
    await click(client, last, buyer)

    await suspend(client, admin, creator)
    for source in ({"creator_id": creator.id}, {"post_id": post["id"]}):
        order = await place_order(client, buyer, sku, source=source)
        # Not the creator: the buyer's last click on someone else's link still counts.
        assert (order["promoter_id"], order["share_link_id"]) == (sharer.id, last["id"])

    await suspend(client, admin, sharer)
    order = await place_order(client, buyer, sku, source={"share_token": last["token"]})
    assert (order["promoter_id"], order["share_link_id"]) == (first_sharer.id, earlier["id"])  # passed over
    assert order["items"][0]["commission_bps"] == 3000

    await reinstate(client, admin, creator)
    order = await place_order(client, buyer, sku, source={"creator_id": creator.id})
    assert order["promoter_id"] == creator.id


# ------------------------------------------------------------------ the operator's pages


async def test_an_operator_suspends_and_reinstates_from_the_users_pages(client: httpx.AsyncClient) -> None:
    admin, target = await make_admin(client), await actor(client, "supplier")
    assert (await web_login(client, admin["email"])).status_code == 303

    users = await client.get("/admin/users", headers=HTML)
    assert f'href="/admin/users/{target.id}"' in users.text
    page = await client.get(f"/admin/users/{target.id}", headers=HTML)
    assert page.status_code == 200 and f'action="/admin/users/{target.id}/suspend"' in page.text

    r = await client.post(
        f"/admin/users/{target.id}/suspend", data={"csrf_token": csrf_of(page.text), "reason": "  "}, headers=HTML
    )
    assert r.status_code == 422 and "Say why the account is suspended." in r.text
    r = await client.post(
        f"/admin/users/{target.id}/suspend",
        data={"csrf_token": csrf_of(page.text), "reason": "Counterfeit <b>tea</b>"},
        headers=HTML,
    )
    assert (r.status_code, r.headers["location"]) == (303, f"/admin/users/{target.id}")
    page = await client.get(f"/admin/users/{target.id}", headers=HTML)
    assert "Counterfeit &lt;b&gt;tea&lt;/b&gt;" in page.text and f"@{admin['handle']}" in page.text
    assert f'action="/admin/users/{target.id}/reinstate"' in page.text
    assert 'data-testid="status">Suspended' in (await client.get("/admin/users", headers=HTML)).text
    r = await client.post("/api/v1/auth/token", json={"email": target.email, "password": PASSWORD})
    assert r.status_code == 403

    r = await client.post(f"/admin/users/{target.id}/reinstate", data={"csrf_token": csrf_of(page.text)}, headers=HTML)
    assert r.status_code == 303
    r = await client.post("/api/v1/auth/token", json={"email": target.email, "password": PASSWORD})
    assert r.status_code == 200

    own = await client.get(f"/admin/users/{admin['id']}", headers=HTML)
    assert "/suspend" not in own.text and "This is your own account" in own.text


async def test_a_suspended_account_is_told_so_at_the_login_page(client: httpx.AsyncClient) -> None:
    admin, target = await admin_actor(client), await actor(client, "consumer")
    await suspend(client, admin, target)
    r = await web_login(client, target.email)
    assert r.status_code == 403 and "This account is suspended." in r.text
    r = await web_login(client, target.email, "not the password")
    assert r.status_code == 401 and "suspended" not in r.text


@pytest.mark.parametrize("role", ["consumer", "creator", "supplier", "mcn"])
async def test_the_account_pages_are_for_operators_only(client: httpx.AsyncClient, role: str) -> None:
    someone, target = await actor(client, role), await actor(client, "consumer")
    assert (await web_login(client, someone.email)).status_code == 303
    page = await client.get(f"/admin/users/{target.id}", headers=HTML)
    assert page.status_code == 403
    home = await client.get("/home", headers=HTML)
    r = await client.post(
        f"/admin/users/{target.id}/suspend", data={"csrf_token": csrf_of(home.text), "reason": "x"}, headers=HTML
    )
    assert r.status_code == 403
    assert (await client.get("/api/v1/me", headers=target.headers)).status_code == 200


async def test_discover_ranks_without_a_suspended_authors_posts(client: httpx.AsyncClient) -> None:
    from tests.flow.test_feed import post, scroll

    admin = await admin_actor(client)
    b, s, a = await actor(client, "creator"), await actor(client, "creator"), await actor(client, "creator")
    for i in range(2):
        await post(client, b, f"b {i}")
    for i in range(2):
        await post(client, s, f"s {i}")
    for i in range(4):
        await post(client, a, f"a {i}")  # the newest: ranked first
    assert len(await scroll(client, limit=10)) == 8  # an order is made with everyone's posts
    assert (await suspend(client, admin, s)).status_code == 200
    await drain(client)  # the suspension makes the order due: the next request re-ranks it
    from grassroots.flow import service as flow

    flow.forget_caches()  # this process's five-second copy of which order is current
    await client.get("/api/v1/feed")
    assert flow._reranking is not None
    await flow._reranking  # off the request's path
    authors = [i["post"]["author_id"] for i in await scroll(client, limit=10)]
    assert len(authors) == 6 and s.id not in authors
    for x, y, z in zip(authors, authors[1:], authors[2:], strict=False):  # A A B A A B is possible
        assert not (x == y == z), f"three in a row by one author: {authors}"


async def test_the_following_tab_pages_over_the_accounts_that_are_not_suspended(client: httpx.AsyncClient) -> None:
    from tests.flow.test_feed import post

    admin = await admin_actor(client)
    b, s, fan = await actor(client, "creator"), await actor(client, "creator"), await actor(client, "consumer")
    older = [await post(client, b, f"b {i}") for i in range(2)]
    for i in range(2):
        await post(client, s, f"s {i}")  # newest
    for who in (b, s):
        assert (await client.post(f"/api/v1/users/{who.id}/follow", headers=fan.headers)).status_code in (200, 201)
    await suspend(client, admin, s)
    r = await client.get("/api/v1/feed", params={"tab": "following", "limit": 2}, headers=fan.headers)
    assert [i["post"]["id"] for i in r.json()["items"]] == [p["id"] for p in reversed(older)]


async def test_a_feed_page_whose_posts_are_all_gone_still_leads_to_the_next(client: httpx.AsyncClient) -> None:
    from grassroots.flow import service as flow
    from tests.flow.test_feed import post

    platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    creator, other = await actor(client, "creator"), await actor(client, "creator")
    for i in range(2):
        await post(client, other, f"older {i}")
    newest = [await post(client, creator, f"newest {i}") for i in range(2)]
    async with platform.unit_of_work() as uow:
        await flow.rerank(uow)
    for p in newest:
        assert (await client.delete(f"/api/v1/posts/{p['id']}", headers=creator.headers)).status_code == 204
    api = (await client.get("/api/v1/feed", params={"limit": 2})).json()
    assert api["items"] == [] and api["next_cursor"]
    page = await client.get("/feed", params={"limit": 2}, headers=HTML)
    assert 'data-testid="feed-more"' in page.text and "Nothing here yet" not in page.text


async def test_goods_follow_the_account_whatever_order_the_events_are_delivered(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The suspension's catalog handler fails once (a deadlock, a restart) and is retried
    after the reinstatement was handled: the goods end on sale, with the account."""
    admin, supplier = await admin_actor(client), await actor(client, "supplier")
    product = await make_product(client, supplier)
    await drain(client)
    calls = failing_once(monkeypatch)
    assert (await suspend(client, admin, supplier)).status_code == 200
    await drain(client)
    assert (await reinstate(client, admin, supplier)).status_code == 200
    await drain(client)
    await advance(client, 60)  # the failed delivery's backoff
    await drain(client)
    assert calls[0] == 3
    seen = (await client.get(f"/api/v1/products/{product['id']}", headers=admin.headers)).json()
    assert seen["status"] == "active"


async def test_a_suspended_mcn_takes_no_share_and_the_creator_keeps_it(client: httpx.AsyncClient) -> None:
    admin, supplier, buyer = await admin_actor(client), await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, price=10_000, commission_bps=2000)
    creator, agency = await showcasing(client, product), await actor(client, "mcn")
    r = await client.post(
        "/api/v1/mcn/contracts", headers=agency.headers, json={"creator_id": creator.id, "share_bps": 3000}
    )
    assert (await client.post(f"/api/v1/mcn/contracts/{r.json()['id']}/accept", headers=creator.headers)).is_success
    assert (await suspend(client, admin, agency)).status_code == 200
    order = await place_order(client, buyer, product["skus"][0]["id"], source={"creator_id": creator.id})
    await pay_order(client, buyer, order["id"])
    assert (await earnings(client, creator))["pending_minor"] == 2000  # the whole commission
    platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    async with platform.unit_of_work() as uow:
        from grassroots.ledger import service as ledger

        assert await ledger.balances(uow, uuid.UUID(agency.id)) == {}


async def test_a_suspended_authors_hidden_post_takes_no_likes_comments_or_share_visits(
    client: httpx.AsyncClient,
) -> None:
    admin, supplier = await admin_actor(client), await actor(client, "supplier")
    creator, fan = await actor(client, "creator"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    post = await post_tagging(client, creator, product["id"], title="青瓷")
    link = await link_of(client, fan, product, post["id"])
    comment = await client.post(f"/api/v1/posts/{post['id']}/comments", headers=fan.headers, json={"body": "好看"})
    assert comment.status_code == 201
    assert (await client.post(f"/api/v1/users/{creator.id}/follow", headers=fan.headers)).is_success
    assert (await suspend(client, admin, creator)).status_code == 200
    await drain(client)
    for r in (
        await client.get(f"/api/v1/posts/{post['id']}/comments"),
        await client.post(f"/api/v1/posts/{post['id']}/like", headers=fan.headers),
        await client.get(f"/comments/{comment.json()['id']}", headers=HTML),
    ):
        assert r.status_code == 404
    r = await client.get(link["url"], headers=HTML)  # the shared post is hidden: the product page
    assert r.status_code == 303 and r.headers["location"].startswith(f"/products/{product['id']}")
    following = (await client.get(f"/api/v1/users/{fan.id}/following")).json()["items"]
    assert creator.id not in str(following)


async def test_a_search_page_whose_hits_are_all_hidden_still_leads_on(client: httpx.AsyncClient) -> None:
    admin, hidden, other = await admin_actor(client), await actor(client, "creator"), await actor(client, "creator")
    await post_tagging(client, other, title="longjing old")
    await drain(client)  # indexed first: ties in search go to the newest entry
    for i in range(3):
        await post_tagging(client, hidden, title=f"longjing {i}")
    await drain(client)
    assert (await suspend(client, admin, hidden)).status_code == 200
    await drain(client)
    page = await client.get("/search", params={"q": "longjing", "type": "posts", "limit": "2"}, headers=HTML)
    assert 'data-testid="search-gap"' in page.text and "No results" not in page.text


async def test_downgrading_past_0008_leaves_suspended_goods_archived(client: httpx.AsyncClient) -> None:
    import sqlalchemy as sa

    from grassroots.kernel.migrations import upgrade
    from tests.kernel.test_db import downgrade_to

    platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    admin, supplier = await admin_actor(client), await actor(client, "supplier")
    product = await make_product(client, supplier)
    assert (await suspend(client, admin, supplier)).status_code == 200
    await drain(client)
    await downgrade_to(platform, "0007")
    try:
        async with platform.db.engine.connect() as conn:
            statuses = (await conn.execute(sa.text("SELECT status FROM products"))).scalars().all()
    finally:
        await upgrade(platform.db)
    assert statuses == ["archived"], product


async def test_a_suspended_suppliers_unpaid_orders_are_cancelled_not_left_to_pay(client: httpx.AsyncClient) -> None:
    from tests.commerce.test_regressions import browser_for

    admin, supplier, buyer = await admin_actor(client), await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, stock=5)
    sku = product["skus"][0]["id"]
    unpaid = await place_order(client, buyer, sku, 2)
    opened = await place_order(client, buyer, sku)  # its buyer is on the pay page already
    pay = await client.post(f"/api/v1/orders/{opened['id']}/pay", headers=buyer.headers, json={"provider": "sandbox"})
    paid = await place_order(client, buyer, sku)
    await pay_order(client, buyer, paid["id"])

    assert (await suspend(client, admin, supplier)).status_code == 200
    await drain(client)
    orders = {
        o["id"]: (o["status"], o["cancel_reason"])
        for o in (await client.get("/api/v1/orders", headers=buyer.headers)).json()["items"]
    }
    assert orders == {
        unpaid["id"]: ("cancelled", "supplier_suspended"),
        opened["id"]: ("cancelled", "supplier_suspended"),
        paid["id"]: ("paid", None),  # stands: an operator refunds it
    }
    r = await client.post(f"/api/v1/orders/{unpaid['id']}/pay", headers=buyer.headers, json={"provider": "sandbox"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "invalid_state")
    r = await client.post(f"/sandbox/payments/{pay.json()['payment_id']}/confirm")
    assert r.status_code == 409  # the open pay page no longer takes the money
    page = await (await browser_for(client, buyer)).get(f"/orders/{unpaid['id']}", headers=HTML)
    assert 'data-testid="cancel-reason"' in page.text

    assert (await reinstate(client, admin, supplier)).status_code == 200
    await drain(client)
    stock = (await client.get(f"/api/v1/products/{product['id']}")).json()["skus"][0]["stock"]
    assert stock == 4  # released, less the paid one


async def test_an_order_placed_as_the_supplier_was_suspended_cannot_be_paid(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commerce cancels the unpaid orders it finds; one placed while the goods were still on
    sale (catalog's handler late: retried after a failure) is refused at Pay."""
    admin, supplier, buyer = await admin_actor(client), await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier)
    await drain(client)
    failing_once(monkeypatch)
    assert (await suspend(client, admin, supplier)).status_code == 200
    await drain(client)
    order = await place_order(client, buyer, product["skus"][0]["id"])  # the goods were still on sale
    r = await client.post(f"/api/v1/orders/{order['id']}/pay", headers=buyer.headers, json={"provider": "sandbox"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "supplier_suspended")


async def test_a_reinstatement_waits_for_the_suspensions_handler_so_the_goods_end_on_sale(
    client: httpx.AsyncClient,
) -> None:
    """Deliveries run concurrently. Without a lock: the suspension's handler moves the goods
    off sale (uncommitted), the reinstatement commits, its handler finds nothing to put back,
    the first commits last: an active account with its goods off sale for good."""
    import asyncio

    from grassroots.catalog import service as catalog

    platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    if platform.db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: the two cannot interleave")
    admin, supplier = await admin_actor(client), await actor(client, "supplier")
    product = await make_product(client, supplier)
    sid = uuid.UUID(supplier.id)
    assert (await suspend(client, admin, supplier)).status_code == 200
    async with platform.unit_of_work() as on_suspended:  # the suspension's delivery
        assert await catalog.follow_supplier_account(on_suspended, sid) == 1
        reinstating = asyncio.create_task(reinstate(client, admin, supplier))
        await asyncio.sleep(0.3)
        assert not reinstating.done()  # it waits for this handler's transaction
    assert (await reinstating).status_code == 200
    async with platform.unit_of_work() as on_reinstated:  # the reinstatement's delivery
        assert await catalog.follow_supplier_account(on_reinstated, sid) == 1
    seen = (await client.get(f"/api/v1/products/{product['id']}", headers=admin.headers)).json()
    assert seen["status"] == "active"


async def test_operators_list_the_suspended_accounts(client: httpx.AsyncClient) -> None:
    admin, gone, stays = await admin_actor(client), await actor(client, "supplier"), await actor(client, "creator")
    assert (await suspend(client, admin, gone)).status_code == 200
    r = await client.get("/api/v1/admin/users", headers=admin.headers, params={"suspended": "true", "limit": 100})
    assert [u["id"] for u in r.json()["items"]] == [gone.id]
    r = await client.get("/api/v1/admin/users", headers=admin.headers, params={"suspended": "false", "limit": 100})
    listed = [u["id"] for u in r.json()["items"]]
    assert stays.id in listed and gone.id not in listed
    r = await client.get("/api/v1/admin/users", headers=admin.headers, params={"suspended": "maybe"})
    assert (r.status_code, code(r)) == (422, "validation_error")

    user = await make_admin(client)
    assert (await web_login(client, user["email"])).status_code == 303
    page = await client.get("/admin/users", params={"suspended": "1"}, headers=HTML)
    assert "Suspended · 1" in page.text and f"@{gone.handle}" in page.text and f"@{stays.handle}" not in page.text
    assert f"@{stays.handle}" in (await client.get("/admin/users", params={"suspended": ""}, headers=HTML)).text


async def test_follower_lists_and_counts_leave_suspended_accounts_out_and_pages_stay_full(
    client: httpx.AsyncClient,
) -> None:
    admin, creator = await admin_actor(client), await actor(client, "creator")
    fans = [await actor(client, "consumer") for _ in range(4)]
    for fan in fans:
        assert (await client.post(f"/api/v1/users/{creator.id}/follow", headers=fan.headers)).is_success
        assert (await client.post(f"/api/v1/users/{fan.id}/follow", headers=creator.headers)).is_success
    for fan in fans[2:]:  # the newest two, first on a page
        assert (await suspend(client, admin, fan)).status_code == 200
    kept = {fans[0].id, fans[1].id}
    for path in ("followers", "following"):
        page = (await client.get(f"/api/v1/users/{creator.id}/{path}", params={"limit": 2})).json()
        assert {p["id"] for p in page["items"]} == kept, path  # a full page, not an empty one
    profile = (await client.get(f"/api/v1/users/{creator.id}")).json()
    assert (profile["followers"], profile["following"]) == (2, 2)
    await reinstate(client, admin, fans[2])
    profile = (await client.get(f"/api/v1/users/{creator.id}")).json()
    assert (profile["followers"], profile["following"]) == (3, 3)
