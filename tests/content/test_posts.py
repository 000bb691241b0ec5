"""Posts over HTTP: who may post and tag, media and product rules, live product facts,
deletion, the author's list, and text kept as written."""

from __future__ import annotations

import unicodedata
import uuid
from typing import Any

import httpx

from tests.conftest import Actor, actor, earnings, make_admin, make_product
from tests.content.test_media import mp4, png, upload, upload_image, upload_video


async def make_post(client: httpx.AsyncClient, who: Actor, *, expect: int = 201, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": "note", "title": "龙井三款盲测", "body": "Three teas, tasted blind."}
    body.update(fields)
    r = await client.post("/api/v1/posts", headers=who.headers, json=body)
    assert r.status_code == expect, r.text
    return r.json()


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


async def test_a_creator_publishes_a_note_that_tags_products(client: httpx.AsyncClient) -> None:
    creator, supplier = await actor(client, "creator"), await actor(client, "supplier")
    cup = await make_product(client, supplier, price=6800, stock=3, commission_bps=1500)
    tin = await make_product(client, supplier, price=12_000, title="Longjing tin")
    first, second = await upload_image(client, creator), await upload_image(client, creator, width=10, height=10)
    post = await make_post(
        client,
        creator,
        title="  Three Longjing teas  ",
        media_ids=[first["id"], second["id"], first["id"]],
        product_ids=[tin["id"], cup["id"], tin["id"]],
        hashtags=["龙井", "#Tea", "tea"],
    )
    assert uuid.UUID(post["id"]) and post["author_id"] == creator.id and post["author_handle"] == creator.handle
    assert post["kind"] == "note" and post["title"] == "Three Longjing teas"
    assert post["body"] == "Three teas, tasted blind."
    assert post["sponsored"] is False and post["created_at"]
    assert [m["id"] for m in post["media"]] == [first["id"], second["id"]]  # in order, once each
    assert post["cover_url"] == first["thumb_url"]
    assert [p["id"] for p in post["products"]] == [tin["id"], cup["id"]]
    assert sorted(post["hashtags"]) == ["tea", "龙井"]
    assert post["counters"] == {"likes": 0, "favorites": 0, "comments": 0, "shares": 0, "views": 0, "orders": 0}

    got = (await client.get(f"/api/v1/posts/{post['id']}")).json()  # anonymous readers see it
    assert {k: v for k, v in got.items() if k != "hashtags"} == {k: v for k, v in post.items() if k != "hashtags"}
    assert sorted(got["hashtags"]) == sorted(post["hashtags"])
    assert got["hashtags"] == post["hashtags"]  # the same order whether just made or read back
    cup_out = got["products"][1]
    assert cup_out == {
        "id": cup["id"],
        "title": cup["title"],
        "category": "home",
        "price_minor": 6800,
        "currency": "CNY",
        "in_stock": True,
        "on_sale": True,
        "commission_bps": 1500,
    }


async def test_tagged_products_show_live_price_and_stock(client: httpx.AsyncClient) -> None:
    creator, supplier = await actor(client, "creator"), await actor(client, "supplier")
    r = await client.post(
        "/api/v1/products",
        headers=supplier.headers,
        json={
            "title": "Tea set",
            "category": "home",
            "commission_bps": 2000,
            "skus": [
                {"name": "large", "price_minor": 30_000, "currency": "CNY", "stock": 0},
                {"name": "small", "price_minor": 18_000, "currency": "CNY", "stock": 2},
            ],
        },
    )
    assert r.status_code == 201, r.text
    product = r.json()
    post = await make_post(client, creator, product_ids=[product["id"]])
    tagged = post["products"][0]
    assert (tagged["price_minor"], tagged["in_stock"], tagged["on_sale"]) == (18_000, True, True)

    small = next(s for s in product["skus"] if s["name"] == "small")
    r = await client.put(f"/api/v1/skus/{small['id']}/stock", headers=supplier.headers, json={"stock": 0})
    assert r.status_code == 200, r.text
    tagged = (await client.get(f"/api/v1/posts/{post['id']}")).json()["products"][0]
    assert (tagged["in_stock"], tagged["on_sale"]) == (False, True)

    r = await client.patch(f"/api/v1/products/{product['id']}", headers=supplier.headers, json={"status": "archived"})
    assert r.status_code == 200, r.text
    tagged = (await client.get(f"/api/v1/posts/{post['id']}")).json()["products"]
    assert [(p["id"], p["on_sale"]) for p in tagged] == [(product["id"], False)]
    # an archived product can no longer be tagged
    r = await client.post(
        "/api/v1/posts", headers=creator.headers, json={"kind": "note", "title": "t", "product_ids": [product["id"]]}
    )
    assert r.status_code == 422 and code(r) == "product_unavailable"


async def test_a_product_back_in_draft_is_shown_nowhere_it_was_promoted(client: httpx.AsyncClient) -> None:
    """A draft's title, price and commission are its supplier's business: a post that tagged
    it, the showcase and the share links of those who promoted it no longer show it."""
    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML

    supplier, creator = await actor(client, "supplier"), await actor(client, "creator")
    product = await make_product(client, supplier, title="Spring tea")
    post = await make_post(client, creator, product_ids=[product["id"]])
    assert (
        await client.post("/api/v1/showcase", headers=creator.headers, json={"product_id": product["id"]})
    ).is_success
    link = await client.post("/api/v1/share-links", headers=creator.headers, json={"product_id": product["id"]})
    assert link.is_success, link.text
    r = await client.patch(
        f"/api/v1/products/{product['id']}",
        headers=supplier.headers,
        json={"status": "draft", "title": "Unannounced autumn tea"},
    )
    assert r.status_code == 200
    assert (await client.get(f"/api/v1/posts/{post['id']}")).json()["products"] == []
    for viewer in ({}, creator.headers):
        showcase = await client.get(f"/api/v1/creators/{creator.id}/showcase", headers=viewer)
        assert showcase.status_code == 200 and showcase.json()["items"] == []
    browser = await browser_for(client, creator)
    for page in (f"/posts/{post['id']}", "/me/share-links", "/showcase", f"/creators/{creator.id}/showcase"):
        r = await browser.get(page, headers=HTML)
        assert r.status_code == 200 and "Unannounced" not in r.text, page
    r = await client.patch(f"/api/v1/products/{product['id']}", headers=supplier.headers, json={"status": "active"})
    assert [p["id"] for p in (await client.get(f"/api/v1/posts/{post['id']}")).json()["products"]] == [product["id"]]


async def test_who_may_post_and_tag(client: httpx.AsyncClient) -> None:
    consumer, supplier, mcn = (
        await actor(client, "consumer"),
        await actor(client, "supplier"),
        await actor(client, "mcn"),
    )
    product = await make_product(client, supplier)
    photo = await upload_image(client, consumer)
    note = await make_post(client, consumer, media_ids=[photo["id"]])
    assert note["author_id"] == consumer.id and note["products"] == []

    body = {"kind": "note", "title": "Look what I bought", "product_ids": [product["id"]]}
    r = await client.post("/api/v1/posts", headers=consumer.headers, json=body)
    assert r.status_code == 403 and code(r) == "tagging_not_allowed"
    for who in (supplier, mcn):
        r = await client.post("/api/v1/posts", headers=who.headers, json={"kind": "note", "title": "Buy my tea"})
        assert r.status_code == 403 and code(r) == "forbidden_role"
    r = await client.post("/api/v1/posts", json={"kind": "note", "title": "anonymous"})
    assert r.status_code == 401
    r = await client.get(f"/api/v1/users/{consumer.id}/posts")
    assert [p["id"] for p in r.json()["items"]] == [note["id"]]  # nothing refused was stored


async def test_tagging_rules(client: httpx.AsyncClient) -> None:
    creator, supplier = await actor(client, "creator"), await actor(client, "supplier")
    products = [await make_product(client, supplier, title=f"Cup {i}") for i in range(10)]
    draft = await make_product(client, supplier, status="draft")
    ten = await make_post(client, creator, product_ids=[p["id"] for p in products])
    assert [p["id"] for p in ten["products"]] == [p["id"] for p in products]

    eleven = [p["id"] for p in products] + [str(uuid.uuid4())]
    r = await client.post(
        "/api/v1/posts", headers=creator.headers, json={"kind": "note", "title": "t", "product_ids": eleven}
    )
    assert r.status_code == 422 and code(r) == "too_many_products"
    for bad in (draft["id"], str(uuid.uuid4())):
        r = await client.post(
            "/api/v1/posts", headers=creator.headers, json={"kind": "note", "title": "t", "product_ids": [bad]}
        )
        assert r.status_code == 422 and code(r) == "product_unavailable", r.text
    r = await client.post(
        "/api/v1/posts", headers=creator.headers, json={"kind": "note", "title": "t", "product_ids": ["not-a-uuid"]}
    )
    assert r.status_code == 422


async def test_tagging_moves_no_money(client: httpx.AsyncClient) -> None:
    admin = await make_admin(client)
    token = (
        await client.post("/api/v1/auth/token", json={"email": admin["email"], "password": admin["password"]})
    ).json()
    admin_headers = {"Authorization": f"Bearer {token['access_token']}"}
    creator, supplier = await actor(client, "creator"), await actor(client, "supplier")
    product = await make_product(client, supplier, commission_bps=5000)
    before = [await earnings(client, who) for who in (creator, supplier)]
    tb_before = (await client.get("/api/v1/admin/ledger/trial-balance", headers=admin_headers)).json()
    for _ in range(3):
        await make_post(client, creator, product_ids=[product["id"]])
    after = [await earnings(client, who) for who in (creator, supplier)]
    assert after == before
    assert all(e["pending_minor"] == 0 and e["available_minor"] == 0 for e in after)
    tb_after = (await client.get("/api/v1/admin/ledger/trial-balance", headers=admin_headers)).json()
    assert tb_after == tb_before


async def test_media_rules(client: httpx.AsyncClient) -> None:
    creator, other = await actor(client, "creator"), await actor(client, "creator")
    image, video = await upload_image(client, creator), await upload_video(client, creator)
    theirs = await upload_image(client, other)

    clip = await make_post(client, creator, kind="video", title="Pouring", media_ids=[video["id"]])
    assert clip["kind"] == "video" and [m["kind"] for m in clip["media"]] == ["video"]
    assert clip["media"][0]["duration_s"] == video["duration_s"]
    assert clip["cover_url"] is None  # no cover was uploaded
    with_cover = (await upload(client, creator, mp4(), "v.mp4", "video/mp4", cover=png(320, 568))).json()
    clip = await make_post(client, creator, kind="video", title="Steeping", media_ids=[with_cover["id"]])
    assert clip["cover_url"] == with_cover["thumb_url"] is not None

    cases: list[tuple[dict[str, Any], str]] = [
        ({"kind": "video", "media_ids": []}, "video_required"),
        ({"kind": "video", "media_ids": [image["id"]]}, "video_required"),
        ({"kind": "video", "media_ids": [video["id"], image["id"]]}, "video_required"),
        ({"kind": "note", "media_ids": [video["id"]]}, "invalid_media"),
        ({"kind": "note", "media_ids": [image["id"], video["id"]]}, "invalid_media"),
        ({"kind": "note", "media_ids": [theirs["id"]]}, "unknown_media"),
        ({"kind": "note", "media_ids": [str(uuid.uuid4())]}, "unknown_media"),
    ]
    for fields, expected in cases:
        r = await client.post("/api/v1/posts", headers=creator.headers, json={"title": "t", **fields})
        assert r.status_code == 422 and code(r) == expected, (fields, r.text)
    ten_images = [image["id"]] * 10
    r = await client.post(
        "/api/v1/posts", headers=creator.headers, json={"kind": "note", "title": "t", "media_ids": ten_images}
    )
    assert r.status_code == 422
    r = await client.post("/api/v1/posts", headers=creator.headers, json={"kind": "story", "title": "t"})
    assert r.status_code == 422


async def test_hashtags_in_any_script_with_their_marks(client: httpx.AsyncClient) -> None:
    creator = await actor(client, "creator")
    tags = ["İstanbul", "हिंदी", "ที่นี่", "cafe\u0301", "café", "种草_2026", "می\u200cخواهم"]
    post = await make_post(client, creator, hashtags=tags)
    # lower-cased and composed: the decomposed and the composed café are one tag
    assert sorted(post["hashtags"]) == sorted(unicodedata.normalize("NFC", t.lower()) for t in tags if t != "café")
    for bad in ("a-b", "x" * 31, "😀", "\u0301", "\ufe0f", "\u200cab"):
        body = {"kind": "note", "title": "t", "hashtags": [bad]}
        r = await client.post("/api/v1/posts", headers=creator.headers, json=body)
        assert (r.status_code, code(r)) == (422, "invalid_hashtag"), bad


async def test_bodies_are_validated(client: httpx.AsyncClient) -> None:
    creator = await actor(client, "creator")
    bad: list[dict[str, Any]] = [
        {"kind": "note", "title": ""},
        {"kind": "note", "title": "   "},
        {"kind": "note", "title": "x" * 101},
        {"kind": "note", "title": "t", "body": "x" * 5001},
        {"kind": "note", "title": "a\u0000b"},
        {"kind": "note", "title": "t", "hashtags": ["no spaces allowed"]},
        {"kind": "note", "title": "t", "hashtags": [f"tag{i}" for i in range(11)]},
        {"kind": "note", "title": "t", "author_id": creator.id},
        {"title": "t"},
    ]
    for body in bad:
        r = await client.post("/api/v1/posts", headers=creator.headers, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["code"]
    assert (await client.get(f"/api/v1/users/{creator.id}/posts")).json()["items"] == []


async def test_text_is_stored_and_returned_verbatim(client: httpx.AsyncClient) -> None:
    creator = await actor(client, "creator")
    title = "<script>alert('x')</script> & \"quotes\" 🍵"
    body = "<img src=x onerror=alert(1)>\nline two\t&amp; 中文"
    post = await make_post(client, creator, title=title, body=body)
    assert (post["title"], post["body"]) == (title, body)
    got = (await client.get(f"/api/v1/posts/{post['id']}")).json()
    assert (got["title"], got["body"]) == (title, body)
    listed = (await client.get(f"/api/v1/users/{creator.id}/posts")).json()["items"][0]
    assert (listed["title"], listed["body"]) == (title, body)


async def test_only_the_author_deletes(client: httpx.AsyncClient) -> None:
    creator, other = await actor(client, "creator"), await actor(client, "consumer")
    post = await make_post(client, creator)
    assert (await client.delete(f"/api/v1/posts/{post['id']}")).status_code == 401
    r = await client.delete(f"/api/v1/posts/{post['id']}", headers=other.headers)
    assert r.status_code == 403 and code(r) == "not_author"
    assert (await client.get(f"/api/v1/posts/{post['id']}")).status_code == 200

    assert (await client.delete(f"/api/v1/posts/{post['id']}", headers=creator.headers)).status_code == 204
    r = await client.get(f"/api/v1/posts/{post['id']}")
    assert r.status_code == 404 and code(r) == "post_not_found"
    for who in (creator, other):
        r = await client.delete(f"/api/v1/posts/{post['id']}", headers=who.headers)
        assert r.status_code == 404 and code(r) == "post_not_found"
    assert (await client.get(f"/api/v1/users/{creator.id}/posts")).json()["items"] == []
    r = await client.get(f"/api/v1/posts/{uuid.uuid4()}")
    assert r.status_code == 404 and code(r) == "post_not_found"
    assert (await client.get("/api/v1/posts/not-a-uuid")).status_code == 422


async def test_an_operator_may_remove_a_post(client: httpx.AsyncClient) -> None:
    admin = await make_admin(client)
    token = (
        await client.post("/api/v1/auth/token", json={"email": admin["email"], "password": admin["password"]})
    ).json()
    creator = await actor(client, "creator")
    post = await make_post(client, creator)
    r = await client.delete(f"/api/v1/posts/{post['id']}", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert r.status_code == 204
    assert (await client.get(f"/api/v1/posts/{post['id']}")).status_code == 404


async def test_an_authors_posts_page_newest_first(client: httpx.AsyncClient) -> None:
    creator, other = await actor(client, "creator"), await actor(client, "creator")
    mine = [(await make_post(client, creator, title=f"post {i}"))["id"] for i in range(7)]
    await make_post(client, other, title="someone else's")
    await client.delete(f"/api/v1/posts/{mine[3]}", headers=creator.headers)
    expected = [p for p in reversed(mine) if p != mine[3]]

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor:
            params["cursor"] = cursor
        r = await client.get(f"/api/v1/users/{creator.id}/posts", params=params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 4
        seen += [p["id"] for p in page["items"]]
        assert all(p["author_id"] == creator.id for p in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == expected and pages == 2
    r = await client.get(f"/api/v1/users/{creator.id}/posts", params={"cursor": "garbage!"})
    assert r.status_code == 400 and code(r) == "invalid_cursor"
    r = await client.get(f"/api/v1/users/{creator.id}/posts", params={"limit": 0})
    assert r.status_code == 422


async def test_the_posts_of_no_such_account_are_404(client: httpx.AsyncClient) -> None:
    r = await client.get(f"/api/v1/users/{uuid.uuid4()}/posts")
    assert (r.status_code, code(r)) == (404, "user_not_found")


async def test_deletes_at_once_delete_once(client: httpx.AsyncClient) -> None:
    import asyncio

    from sqlalchemy import func, select

    from grassroots.kernel.models import OutboxEvent

    creator = await actor(client, "creator")
    post = await make_post(client, creator)
    answers = await asyncio.gather(
        *(client.delete(f"/api/v1/posts/{post['id']}", headers=creator.headers) for _ in range(5))
    )
    assert sorted(r.status_code for r in answers) == [204, 404, 404, 404, 404]
    platform = client._transport.app.state.platform  # type: ignore[attr-defined]
    async with platform.unit_of_work(write=False) as uow:
        told = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.name == "content.post_deleted")
        assert await uow.session.scalar(told) == 1  # the others were told once
