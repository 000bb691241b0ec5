"""Who brought an order: explicit sources, share-link clicks within the click window, one
promoter per order, never the buyer; the commission that follows, and the promoter's
report."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from grassroots.kernel.money import Money
from grassroots.ledger.service import Line, compute_split
from tests.affiliate.test_share_links import browser, next_morning, post_tagging, share
from tests.commerce.test_money import admin_headers, trial_balance
from tests.conftest import (
    ADDRESS,
    PASSWORD,
    Actor,
    actor,
    advance,
    drain,
    earnings,
    login,
    make_product,
    pay_order,
    place_order,
    signup,
)
from tests.web.test_pages import HTML, csrf_of, web_login

DAY = 86400
FEE_BPS = 500  # the default platform fee


async def world(client: httpx.AsyncClient, **product: Any) -> tuple[Actor, Actor, Actor, dict]:
    """A supplier's product (20% commission unless told), a consumer who shares it, a buyer."""
    supplier, sharer, buyer = (
        await actor(client, "supplier"),
        await actor(client, "consumer"),
        await actor(client, "consumer"),
    )
    values: dict[str, Any] = {"price": 10_000, "stock": 50, "commission_bps": 2000, **product}
    return supplier, sharer, buyer, await make_product(client, supplier, **values)


async def link_of(client: httpx.AsyncClient, who: Actor, product: dict, post_id: str | None = None) -> dict:
    r = await share(client, who, product["id"], post_id)
    assert r.status_code in (200, 201), r.text
    return r.json()


async def click(client: httpx.AsyncClient, link: dict, who: Actor | None = None) -> None:
    """``who`` opens the link in a browser of their own (signed in), then closes it."""
    async with browser(client) as b:
        r = await b.get(link["url"], headers=who.headers if who else None)
        assert r.status_code == 303, r.text


async def showcasing(client: httpx.AsyncClient, product: dict) -> Actor:
    """A creator with ``product`` in their showcase."""
    creator = await actor(client, "creator")
    r = await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": product["id"]})
    assert r.status_code == 201, r.text
    return creator


async def link_clicks(client: httpx.AsyncClient, who: Actor) -> list[int]:
    """The click counts of ``who``'s share links, newest first."""
    return [x["clicks"] for x in (await client.get("/api/v1/me/share-links", headers=who.headers)).json()["items"]]


def attribution_of(order: dict) -> tuple[Any, ...]:
    return order["promoter_id"], order["share_link_id"], order["attributed_by"], order["scene"]


def sku(product: dict) -> str:
    return product["skus"][0]["id"]


def commission(price: int, quantity: int, bps: int, mcn_bps: int | None = None) -> tuple[int, int]:
    """(promoter, MCN) parts of an order's commission, as the ledger computes them."""
    split = compute_split([Line(Money(price * quantity, "CNY"), bps)], FEE_BPS, mcn_bps)
    return split.promoter.amount, split.mcn.amount


def code(r: httpx.Response) -> str:
    return r.json()["error"]["code"]


async def order_with(client: httpx.AsyncClient, buyer: Actor, product: dict, source: dict) -> httpx.Response:
    return await client.post(
        "/api/v1/orders",
        headers={**buyer.headers, "Idempotency-Key": re.sub(r"\W", "", str(source))[:60] or "empty"},
        json={
            "items": [{"sku_id": sku(product), "quantity": 1}],
            "shipping_address": {
                "name": "林美",
                "phone": "+86 138",
                "line1": "文三路",
                "city": "杭州",
                "country": "CN",
            },
            "source": source,
        },
    )


# ------------------------------------------------------------------ the click window


async def test_a_click_attributes_orders_for_seven_days(client: httpx.AsyncClient) -> None:
    _, sharer, buyer, product = await world(client)
    link = await link_of(client, sharer, product)
    await click(client, link, buyer)  # signed in: remembered by account, whatever the device

    await advance(client, 6 * DAY)
    order = await place_order(client, buyer, sku(product))
    assert attribution_of(order) == (sharer.id, link["id"], "click", "share")
    assert order["post_id"] is None
    assert order["items"][0]["commission_bps"] == 2000

    await advance(client, 2 * DAY)  # 8 days after the click
    later = await place_order(client, buyer, sku(product))
    assert attribution_of(later) == (None, None, "none", "direct")
    assert later["items"][0]["commission_bps"] == 0


async def test_the_window_ends_seven_days_after_the_last_click(client: httpx.AsyncClient) -> None:
    _, sharer, buyer, product = await world(client)
    link = await link_of(client, sharer, product)
    await next_morning(client)
    await click(client, link, buyer)
    await advance(client, 3600)
    await click(client, link, buyer)  # the same day: one click, but the window runs from here
    await advance(client, 7 * DAY - 60)
    assert (await place_order(client, buyer, sku(product)))["promoter_id"] == sharer.id
    await advance(client, 3600 + 120)
    assert (await place_order(client, buyer, sku(product)))["promoter_id"] is None


async def test_the_last_click_wins_and_an_order_has_one_promoter(client: httpx.AsyncClient) -> None:
    _, alice, buyer, product = await world(client)
    bob = await actor(client, "creator")
    a, b = await link_of(client, alice, product), await link_of(client, bob, product)
    await click(client, a, buyer)
    await advance(client, 60)
    await click(client, b, buyer)
    order = await place_order(client, buyer, sku(product), 2)
    assert attribution_of(order) == (bob.id, b["id"], "click", "share")
    assert {i["commission_bps"] for i in order["items"]} == {2000}
    await advance(client, DAY)
    await click(client, a, buyer)
    assert attribution_of(await place_order(client, buyer, sku(product))) == (alice.id, a["id"], "click", "share")


async def test_a_click_pays_only_on_the_linked_product(client: httpx.AsyncClient) -> None:
    supplier, sharer, buyer, cup = await world(client)
    tea = await make_product(client, supplier, title="tea", price=3000, commission_bps=3000)
    await click(client, await link_of(client, sharer, cup), buyer)
    r = await client.post(
        "/api/v1/orders",
        headers={**buyer.headers, "Idempotency-Key": "two-products"},
        json={
            "items": [{"sku_id": sku(tea), "quantity": 1}, {"sku_id": sku(cup), "quantity": 1}],
            "shipping_address": {
                "name": "林美",
                "phone": "+86 138",
                "line1": "文三路",
                "city": "杭州",
                "country": "CN",
            },
        },
    )
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["promoter_id"] == sharer.id
    assert {i["product_id"]: i["commission_bps"] for i in order["items"]} == {cup["id"]: 2000, tea["id"]: 0}


async def test_an_anonymous_click_follows_the_visitor_into_a_new_account(client: httpx.AsyncClient) -> None:
    _, sharer, _, product = await world(client)
    link = await link_of(client, sharer, product)
    async with browser(client) as b:
        assert (await b.get(link["url"])).status_code == 303  # not signed in: the cookie remembers
        await advance(client, 2 * DAY)
        user = await signup(b, "consumer")
        newcomer = Actor(user["id"], user["email"], user["handle"], "consumer", await login(b, user["email"]))
        order = await place_order(b, newcomer, sku(product))
        assert attribution_of(order) == (sharer.id, link["id"], "click", "share")
    # Another account on another device is not attributed.
    stranger = await actor(client, "consumer")
    assert (await place_order(client, stranger, sku(product)))["promoter_id"] is None
    # The same account from a device that never saw the link: the click was anonymous.
    assert (await place_order(client, newcomer, sku(product)))["promoter_id"] is None


async def test_a_signed_in_click_also_remembers_the_device(client: httpx.AsyncClient) -> None:
    _, sharer, buyer, product = await world(client)
    link = await link_of(client, sharer, product)
    async with browser(client) as b:
        await b.get(link["url"], headers=buyer.headers)
        await advance(client, DAY)
        other = await actor(client, "consumer")  # someone else orders on that device later
        order = await place_order(b, other, sku(product))
    assert order["promoter_id"] == sharer.id


# ------------------------------------------------------------------ explicit sources


async def test_an_explicit_source_wins_over_an_earlier_click(client: httpx.AsyncClient) -> None:
    _, sharer, buyer, product = await world(client)
    creator = await actor(client, "creator")
    post = await post_tagging(client, creator, product["id"])
    await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": product["id"]})
    rival = await actor(client, "consumer")
    rival_link = await link_of(client, rival, product)
    clicked = await link_of(client, sharer, product)
    await click(client, clicked, buyer)
    await advance(client, DAY)

    from_post = await place_order(client, buyer, sku(product), source={"post_id": post["id"]})
    assert attribution_of(from_post) == (creator.id, None, "source", "note")
    assert from_post["post_id"] == post["id"] and from_post["items"][0]["commission_bps"] == 2000

    from_showcase = await place_order(client, buyer, sku(product), source={"creator_id": creator.id})
    assert attribution_of(from_showcase) == (creator.id, None, "source", "showcase")

    via_token = await place_order(client, buyer, sku(product), source={"share_token": rival_link["token"]})
    assert attribution_of(via_token) == (rival.id, rival_link["id"], "source", "share")

    # With no promoter named, the click still counts.
    plain = await place_order(client, buyer, sku(product), source={"scene": "search"})
    assert attribution_of(plain) == (sharer.id, clicked["id"], "click", "search")


async def test_a_share_link_through_a_post_credits_the_post(client: httpx.AsyncClient) -> None:
    _, _, buyer, product = await world(client)
    creator = await actor(client, "creator")
    post = await post_tagging(client, creator, product["id"])
    link = await link_of(client, creator, product, post["id"])
    await click(client, link, buyer)
    order = await place_order(client, buyer, sku(product))
    assert attribution_of(order) == (creator.id, link["id"], "click", "share")
    assert order["post_id"] == post["id"]
    by_token = await place_order(client, buyer, sku(product), source={"share_token": link["token"], "scene": "share"})
    assert (by_token["promoter_id"], by_token["post_id"], by_token["attributed_by"]) == (
        creator.id,
        post["id"],
        "source",
    )


async def test_a_share_token_does_not_credit_a_post_it_was_not_made_from(client: httpx.AsyncClient) -> None:
    """The buyer's body names the link and some other post: the link's owner must not get
    that post's credit, nor the post an order it did not bring."""
    _, sharer, buyer, product = await world(client)
    creator = await actor(client, "creator")
    post = await post_tagging(client, creator, product["id"])
    link = await link_of(client, sharer, product)
    order = await place_order(client, buyer, sku(product), source={"share_token": link["token"], "post_id": post["id"]})
    assert attribution_of(order) == (sharer.id, link["id"], "source", "share")
    assert order["post_id"] is None
    await pay_order(client, buyer, order["id"])
    assert (await client.get(f"/api/v1/posts/{post['id']}")).json()["counters"]["orders"] == 0
    report = (await client.get("/api/v1/me/attribution", headers=sharer.headers)).json()
    assert report["by_post"] == []


@pytest.mark.parametrize(
    ("source", "scene"),
    [
        ({}, "direct"),
        ({"scene": "feed"}, "feed"),
        ({"scene": "search"}, "search"),
        ({"live_room_id": "01a20000-0000-7000-8000-000000000000"}, "live"),
        ({"live_room_id": "01a20000-0000-7000-8000-000000000000", "scene": "video"}, "video"),
    ],
)
async def test_every_order_records_its_scene(client: httpx.AsyncClient, source: dict, scene: str) -> None:
    _, _, buyer, product = await world(client)
    order = await place_order(client, buyer, sku(product), source=source)
    assert (order["scene"], order["promoter_id"], order["attributed_by"]) == (scene, None, "none")
    assert order["source"] == source


async def test_a_source_naming_no_promoter_leaves_the_click_in_force(client: httpx.AsyncClient) -> None:
    """A post by a shopper (who cannot tag goods) or a live room names no promoter: the
    buyer's click still decides who brought the order; the scene stays where they bought."""
    _, sharer, buyer, product = await world(client)
    shopper = await actor(client, "consumer")
    r = await client.post("/api/v1/posts", headers=shopper.headers, json={"kind": "note", "title": "我的茶桌"})
    assert r.status_code == 201, r.text
    shopper_post = r.json()
    link = await link_of(client, sharer, product)
    from_note = await place_order(client, buyer, sku(product), source={"post_id": shopper_post["id"]})
    assert attribution_of(from_note) == (None, None, "none", "note")  # no click yet: nobody
    await click(client, link, buyer)
    from_note = await place_order(client, buyer, sku(product), source={"post_id": shopper_post["id"]})
    assert attribution_of(from_note) == (sharer.id, link["id"], "click", "note")
    assert from_note["post_id"] is None  # the shopper's note did not bring the sharer's credit
    live = await place_order(
        client, buyer, sku(product), source={"live_room_id": "01a20000-0000-7000-8000-000000000000"}
    )
    assert attribution_of(live) == (sharer.id, link["id"], "click", "live")


async def test_a_click_credits_the_post_its_link_was_made_through(client: httpx.AsyncClient) -> None:
    """Bought from an unrelated shopper's note after clicking a link made through a
    creator's post: the link's post brought the order, as it would for the link's token."""
    _, sharer, buyer, product = await world(client)
    creator = await actor(client, "creator")
    creators_post = await post_tagging(client, creator, product["id"], title="creator post")
    link = await link_of(client, sharer, product, creators_post["id"])
    shopper = await actor(client, "consumer")
    note = (await client.post("/api/v1/posts", headers=shopper.headers, json={"kind": "note", "title": "n"})).json()
    await click(client, link, buyer)
    order = await place_order(client, buyer, sku(product), source={"post_id": note["id"]})
    assert attribution_of(order) == (sharer.id, link["id"], "click", "note")
    assert order["post_id"] == creators_post["id"]
    await pay_order(client, buyer, order["id"])
    await drain(client)
    counted = {
        p["id"]: (await client.get(f"/api/v1/posts/{p['id']}")).json()["counters"]["orders"]
        for p in (note, creators_post)
    }
    assert counted == {note["id"]: 0, creators_post["id"]: 1}


async def test_bad_sources_are_refused_with_a_code(client: httpx.AsyncClient) -> None:
    _, _, buyer, product = await world(client)
    shopper = await actor(client, "consumer")
    unknown = "01a20000-0000-7000-8000-000000000000"
    for source in (
        {"share_token": "nope"},
        {"share_token": "x" * 64},
        {"share_token": "a b/c"},
        {"post_id": unknown},
        {"creator_id": unknown},
        {"creator_id": shopper.id},
    ):
        r = await order_with(client, buyer, product, source)
        assert (r.status_code, code(r)) == (422, "invalid_source"), (source, r.text)
    for source in (
        {"share_token": "x" * 65},
        {"share_token": ""},
        {"share_token": "a\u0000b"},
        {"scene": "tv"},
        {"post_id": "1"},
        {"who": "me"},
    ):
        r = await order_with(client, buyer, product, source)
        assert r.status_code == 422, (source, r.text)
        assert code(r) == "validation_error"


# ------------------------------------------------------------------ not your own


async def test_no_commission_on_your_own_purchase(client: httpx.AsyncClient) -> None:
    _, sharer, buyer, product = await world(client)
    mine = await link_of(client, sharer, product)
    theirs = await link_of(client, buyer, product)
    await click(client, mine, sharer)  # opening your own link is no click
    by_click = await place_order(client, sharer, sku(product))
    assert (by_click["promoter_id"], by_click["items"][0]["commission_bps"]) == (None, 0)
    by_token = await place_order(client, sharer, sku(product), source={"share_token": mine["token"]})
    assert (by_token["promoter_id"], by_token["items"][0]["commission_bps"]) == (None, 0)
    assert by_token["scene"] == "share"
    assert await link_clicks(client, sharer) == [0]
    # Someone else's link opened before your own: that click brought the order.
    await click(client, theirs, sharer)
    await click(client, mine, sharer)
    assert (await place_order(client, sharer, sku(product)))["promoter_id"] == buyer.id
    for order in (by_click, by_token):
        await pay_order(client, sharer, order["id"])
    e = await earnings(client, sharer)
    assert (e["pending_minor"], e["available_minor"], e["entries"]) == (0, 0, [])
    report = (await client.get("/api/v1/me/attribution", headers=sharer.headers)).json()
    assert report["totals"] == []


# ------------------------------------------------------------------ the money


async def test_the_sharer_earns_the_commission_and_the_ledger_balances(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    supplier, sharer, buyer, product = await world(client, price=9999, commission_bps=1234)
    link = await link_of(client, sharer, product)
    await click(client, link, buyer)
    order = await place_order(client, buyer, sku(product), 3)
    assert order["promoter_id"] == sharer.id
    assert (await earnings(client, sharer))["pending_minor"] == 0  # nothing until it is paid
    paid = await pay_order(client, buyer, order["id"])
    assert paid["status"] == "paid"
    await drain(client)
    promoter, mcn = commission(9999, 3, 1234)
    assert (promoter, mcn) == (3702, 0)  # 29997 × 12.34% = 3701.63, and the rounding left over
    e = await earnings(client, sharer)
    assert (e["pending_minor"], e["available_minor"], e["currency"]) == (promoter, 0, "CNY")
    assert [(x["order_id"], x["kind"], x["amount_minor"]) for x in e["entries"]] == [(order["id"], "payment", promoter)]
    split = compute_split([Line(Money(29_997, "CNY"), 1234)], FEE_BPS)
    assert (await earnings(client, supplier))["pending_minor"] == split.supplier.amount
    tb = await trial_balance(client, admin)
    fee = next(a for a in tb["accounts"] if a["account"] == "fee_revenue")
    assert fee["balance_minor"] == -split.fee.amount
    assert (await earnings(client, buyer))["pending_minor"] == 0


async def test_a_creators_mcn_takes_its_share_of_a_link_commission(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    _, _, buyer, product = await world(client)
    creator, agency = await actor(client, "creator"), await actor(client, "mcn")
    contract = (
        await client.post(
            "/api/v1/mcn/contracts", headers=agency.headers, json={"creator_id": creator.id, "share_bps": 3000}
        )
    ).json()
    r = await client.post(f"/api/v1/mcn/contracts/{contract['id']}/accept", headers=creator.headers)
    assert r.status_code == 200, r.text
    await click(client, await link_of(client, creator, product), buyer)
    order = await place_order(client, buyer, sku(product))
    await pay_order(client, buyer, order["id"])
    promoter, mcn = commission(10_000, 1, 2000, 3000)
    assert (promoter, mcn) == (1400, 600)
    assert (await earnings(client, creator))["pending_minor"] == promoter
    assert (await earnings(client, agency))["pending_minor"] == mcn
    await trial_balance(client, admin)


async def test_signing_people_up_earns_nothing(client: httpx.AsyncClient) -> None:
    """Anti-pyramid: a sharer earns on the sales their link brings, never on the people it
    brought, nor on what those people sell on."""
    admin = await admin_headers(client)
    _, alice, _, product = await world(client)
    async with browser(client) as b:
        await b.get((await link_of(client, alice, product))["url"])
        user = await signup(b, "consumer")
        bob = Actor(user["id"], user["email"], user["handle"], "consumer", await login(b, user["email"]))
        for role in ("creator", "supplier"):
            await signup(b, role)
    await drain(client)
    e = await earnings(client, alice)
    assert (e["pending_minor"], e["available_minor"], e["entries"]) == (0, 0, [])
    report = (await client.get("/api/v1/me/attribution", headers=alice.headers)).json()
    assert report["totals"] == []
    r = await client.post(
        "/api/v1/auth/signup",
        json={
            "email": "x@example.com",
            "password": PASSWORD,
            "handle": "x_1",
            "role": "consumer",
            "referrer": alice.id,
        },
    )
    assert r.status_code == 422  # there is no such thing as a referrer

    # Bob shares on; Carol buys through Bob. Bob earns, Alice (who brought Bob) does not.
    carol = await actor(client, "consumer")
    await click(client, await link_of(client, bob, product), carol)
    order = await place_order(client, carol, sku(product))
    assert order["promoter_id"] == bob.id
    await pay_order(client, carol, order["id"])
    assert (await earnings(client, bob))["pending_minor"] == commission(10_000, 1, 2000)[0]
    assert (await earnings(client, alice))["entries"] == []
    await trial_balance(client, admin)


# ------------------------------------------------------------------ the report


async def test_the_attribution_report_by_post_and_by_link(client: httpx.AsyncClient) -> None:
    supplier, _, buyer, product = await world(client)
    creator, rival = await actor(client, "creator"), await actor(client, "creator")
    post = await post_tagging(client, creator, product["id"], title="青瓷杯测评")
    via_post = await link_of(client, creator, product, post["id"])
    plain = await link_of(client, creator, product)
    await link_of(client, rival, product)
    await next_morning(client)
    buyers = [buyer, await actor(client, "consumer"), await actor(client, "consumer")]
    for who in buyers:
        await click(client, via_post, who)
    await click(client, plain, buyers[0])
    await click(client, plain, None)

    # buyer 1 by a click on the post link (paid), buyer 2 by the plain link's token
    # (paid, then refunded), buyer 3 never pays, buyer 1 buys again from the post itself.
    o1 = await place_order(client, buyers[1], sku(product), 2)
    assert o1["share_link_id"] == via_post["id"]
    await pay_order(client, buyers[1], o1["id"])
    o2 = await place_order(client, buyers[2], sku(product), source={"share_token": plain["token"]})
    await pay_order(client, buyers[2], o2["id"])
    r = await client.post(f"/api/v1/orders/{o2['id']}/refund", headers=supplier.headers, json={"reason": "broken"})
    assert r.status_code == 200, r.text
    await place_order(client, buyers[0], sku(product))  # unpaid: not in the report
    o4 = await place_order(client, buyers[0], sku(product), source={"post_id": post["id"]})
    await pay_order(client, buyers[0], o4["id"])
    await drain(client)

    per_unit = commission(10_000, 1, 2000)[0]
    report = (await client.get("/api/v1/me/attribution", headers=creator.headers)).json()
    assert report["totals"] == [
        {
            "currency": "CNY",
            "orders": 3,
            "gmv_minor": 30_000,
            "commission_minor": 3 * per_unit,
            "settled_minor": 0,
            "refunded": 1,
        }
    ]
    assert report["by_post"] == [
        {
            "post_id": post["id"],
            "title": "青瓷杯测评",
            "deleted": False,
            "clicks": 3,
            "currency": "CNY",
            "orders": 2,
            "gmv_minor": 30_000,
            "commission_minor": 3 * per_unit,
            "settled_minor": 0,
            "refunded": 0,
        }
    ]
    links = {x["link"]["id"]: x for x in report["by_link"]}
    assert set(links) == {via_post["id"], plain["id"]}
    assert {k: links[via_post["id"]][k] for k in ("orders", "gmv_minor", "commission_minor", "refunded")} == {
        "orders": 1,
        "gmv_minor": 20_000,
        "commission_minor": 2 * per_unit,
        "refunded": 0,
    }
    assert links[via_post["id"]]["link"]["clicks"] == 3
    assert {k: links[plain["id"]][k] for k in ("orders", "gmv_minor", "commission_minor", "refunded")} == {
        "orders": 1,
        "gmv_minor": 0,
        "commission_minor": 0,
        "refunded": 1,
    }
    assert links[plain["id"]]["link"]["clicks"] == 2
    assert (await earnings(client, creator))["pending_minor"] == 3 * per_unit

    # Deleting the post keeps what it brought in the report, marked so no page links to it.
    assert (await client.delete(f"/api/v1/posts/{post['id']}", headers=creator.headers)).status_code == 204
    after = (await client.get("/api/v1/me/attribution", headers=creator.headers)).json()
    assert after["by_post"] == [{**report["by_post"][0], "deleted": True}]
    assert after["totals"] == report["totals"]

    theirs = (await client.get("/api/v1/me/attribution", headers=rival.headers)).json()
    assert theirs["totals"] == [] and theirs["by_post"] == []
    assert [x["link"]["clicks"] for x in theirs["by_link"]] == [0]
    buyers_view = (await client.get("/api/v1/me/attribution", headers=buyer.headers)).json()
    assert (buyers_view["totals"], buyers_view["by_post"], buyers_view["by_link"]) == ([], [], [])


# ------------------------------------------------------------------ through the web pages


async def test_a_shared_link_carries_through_the_web_checkout(client: httpx.AsyncClient) -> None:
    _, sharer, buyer, product = await world(client)
    link = await link_of(client, sharer, product)
    async with browser(client) as b:
        opened = await b.get(link["url"], headers=HTML)
        assert opened.status_code == 303
        assert (await web_login(b, buyer.email)).status_code == 303
        landing = await b.get(opened.headers["location"], headers=HTML)
        assert landing.status_code == 200
        page = await b.get(
            "/checkout",
            params={"sku": sku(product), "qty": "1", "share": link["token"], "scene": "share"},
            headers=HTML,
        )
        assert page.status_code == 200, page.text
        form = {
            "csrf_token": csrf_of(page.text),
            "sku": sku(product),
            "qty": "1",
            "token": re.search(r'name="token" value="([^"]+)"', page.text).group(1),  # type: ignore[union-attr]
            "name": "林美",
            "phone": "+86 138 0000 0000",
            "line1": "文三路 90 号",
            "city": "杭州",
            "country": "CN",
            **dict(re.findall(r'name="(share|scene)" value="([^"]*)"', page.text)),
        }
        assert form.get("share") == link["token"]
        r = await b.post("/checkout", data=form, headers=HTML)
        assert r.status_code == 303, r.text
    orders = (await client.get("/api/v1/orders", headers=buyer.headers)).json()["items"]
    assert [attribution_of(o) for o in orders] == [(sharer.id, link["id"], "source", "share")]


async def test_a_shared_post_still_pays_its_creator_for_the_other_tagged_goods(client: httpx.AsyncClient) -> None:
    supplier, creator = await actor(client, "supplier"), await actor(client, "creator")
    sharer, buyer = await actor(client, "consumer"), await actor(client, "consumer")
    cup = await make_product(client, supplier, commission_bps=2000, title="cup")
    tea = await make_product(client, supplier, commission_bps=3000, title="tea")
    post = (
        await client.post(
            "/api/v1/posts",
            headers=creator.headers,
            json={"kind": "note", "title": "cup and tea", "product_ids": [cup["id"], tea["id"]]},
        )
    ).json()
    link = (
        await client.post(
            "/api/v1/share-links", headers=sharer.headers, json={"product_id": cup["id"], "post_id": post["id"]}
        )
    ).json()
    # the buy button on the shared post carries the token, the post and its author
    source = {"share_token": link["token"], "post_id": post["id"], "creator_id": creator.id}
    order = await place_order(client, buyer, tea["skus"][0]["id"], source=source)
    assert (order["promoter_id"], order["scene"], order["items"][0]["commission_bps"]) == (creator.id, "note", 3000)
    order = await place_order(client, buyer, cup["skus"][0]["id"], source=source)
    assert (order["promoter_id"], order["share_link_id"]) == (sharer.id, link["id"])


async def test_the_last_click_counts_only_for_the_goods_it_was_for(client: httpx.AsyncClient) -> None:
    supplier = await actor(client, "supplier")
    s1, s2, buyer = await actor(client, "consumer"), await actor(client, "consumer"), await actor(client, "consumer")
    cup = await make_product(client, supplier, title="cup")
    tea = await make_product(client, supplier, title="tea")
    tea_link = (await client.post("/api/v1/share-links", headers=s2.headers, json={"product_id": tea["id"]})).json()
    cup_link = (await client.post("/api/v1/share-links", headers=s1.headers, json={"product_id": cup["id"]})).json()
    await client.get(tea_link["url"], headers=buyer.headers)
    await advance(client, 60)
    await client.get(cup_link["url"], headers=buyer.headers)  # later, but for other goods
    order = await place_order(client, buyer, tea["skus"][0]["id"])
    assert (order["promoter_id"], order["share_link_id"], order["attributed_by"]) == (s2.id, tea_link["id"], "click")


async def test_a_refunded_order_stops_counting_on_its_post(client: httpx.AsyncClient) -> None:
    supplier, creator, buyer = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier)
    post = (
        await client.post(
            "/api/v1/posts",
            headers=creator.headers,
            json={"kind": "note", "title": "t", "product_ids": [product["id"]]},
        )
    ).json()
    order = await place_order(client, buyer, product["skus"][0]["id"], source={"post_id": post["id"]})
    await pay_order(client, buyer, order["id"])
    await drain(client)
    counters = lambda: client.get(f"/api/v1/posts/{post['id']}")  # noqa: E731
    assert (await counters()).json()["counters"]["orders"] == 1
    r = await client.post(f"/api/v1/orders/{order['id']}/refund", headers=supplier.headers, json={"reason": "broken"})
    assert r.status_code == 200, r.text
    await drain(client)
    assert (await counters()).json()["counters"]["orders"] == 0


# ------------------------------------------------------------------ who may not be the promoter


async def test_the_supplier_never_earns_commission_on_its_own_goods(client: httpx.AsyncClient) -> None:
    supplier, _, buyer, product = await world(client, commission_bps=3000)
    creator = await actor(client, "creator")
    theirs, own = await link_of(client, creator, product), await link_of(client, supplier, product)
    await click(client, theirs, buyer)
    await advance(client, 60)
    await click(client, own, buyer)  # the last click is the supplier's own link: it brings no one
    order = await place_order(client, buyer, sku(product))
    assert (order["promoter_id"], order["share_link_id"], order["items"][0]["commission_bps"]) == (
        creator.id,
        theirs["id"],
        3000,
    )
    named = await place_order(client, buyer, sku(product), source={"share_token": own["token"]})
    assert (named["promoter_id"], named["share_link_id"]) == (creator.id, theirs["id"])  # the click before it
    await pay_order(client, buyer, named["id"])
    assert (await earnings(client, supplier))["entries"][0]["account"] == "supplier_pending"
    assert {e["account"] for e in (await earnings(client, supplier))["entries"]} == {"supplier_pending"}


async def test_opening_your_own_link_is_no_click_and_credits_no_one_on_that_device(client: httpx.AsyncClient) -> None:
    _supplier, sharer, buyer, product = await world(client)
    link = await link_of(client, sharer, product)
    async with browser(client) as b:
        await b.get(link["url"], headers=sharer.headers)  # the owner, signed in, tries their own link
        await b.get(link["url"], headers=buyer.headers)  # then another account on the same phone
    order = await place_order(client, buyer, sku(product))
    assert order["promoter_id"] == sharer.id  # the other account's own click: that one counts
    links = (await client.get("/api/v1/me/share-links", headers=sharer.headers)).json()["items"]
    assert [x["clicks"] for x in links] == [1]
    async with browser(client) as b:
        await b.get(link["url"], headers=sharer.headers)
        r = await b.post(  # an order from that phone by an account that never opened the link
            "/api/v1/orders",
            headers={**(await actor(client, "consumer")).headers, "Idempotency-Key": "alt"},
            json={"items": [{"sku_id": sku(product), "quantity": 1}], "shipping_address": ADDRESS},
        )
    assert (r.status_code, r.json()["promoter_id"]) == (201, None)


async def test_a_post_deleted_while_the_shopper_pays_is_no_error_and_no_credit(client: httpx.AsyncClient) -> None:
    _supplier, _, buyer, product = await world(client)
    creator = await showcasing(client, product)
    post = await post_tagging(client, creator, product["id"])
    assert (await client.delete(f"/api/v1/posts/{post['id']}", headers=creator.headers)).status_code == 204
    order = await place_order(client, buyer, sku(product), source={"post_id": post["id"], "creator_id": creator.id})
    assert (order["promoter_id"], order["post_id"], order["scene"]) == (creator.id, None, "showcase")
    r = await order_with(client, buyer, product, {"post_id": "01a20000-0000-7000-8000-000000000000"})
    assert (r.status_code, code(r)) == (422, "invalid_source")  # a post that never was: the client's mistake


async def test_a_post_that_shows_none_of_the_goods_is_not_where_the_order_came_from(client: httpx.AsyncClient) -> None:
    supplier, _, buyer, product = await world(client)
    other = await make_product(client, supplier, title="Tea")
    creator = await actor(client, "creator")
    post = await post_tagging(client, creator, product["id"])
    order = await place_order(client, buyer, sku(other), source={"post_id": post["id"]})
    assert (order["promoter_id"], order["post_id"], order["scene"]) == (None, None, "note")
    await pay_order(client, buyer, order["id"])
    await drain(client)
    assert (await client.get(f"/api/v1/posts/{post['id']}")).json()["counters"]["orders"] == 0


async def test_a_link_to_goods_no_longer_on_sale_counts_nothing_and_says_so(client: httpx.AsyncClient) -> None:
    supplier, sharer, visitor, product = await world(client)
    link = await link_of(client, sharer, product)
    withdraw = {"status": "draft"}
    assert (await client.patch(f"/api/v1/products/{product['id']}", headers=supplier.headers, json=withdraw)).is_success
    async with browser(client) as b:
        r = await b.get(link["url"], headers={**visitor.headers, **HTML})
        assert (r.status_code, r.headers["location"]) == (303, "/products")
        assert "no longer on sale" in (await b.get("/products", headers=HTML)).text
    assert await link_clicks(client, sharer) == [0]


async def test_signed_out_then_in_on_one_browser_is_one_click(client: httpx.AsyncClient) -> None:
    _, sharer, buyer, product = await world(client)
    link = await link_of(client, sharer, product)
    await next_morning(client)
    async with browser(client) as b:
        await b.get(link["url"])
        await b.get(link["url"], headers=buyer.headers)
    async with browser(client) as other_phone:
        await other_phone.get(link["url"], headers=buyer.headers)
    assert await link_clicks(client, sharer) == [1]


async def test_clicks_without_the_visitor_cookie_count_up_to_a_limit_a_minute(client: httpx.AsyncClient) -> None:
    _, sharer, _, product = await world(client)
    link = await link_of(client, sharer, product)
    limit = client._transport.app.state.platform.settings.new_visitor_click_limit  # type: ignore[attr-defined]
    for _ in range(limit + 5):  # a script that drops the cookie is a new visitor every time
        async with browser(client) as b:
            assert (await b.get(link["url"])).status_code == 303  # still leads on
    assert await link_clicks(client, sharer) == [limit]


async def _checkout_form(b: httpx.AsyncClient, product: dict, **source: str) -> dict[str, str]:
    page = await b.get("/checkout", params={"sku": sku(product), "qty": "1", **source}, headers=HTML)
    assert page.status_code == 200, page.text
    return {
        "csrf_token": csrf_of(page.text),
        "sku": sku(product),
        "qty": "1",
        "token": re.search(r'name="token" value="([^"]+)"', page.text).group(1),  # type: ignore[union-attr]
        **ADDRESS,
        **dict(re.findall(r'<input type="hidden" name="(share|post|creator|scene)" value="([^"]*)"', page.text)),
    }


async def test_a_checkout_whose_source_names_nothing_keeps_the_rest_of_it(client: httpx.AsyncClient) -> None:
    _, _, buyer, product = await world(client)
    creator = await showcasing(client, product)
    async with browser(client) as b:
        assert (await web_login(b, buyer.email)).status_code == 303
        form = await _checkout_form(b, product, creator=creator.id, share="nosuchtoken", scene="showcase")
        r = await b.post("/checkout", data=form, headers=HTML)
        assert r.status_code == 422 and "The page that sent you here is gone" in r.text
        kept = dict(re.findall(r'<input type="hidden" name="(share|post|creator|scene)" value="([^"]*)"', r.text))
        assert kept == {"creator": creator.id, "scene": "showcase"}
        form = {**form, **kept, "csrf_token": csrf_of(r.text)}
        form.pop("share")
        assert (await b.post("/checkout", data=form, headers=HTML)).status_code == 303
    orders = (await client.get("/api/v1/orders", headers=buyer.headers)).json()["items"]
    assert [o["promoter_id"] for o in orders] == [creator.id]


async def test_goods_withdrawn_during_checkout_are_named_so(client: httpx.AsyncClient) -> None:
    supplier, _, buyer, product = await world(client)
    async with browser(client) as b:
        assert (await web_login(b, buyer.email)).status_code == 303
        form = await _checkout_form(b, product)
        draft = {"status": "draft"}
        assert (
            await client.patch(f"/api/v1/products/{product['id']}", headers=supplier.headers, json=draft)
        ).is_success
        r = await b.post("/checkout", data=form, headers=HTML)
        assert r.headers["location"] == "/products"
        assert "This product is no longer on sale." in (await b.get("/products", headers=HTML)).text


async def test_sharing_from_a_page_whose_post_was_deleted_shares_the_product(client: httpx.AsyncClient) -> None:
    _, sharer, _, product = await world(client)
    creator = await actor(client, "creator")
    post = await post_tagging(client, creator, product["id"])
    async with browser(client) as b:
        assert (await web_login(b, sharer.email)).status_code == 303
        page = await b.get(f"/products/{product['id']}", params={"post": post["id"]}, headers=HTML)
        assert (await client.delete(f"/api/v1/posts/{post['id']}", headers=creator.headers)).status_code == 204
        form = {"csrf_token": csrf_of(page.text), "product_id": product["id"], "post_id": post["id"]}
        r = await b.post("/share", data=form, headers=HTML)
        assert r.status_code == 303 and r.headers["location"].startswith("/me/share-links?new=")
    links = (await client.get("/api/v1/me/share-links", headers=sharer.headers)).json()["items"]
    assert [(x["product_id"], x["post_id"]) for x in links] == [(product["id"], None)]


async def test_a_signed_in_click_counts_however_busy_the_address(client: httpx.AsyncClient) -> None:
    _, sharer, buyer, product = await world(client)
    link = await link_of(client, sharer, product)
    limit = client._transport.app.state.platform.settings.new_visitor_click_limit  # type: ignore[attr-defined]
    for _ in range(limit):  # an office, a campus, a carrier: many new visitors behind one address
        async with browser(client) as b:
            await b.get(link["url"])
    await click(client, link, buyer)  # a fresh browser, but signed in: counted by account
    assert (await place_order(client, buyer, sku(product)))["promoter_id"] == sharer.id


async def test_a_link_through_a_post_credits_the_post_only_for_the_goods_it_shows(client: httpx.AsyncClient) -> None:
    supplier, sharer, buyer, product = await world(client)
    other = await make_product(client, supplier, title="Tea")
    creator = await actor(client, "creator")
    post = await post_tagging(client, creator, product["id"])
    link = await link_of(client, sharer, product, post["id"])
    order = await place_order(client, buyer, sku(other), source={"share_token": link["token"]})
    assert (order["promoter_id"], order["post_id"], order["scene"]) == (None, None, "share")
