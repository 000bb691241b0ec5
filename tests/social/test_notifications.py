"""In-app notifications: made from events (delivered asynchronously, so each test drains
the worker first), read state, the unread filter, and privacy."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from grassroots.kernel.platform import Platform
from grassroots.payments import repository as payments_repository
from grassroots.social import service as social
from grassroots.social.models import Notification, NotificationKind
from tests.conftest import Actor, actor, advance, drain, make_admin, make_product, pay_order, place_order
from tests.content.test_posts import make_post
from tests.social.test_comments import say


async def inbox(client: httpx.AsyncClient, who: Actor, **params: Any) -> dict[str, Any]:
    await drain(client)
    r = await client.get("/api/v1/notifications", headers=who.headers, params=params)
    assert r.status_code == 200, r.text
    return r.json()


def kinds(page: dict[str, Any]) -> list[str]:
    return [n["kind"] for n in page["items"]]


async def admin_headers(client: httpx.AsyncClient) -> dict[str, str]:
    admin = await make_admin(client)
    r = await client.post("/api/v1/auth/token", json={"email": admin["email"], "password": admin["password"]})
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_followers_comments_and_replies_notify_the_right_people(client: httpx.AsyncClient) -> None:
    author, fan, other = (
        await actor(client, "creator"),
        await actor(client, "consumer"),
        await actor(client, "consumer"),
    )
    post = await make_post(client, author, title="<i>Celadon</i> cups")

    await client.post(f"/api/v1/users/{author.id}/follow", headers=fan.headers)
    await client.post(f"/api/v1/users/{author.id}/follow", headers=fan.headers)  # a repeat notifies once
    page = await inbox(client, author)
    assert kinds(page) == ["new_follower"] and page["unread"] == 1
    n = page["items"][0]
    assert (n["actor_id"], n["actor_handle"], n["read"], n["post_id"], n["order_id"]) == (
        fan.id,
        fan.handle,
        False,
        None,
        None,
    )
    assert uuid.UUID(n["id"]) and n["created_at"]

    top = await say(client, fan, post["id"], "Where from?")
    page = await inbox(client, author)
    assert kinds(page) == ["comment", "new_follower"]  # newest first
    c = page["items"][0]
    assert (c["actor_id"], c["post_id"], c["post_title"]) == (fan.id, post["id"], "<i>Celadon</i> cups")
    assert c["data"] == {"comment_id": top["id"]}

    # the author replies: the commenter hears of it, the author does not hear of their own words
    answer = await say(client, author, post["id"], "Longquan", reply_to=top["id"])
    fan_page = await inbox(client, fan)
    assert kinds(fan_page) == ["reply"]
    assert (fan_page["items"][0]["actor_id"], fan_page["items"][0]["data"]) == (author.id, {"comment_id": answer["id"]})
    assert kinds(await inbox(client, author)) == ["comment", "new_follower"]

    # someone else replying in the thread: a reply for the addressee and a comment for the author
    await say(client, other, post["id"], "Me too", reply_to=answer["id"])
    await say(client, other, post["id"], "@fan agreed", reply_to=top["id"])
    assert kinds(await inbox(client, author)) == ["comment", "reply", "comment", "new_follower"]
    assert kinds(await inbox(client, fan)) == ["reply", "reply"]
    # commenting on your own post or replying to yourself notifies nobody
    mine = await say(client, author, post["id"], "Thanks all")
    await say(client, author, post["id"], "PS", reply_to=mine["id"])
    assert len((await inbox(client, author))["items"]) == 4
    assert (await inbox(client, other))["items"] == []


async def test_reading_notifications(client: httpx.AsyncClient) -> None:
    star = await actor(client, "creator")
    fans = [await actor(client, "consumer") for _ in range(5)]
    for fan in fans:
        await client.post(f"/api/v1/users/{star.id}/follow", headers=fan.headers)
    page = await inbox(client, star)
    assert page["unread"] == 5 and [n["actor_id"] for n in page["items"]] == [f.id for f in reversed(fans)]
    ids = [n["id"] for n in page["items"]]

    r = await client.post("/api/v1/notifications/read", headers=star.headers, json={"ids": ids[:2]})
    assert r.status_code == 200 and r.json() == {"marked": 2, "unread": 3}
    r = await client.post("/api/v1/notifications/read", headers=star.headers, json={"ids": ids[:2]})
    assert r.json() == {"marked": 0, "unread": 3}  # already read
    page = await inbox(client, star)
    assert [n["read"] for n in page["items"]] == [True, True, False, False, False]
    unread = await inbox(client, star, unread="true")
    assert [n["id"] for n in unread["items"]] == ids[2:] and unread["unread"] == 3

    # paging through the unread ones
    first = await inbox(client, star, unread="true", limit=2)
    assert [n["id"] for n in first["items"]] == ids[2:4] and first["next_cursor"]
    rest = await inbox(client, star, unread="true", limit=2, cursor=first["next_cursor"])
    assert [n["id"] for n in rest["items"]] == ids[4:] and rest["next_cursor"] is None

    r = await client.post("/api/v1/notifications/read", headers=star.headers, json={})
    assert r.json() == {"marked": 3, "unread": 0}
    assert (await inbox(client, star, unread="true"))["items"] == []
    assert len((await inbox(client, star))["items"]) == 5

    for bad in ({"ids": ["nope"]}, {"ids": [str(uuid.uuid4())] * 201}, {"all": True}):
        r = await client.post("/api/v1/notifications/read", headers=star.headers, json=bad)
        assert r.status_code == 422, (bad, r.text)
    assert (await client.get("/api/v1/notifications")).status_code == 401
    assert (await client.post("/api/v1/notifications/read", json={})).status_code == 401


async def test_nobody_sees_or_reads_anyone_elses_notifications(client: httpx.AsyncClient) -> None:
    alice, bob, carol = await actor(client, "creator"), await actor(client, "creator"), await actor(client, "consumer")
    await client.post(f"/api/v1/users/{alice.id}/follow", headers=carol.headers)
    await client.post(f"/api/v1/users/{bob.id}/follow", headers=carol.headers)
    alices = await inbox(client, alice)
    bobs = await inbox(client, bob)
    assert len(alices["items"]) == 1 and len(bobs["items"]) == 1
    assert alices["items"][0]["id"] != bobs["items"][0]["id"]
    assert (await inbox(client, carol))["items"] == []

    # Bob marking Alice's notification (by id, or everything he has) leaves hers unread
    r = await client.post("/api/v1/notifications/read", headers=bob.headers, json={"ids": [alices["items"][0]["id"]]})
    assert r.json() == {"marked": 0, "unread": 1}
    r = await client.post("/api/v1/notifications/read", headers=bob.headers, json={})
    assert r.json() == {"marked": 1, "unread": 0}
    again = await inbox(client, alice)
    assert again["unread"] == 1 and again["items"][0]["read"] is False


async def test_orders_notify_buyer_supplier_and_the_creator_who_brought_them(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    supplier, creator, buyer = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier, price=10_000, commission_bps=2000)
    post = await make_post(client, creator, title="My favourite cup", product_ids=[product["id"]])

    order = await place_order(client, buyer, product["skus"][0]["id"], source={"post_id": post["id"]})
    await pay_order(client, buyer, order["id"])
    earned = await inbox(client, creator)
    assert kinds(earned) == ["commission_earned"]
    n = earned["items"][0]
    assert (n["order_id"], n["post_id"], n["post_title"]) == (order["id"], post["id"], "My favourite cup")
    assert n["data"]["currency"] == "CNY" and n["data"]["amount_minor"] > 0
    assert (
        n["data"]["amount_minor"]
        == (await client.get("/api/v1/me/earnings", headers=creator.headers)).json()["pending_minor"]
    )

    r = await client.post(
        f"/api/v1/orders/{order['id']}/ship",
        headers=supplier.headers,
        json={"carrier": "SF Express", "tracking_number": "SF1234567890"},
    )
    assert r.status_code == 200, r.text
    shipped = await inbox(client, buyer)
    assert kinds(shipped) == ["order_shipped"] and shipped["items"][0]["order_id"] == order["id"]

    r = await client.post(f"/api/v1/orders/{order['id']}/receive", headers=buyer.headers)
    assert r.status_code == 200, r.text
    received = await inbox(client, supplier)
    assert kinds(received) == ["order_received"] and received["items"][0]["order_id"] == order["id"]
    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML

    for who in (buyer, supplier):  # each notice of an order they may open links to it
        page = await (await browser_for(client, who)).get("/notifications", headers=HTML)
        assert f'href="/orders/{order["id"]}"' in page.text

    await advance(client, 7 * 86400 + 60)
    r = await client.post("/api/v1/admin/settlements", headers=admin, json={})
    assert r.json()["order_ids"] == [order["id"]]
    settled = await inbox(client, creator)
    assert kinds(settled) == ["commission_settled", "commission_earned"]
    assert settled["items"][0]["data"] == n["data"] and settled["items"][0]["order_id"] == order["id"]

    # each party heard only of their own part
    assert kinds(await inbox(client, buyer)) == ["order_shipped"]
    assert kinds(await inbox(client, supplier)) == ["order_received"]


async def test_returns_notify_the_supplier_of_a_request_and_the_buyer_of_the_decision(
    client: httpx.AsyncClient,
) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, price=5_000, stock=5)
    orders = []
    for _ in range(3):
        order = await place_order(client, buyer, product["skus"][0]["id"])
        await pay_order(client, buyer, order["id"])
        await client.post(
            f"/api/v1/orders/{order['id']}/ship",
            headers=supplier.headers,
            json={"carrier": "SF", "tracking_number": "1"},
        )
        await client.post(f"/api/v1/orders/{order['id']}/receive", headers=buyer.headers)
        orders.append(order)
    kept, returned, refunded = orders
    returns = []
    for order in (kept, returned):
        r = await client.post(f"/api/v1/orders/{order['id']}/returns", headers=buyer.headers, json={"reason": "size"})
        assert r.status_code == 201, r.text
        returns.append(r.json())
    told = await inbox(client, supplier)
    assert [(n["kind"], n["order_id"]) for n in told["items"][:2]] == [
        ("return_requested", returned["id"]),
        ("return_requested", kept["id"]),
    ]
    r = await client.post(f"/api/v1/returns/{returns[0]['id']}/reject", headers=supplier.headers, json={"note": "worn"})
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/returns/{returns[1]['id']}/approve", headers=supplier.headers, json={})
    assert r.status_code == 200, r.text
    r = await client.post(f"/api/v1/orders/{refunded['id']}/refund", headers=supplier.headers, json={"reason": "late"})
    assert r.status_code == 200, r.text
    heard = [(n["kind"], n["order_id"], n["data"]) for n in (await inbox(client, buyer))["items"]]
    assert heard[:3] == [
        ("order_refunded", refunded["id"], {"amount_minor": 5_000, "currency": "CNY"}),
        ("order_refunded", returned["id"], {"amount_minor": 5_000, "currency": "CNY"}),
        ("return_rejected", kept["id"], {}),
    ]
    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML

    page = await (await browser_for(client, buyer)).get("/notifications", headers=HTML)
    assert "Your return request was declined" in page.text and f'href="/orders/{kept["id"]}"' in page.text
    page = await (await browser_for(client, supplier)).get("/notifications", headers=HTML)
    assert "A buyer asked to return an order" in page.text and 'href="/supplier/returns"' in page.text


async def test_the_buyer_hears_of_a_refund_when_the_money_is_back_not_before(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    supplier, buyer = await actor(client, "supplier"), await actor(client, "consumer")
    product = await make_product(client, supplier, price=5_000, stock=5)
    order = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, order["id"], fail_refunds=True)
    r = await client.post(f"/api/v1/orders/{order['id']}/refund", headers=supplier.headers, json={"reason": "late"})
    assert r.status_code == 200, r.text
    assert kinds(await inbox(client, buyer)) == []  # the issuer refused it: nothing is back yet
    async with platform.unit_of_work() as uow:
        (failed,) = await payments_repository.refunds_for_order(uow.session, uuid.UUID(order["id"]))
        charge = await payments_repository.sandbox_charge_for(uow.session, failed.payment_id)
        assert charge is not None
        charge.fail_refunds = False  # the issuer accepts it this time
    r = await client.post(f"/api/v1/admin/refunds/{failed.id}/retry", headers=await admin_headers(client))
    assert r.status_code == 200, r.text
    heard = (await inbox(client, buyer))["items"]
    assert [(n["kind"], n["order_id"], n["data"]) for n in heard] == [
        ("order_refunded", order["id"], {"amount_minor": 5_000, "currency": "CNY"})
    ]


async def test_an_order_without_a_promoter_earns_no_commission_notice(client: httpx.AsyncClient) -> None:
    supplier, shopper, buyer = (
        await actor(client, "supplier"),
        await actor(client, "consumer"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier)
    note = await make_post(client, shopper, title="I love this")  # a shopper's note earns nothing
    order = await place_order(client, buyer, product["skus"][0]["id"], source={"post_id": note["id"]})
    await pay_order(client, buyer, order["id"])
    direct = await place_order(client, buyer, product["skus"][0]["id"])
    await pay_order(client, buyer, direct["id"])
    assert (await inbox(client, shopper))["items"] == []
    assert (await inbox(client, supplier))["items"] == []


async def test_no_page_links_to_a_deleted_post(client: httpx.AsyncClient) -> None:
    """Notifications and share links keep their history, but neither names nor links a
    post its author deleted (the link would be a 404, the title no longer theirs to show)."""
    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML

    supplier, creator, fan = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
    )
    product = await make_product(client, supplier)
    post = await make_post(client, creator, title="Spring tea 春茶", product_ids=[product["id"]])
    await say(client, fan, post["id"], "nice")
    r = await client.post(
        "/api/v1/share-links", headers=fan.headers, json={"product_id": product["id"], "post_id": post["id"]}
    )
    assert r.status_code in (200, 201), r.text
    assert (await client.delete(f"/api/v1/posts/{post['id']}", headers=creator.headers)).is_success
    page = await inbox(client, creator)
    assert page["items"] and all(n["post_title"] is None for n in page["items"])
    notices = (await (await browser_for(client, creator)).get("/notifications", headers=HTML)).text
    links = (await (await browser_for(client, fan)).get("/me/share-links", headers=HTML)).text
    for text in (notices, links):
        assert f"/posts/{post['id']}" not in text and "Spring tea" not in text
    assert "via a deleted post" in links


async def test_mark_all_read_leaves_what_arrived_after_the_page_was_shown(client: httpx.AsyncClient) -> None:
    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML, csrf_of

    author, fan, late = await actor(client, "creator"), await actor(client, "consumer"), await actor(client, "consumer")
    post = await make_post(client, author)
    await client.post(f"/api/v1/posts/{post['id']}/comments", headers=fan.headers, json={"body": "first"})
    await drain(client)
    b = await browser_for(client, author)
    page = await b.get("/notifications", headers=HTML)
    assert page.text.count('data-testid="notification"') == 1
    await client.post(f"/api/v1/posts/{post['id']}/comments", headers=late.headers, json={"body": "meanwhile"})
    await drain(client)
    # and one delivered late about something that happened before the page was shown
    platform: Platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    first = (await client.get("/api/v1/notifications", headers=author.headers)).json()["items"][-1]
    async with platform.unit_of_work() as uow:
        earlier = datetime.fromisoformat(first["created_at"]) - timedelta(seconds=30)
        await social.notify(
            uow, uuid.UUID(author.id), NotificationKind.new_follower, "late", actor_id=uuid.UUID(fan.id), at=earlier
        )
    # and one stamped a moment before the page was shown whose delivery committed after it
    shown_at = datetime.fromisoformat(re.search(r'name="shown_at" value="([^"]*)"', page.text).group(1))  # type: ignore[union-attr]
    async with platform.unit_of_work() as uow:
        kind, key = NotificationKind.new_follower, "slow-to-commit"
        await social.notify(uow, uuid.UUID(author.id), kind, key, actor_id=uuid.UUID(late.id))
    async with platform.db.engine.begin() as conn:
        slow = update(Notification).where(Notification.dedupe_key == "slow-to-commit")
        await conn.execute(slow.values(arrived_at=shown_at - timedelta(seconds=1)))
    form = {
        "csrf_token": csrf_of(page.text),
        "shown_at": shown_at.isoformat(),
        "shown_ids": re.search(r'name="shown_ids" value="([^"]*)"', page.text).group(1),  # type: ignore[union-attr]
    }
    assert (await b.post("/notifications/read", data=form, headers=HTML)).status_code == 303
    left = (await client.get("/api/v1/notifications?unread=true", headers=author.headers)).json()
    assert sorted(n["actor_handle"] for n in left["items"]) == sorted([late.handle, late.handle, fan.handle])
    assert left["items"][-1]["kind"] == "new_follower"  # listed by when it happened, unread
    assert "first" not in str(left) and len(left["items"]) == 3  # what the page showed is read
    for odd in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):  # no such time in UTC
        r = await b.post("/notifications/read", data={**form, "shown_at": odd}, headers=HTML)
        assert r.status_code == 303, odd  # as a form without it: everything
    assert (await client.get("/api/v1/notifications?unread=true", headers=author.headers)).json()["items"] == []
    await b.aclose()


async def test_both_sides_of_an_mcn_contract_hear_of_each_step(client: httpx.AsyncClient) -> None:
    mcn, creator, other = await actor(client, "mcn"), await actor(client, "creator"), await actor(client, "creator")

    async def kinds(who: Actor) -> list[tuple[str, str | None]]:
        await drain(client)
        items = (await client.get("/api/v1/notifications", headers=who.headers)).json()["items"]
        return [(n["kind"], n["actor_handle"]) for n in items]

    async def offer(to: Actor) -> str:
        r = await client.post(
            "/api/v1/mcn/contracts", headers=mcn.headers, json={"creator_id": to.id, "share_bps": 3000}
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    signed = await offer(creator)
    assert await kinds(creator) == [("contract_offered", mcn.handle)]
    assert (await client.post(f"/api/v1/mcn/contracts/{signed}/accept", headers=creator.headers)).is_success
    assert await kinds(mcn) == [("contract_accepted", creator.handle)]
    assert (await client.post(f"/api/v1/mcn/contracts/{signed}/terminate", headers=creator.headers)).is_success
    assert (await kinds(mcn))[0] == ("contract_ended", creator.handle)
    declined, withdrawn = await offer(creator), await offer(other)
    assert (await client.post(f"/api/v1/mcn/contracts/{declined}/terminate", headers=creator.headers)).is_success
    assert (await client.post(f"/api/v1/mcn/contracts/{withdrawn}/terminate", headers=mcn.headers)).is_success
    assert (await kinds(mcn))[0] == ("contract_declined", creator.handle)
    assert [k for k, _ in await kinds(other)] == ["contract_withdrawn", "contract_offered"]
    page = await client.get("/notifications", headers={"accept": "text/html", **other.headers})
    assert "withdrew their contract offer" in page.text and 'href="/mcn/contracts"' in page.text


async def test_the_creators_mcn_hears_of_its_share_when_paid_and_when_settled(client: httpx.AsyncClient) -> None:
    admin = await admin_headers(client)
    supplier, creator, buyer, mcn = (
        await actor(client, "supplier"),
        await actor(client, "creator"),
        await actor(client, "consumer"),
        await actor(client, "mcn"),
    )
    offer = await client.post(
        "/api/v1/mcn/contracts", headers=mcn.headers, json={"creator_id": creator.id, "share_bps": 3000}
    )
    assert offer.status_code == 201, offer.text
    r = await client.post(f"/api/v1/mcn/contracts/{offer.json()['id']}/accept", headers=creator.headers)
    assert r.status_code == 200, r.text
    await drain(client)
    before = kinds(await inbox(client, mcn))
    product = await make_product(client, supplier, price=10_000, commission_bps=2000)
    post = await make_post(client, creator, title="My favourite cup", product_ids=[product["id"]])
    order = await place_order(client, buyer, product["skus"][0]["id"], source={"post_id": post["id"]})
    await pay_order(client, buyer, order["id"])

    earned = await inbox(client, mcn)
    assert kinds(earned) == ["mcn_share_earned", *before]
    n = earned["items"][0]
    assert (n["order_id"], n["actor_id"], n["data"]) == (
        order["id"],
        creator.id,
        {"amount_minor": 600, "currency": "CNY"},
    )
    assert (await client.get("/api/v1/me/earnings", headers=mcn.headers)).json()["pending_minor"] == 600

    for step in ("ship", "receive"):
        body = {"carrier": "SF", "tracking_number": "SF1"} if step == "ship" else None
        who = supplier if step == "ship" else buyer
        assert (
            await client.post(f"/api/v1/orders/{order['id']}/{step}", headers=who.headers, json=body)
        ).status_code == 200
    await advance(client, 7 * 86400 + 60)
    assert (await client.post("/api/v1/admin/settlements", headers=admin, json={})).json()["order_ids"] == [order["id"]]
    settled = await inbox(client, mcn)
    assert kinds(settled)[:2] == ["mcn_share_settled", "mcn_share_earned"]
    assert settled["items"][0]["data"] == {"amount_minor": 600, "currency": "CNY"}

    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML

    page = await (await browser_for(client, mcn)).get("/notifications", headers=HTML)
    assert "made a sale: your MCN share (pending)" in page.text and "¥6.00" in page.text


async def test_no_notification_names_or_links_what_a_suspension_hid(client: httpx.AsyncClient) -> None:
    """Like a deleted post: a post whose author is suspended is not named nor linked, and a
    suspended actor's handle is not shown nor linked (both would lead to a 404)."""
    from tests.commerce.test_regressions import browser_for
    from tests.identity.test_suspension import admin_actor, reinstate, suspend
    from tests.web.test_pages import HTML

    me, other, admin = await actor(client, "creator"), await actor(client, "creator"), await admin_actor(client)
    mine = await make_post(client, me, title="My own tea 我的茶")
    theirs = await make_post(client, other, title="Their tea 他们的茶")
    assert (await client.post(f"/api/v1/users/{me.id}/follow", headers=other.headers)).is_success
    await say(client, other, mine["id"], "nice")  # comment: by them, on my post
    top = await say(client, me, theirs["id"], "where from?")
    await say(client, other, theirs["id"], "Hangzhou", reply_to=top["id"])  # reply: by them, on their post
    before = await inbox(client, me)
    assert {(n["kind"], n["actor_handle"], n["post_title"]) for n in before["items"]} == {
        ("new_follower", other.handle, None),
        ("comment", other.handle, "My own tea 我的茶"),
        ("reply", other.handle, "Their tea 他们的茶"),
    }

    assert (await suspend(client, admin, other)).status_code == 200
    page = await inbox(client, me)
    assert {(n["kind"], n["actor_handle"], n["post_title"]) for n in page["items"]} == {
        ("new_follower", None, None),
        ("comment", None, "My own tea 我的茶"),  # my post is still mine to see
        ("reply", None, None),
    }
    browser = await browser_for(client, me)
    html = (await browser.get("/notifications", headers=HTML)).text
    assert f"/u/{other.id}" not in html and f"@{other.handle}" not in html and "Someone" in html
    assert f"/posts/{theirs['id']}" not in html and "Their tea" not in html
    assert f'href="/posts/{mine["id"]}"' in html and "My own tea" in html

    assert (await reinstate(client, admin, other)).status_code == 200
    assert {(n["actor_handle"], n["post_title"]) for n in (await inbox(client, me))["items"]} == {
        (other.handle, None),
        (other.handle, "My own tea 我的茶"),
        (other.handle, "Their tea 他们的茶"),
    }
    await browser.aclose()
