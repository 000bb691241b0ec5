"""Following, follower lists and profiles over HTTP."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import update

from grassroots.identity.models import User
from grassroots.kernel.platform import Platform
from tests.conftest import Actor, actor
from tests.content.test_posts import make_post


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


async def follow(client: httpx.AsyncClient, who: Actor, whom: Actor | str, *, on: bool = True) -> httpx.Response:
    target = whom if isinstance(whom, str) else whom.id
    method = client.post if on else client.delete
    return await method(f"/api/v1/users/{target}/follow", headers=who.headers)


async def profile(client: httpx.AsyncClient, user_id: str, viewer: Actor | None = None) -> dict[str, Any]:
    r = await client.get(f"/api/v1/users/{user_id}", headers=viewer.headers if viewer else None)
    assert r.status_code == 200, r.text
    return r.json()


async def every(client: httpx.AsyncClient, path: str, limit: int, **kw: Any) -> list[dict[str, Any]]:
    """All items of a cursor-paged list, checking each page's size."""
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        params: dict[str, Any] = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        r = await client.get(path, params=params, **kw)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("the list never ended")


async def test_follow_is_idempotent_and_counted(client: httpx.AsyncClient) -> None:
    fan, star = await actor(client, "consumer"), await actor(client, "creator")
    for _ in range(3):
        r = await follow(client, fan, star)
        assert r.status_code == 200, r.text
        assert r.json() == {"user_id": star.id, "following": True, "followers": 1}
    star_profile = await profile(client, star.id, fan)
    assert (star_profile["followers"], star_profile["following"], star_profile["followed_by_me"]) == (1, 0, True)
    assert (await profile(client, fan.id))["following"] == 1
    assert (await profile(client, star.id))["followed_by_me"] is False  # anonymous
    assert (await profile(client, star.id, star))["followed_by_me"] is False

    for _ in range(2):
        r = await follow(client, fan, star, on=False)
        assert r.status_code == 200, r.text
        assert r.json() == {"user_id": star.id, "following": False, "followers": 0}
    star_profile = await profile(client, star.id, fan)
    assert (star_profile["followers"], star_profile["followed_by_me"]) == (0, False)
    assert (await profile(client, fan.id))["following"] == 0
    assert (await follow(client, fan, star)).json()["followers"] == 1


async def test_follow_rules(client: httpx.AsyncClient, platform: Platform) -> None:
    me, other = await actor(client, "creator"), await actor(client, "consumer")
    r = await follow(client, me, me)
    assert r.status_code == 422 and code(r) == "cannot_follow_self"
    assert (await profile(client, me.id))["followers"] == 0
    for target in (str(uuid.uuid4()),):
        for on in (True, False):
            r = await follow(client, me, target, on=on)
            assert r.status_code == 404 and code(r) == "user_not_found", r.text
    assert (await follow(client, me, "not-a-uuid")).status_code == 422
    assert (await client.post(f"/api/v1/users/{other.id}/follow")).status_code == 401
    assert (await client.delete(f"/api/v1/users/{other.id}/follow")).status_code == 401
    assert (await profile(client, other.id))["followers"] == 0

    async with platform.unit_of_work() as uow:
        await uow.session.execute(update(User).where(User.id == uuid.UUID(other.id)).values(disabled_at=uow.now()))
    r = await follow(client, me, other)
    assert r.status_code == 404 and code(r) == "user_not_found"
    r = await client.get(f"/api/v1/users/{other.id}")
    assert r.status_code == 404 and code(r) == "user_not_found"


async def test_follower_and_following_lists_page(client: httpx.AsyncClient) -> None:
    star = await actor(client, "creator")
    fans = [await actor(client, "consumer") for _ in range(5)]
    for fan in fans:
        assert (await follow(client, fan, star)).status_code == 200
    await follow(client, fans[0], fans[1])
    await follow(client, fans[2], star, on=False)

    followers = await every(client, f"/api/v1/users/{star.id}/followers", 2)
    assert [p["id"] for p in followers] == [f.id for f in reversed(fans) if f is not fans[2]]  # newest first
    first = next(p for p in followers if p["id"] == fans[0].id)
    assert first["handle"] == fans[0].handle and first["role"] == "consumer" and first["since"]

    following = await every(client, f"/api/v1/users/{fans[0].id}/following", 1)
    assert [p["id"] for p in following] == [fans[1].id, star.id]
    assert await every(client, f"/api/v1/users/{fans[2].id}/following", 10) == []
    assert (await profile(client, star.id))["followers"] == 4
    r = await client.get(f"/api/v1/users/{uuid.uuid4()}/followers")
    assert r.status_code == 404 and code(r) == "user_not_found"
    r = await client.get(f"/api/v1/users/{star.id}/followers", params={"cursor": "bad"})
    assert r.status_code == 400 and code(r) == "invalid_cursor"


async def test_profile_counts_posts_and_likes_and_keeps_the_bio(client: httpx.AsyncClient) -> None:
    creator, fan = await actor(client, "creator"), await actor(client, "consumer")
    posts = [await make_post(client, creator, title=f"p{i}") for i in range(3)]
    await client.post(f"/api/v1/posts/{posts[0]['id']}/like", headers=fan.headers)
    await client.post(f"/api/v1/posts/{posts[1]['id']}/like", headers=fan.headers)
    await client.post(f"/api/v1/posts/{posts[1]['id']}/like", headers=creator.headers)
    p = await profile(client, creator.id)
    assert (p["posts"], p["likes_received"]) == (3, 3)
    assert (p["id"], p["handle"], p["role"], p["bio"]) == (creator.id, creator.handle, "creator", "")
    assert p["joined_at"]
    await client.delete(f"/api/v1/posts/{posts[1]['id']}", headers=creator.headers)
    p = await profile(client, creator.id)
    assert (p["posts"], p["likes_received"]) == (2, 1)

    bio = "  茶农的女儿 <b>tea</b> & more  "
    r = await client.put("/api/v1/me/profile", headers=creator.headers, json={"bio": bio})
    assert r.status_code == 200, r.text
    assert r.json()["bio"] == bio.strip() and r.json()["posts"] == 2
    assert (await profile(client, creator.id))["bio"] == bio.strip()
    r = await client.put("/api/v1/me/profile", headers=creator.headers, json={"bio": "second"})
    assert r.json()["bio"] == "second"
    assert (await profile(client, creator.id))["bio"] == "second"
    assert (await profile(client, fan.id))["bio"] == ""  # another's is untouched

    for bad in ({"bio": "x" * 301}, {"bio": "a\u0000"}, {"bio": "x", "handle": "new"}):
        r = await client.put("/api/v1/me/profile", headers=creator.headers, json=bad)
        assert r.status_code == 422, r.text
    assert (await client.put("/api/v1/me/profile", json={"bio": "anon"})).status_code == 401
    r = await client.get(f"/api/v1/users/{uuid.uuid4()}")
    assert r.status_code == 404 and code(r) == "user_not_found"


async def test_a_first_bio_saved_twice_at_once_is_saved(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        who = await actor(client, "creator")
        saves = await asyncio.gather(
            *(client.put("/api/v1/me/profile", headers=who.headers, json={"bio": f"bio {j}"}) for j in range(4))
        )
        assert [r.status_code for r in saves] == [200] * 4, [r.text for r in saves]
        bio = (await client.get(f"/api/v1/users/{who.id}")).json()["bio"]
        assert bio in {f"bio {j}" for j in range(4)}


async def test_a_fan_unfollows_a_suspended_account_for_good(client: httpx.AsyncClient) -> None:
    from tests.identity.test_suspension import admin_actor, reinstate, suspend

    fan, star, admin = await actor(client, "consumer"), await actor(client, "creator"), await admin_actor(client)
    other_fan = await actor(client, "consumer")
    for who in (fan, other_fan):
        assert (await follow(client, who, star)).status_code == 200
    assert (await suspend(client, admin, star)).status_code == 200
    r = await follow(client, fan, star, on=False)
    assert r.status_code == 200, r.text
    assert r.json() == {"user_id": star.id, "following": False, "followers": 1}
    assert (await follow(client, fan, star)).status_code == 404  # but no new follow of it
    assert (await reinstate(client, admin, star)).status_code == 200
    following = (await client.get(f"/api/v1/users/{fan.id}/following")).json()["items"]
    assert following == [] and (await profile(client, star.id))["followers"] == 1


async def test_the_profile_counts_in_the_right_number(client: httpx.AsyncClient) -> None:
    import re

    creator, fan = await actor(client, "creator"), await actor(client, "consumer")
    post = await make_post(client, creator)

    async def counters(lang: str) -> str:
        html = (await client.get(f"/u/{creator.id}", headers={"accept": "text/html", "accept-language": lang})).text
        block = html.split('data-testid="profile-counters">')[1].split("</div>")[0]
        assert block.count("<strong>") == 4  # each figure stands out
        return " · ".join(re.sub(r"<[^>]+>", "", block).split("\n")).replace("  ", "").strip(" ·")

    assert (await counters("en")).split(" · ") == ["0 followers", "0 following", "1 post", "0 likes"]
    assert (await follow(client, fan, creator)).status_code == 200
    assert (await follow(client, creator, fan)).status_code == 200
    assert (await client.post(f"/api/v1/posts/{post['id']}/like", headers=fan.headers)).is_success
    assert (await counters("en")).split(" · ") == ["1 follower", "1 following", "1 post", "1 like"]
    await make_post(client, creator, title="second")
    assert (await counters("en")).split(" · ")[2] == "2 posts"
    assert (await counters("zh-CN")).split(" · ") == ["1 粉丝", "1 关注", "2 笔记", "1 获赞"]


async def test_followers_following_and_favourites_have_pages(client: httpx.AsyncClient) -> None:
    from tests.commerce.test_money import admin_headers
    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML

    creator, fan, gone = await actor(client, "creator"), await actor(client, "consumer"), await actor(client, "creator")
    for who in (creator, gone):
        assert (await client.post(f"/api/v1/users/{who.id}/follow", headers=fan.headers)).is_success
    post = await make_post(client, creator, title="Kept for later")
    assert (await client.post(f"/api/v1/posts/{post['id']}/favorite", headers=fan.headers)).is_success
    admin = await admin_headers(client)
    r = await client.post(f"/api/v1/admin/users/{gone.id}/suspend", headers=admin, json={"reason": "spam"})
    assert r.is_success

    browser = await browser_for(client, fan)
    profile = await browser.get(f"/u/{creator.id}", headers=HTML)
    assert f'href="/u/{creator.id}/followers"' in profile.text and 'data-testid="favorites-link"' not in profile.text
    listed = await browser.get(f"/u/{creator.id}/followers", headers=HTML)
    assert listed.status_code == 200 and f'href="/u/{fan.id}"' in listed.text and "1 follower" in listed.text
    listed = await browser.get(f"/u/{fan.id}/following", headers=HTML)
    assert f'href="/u/{creator.id}"' in listed.text and f'href="/u/{gone.id}"' not in listed.text  # suspended: left out
    assert (await browser.get(f"/u/{gone.id}/followers", headers=HTML)).status_code == 404
    empty = await browser.get(f"/u/{creator.id}/following", headers=HTML)
    assert 'data-testid="empty-state"' in empty.text

    mine = await browser.get(f"/u/{fan.id}", headers=HTML)
    assert 'data-testid="favorites-link"' in mine.text
    saved = await browser.get("/me/favorites", headers=HTML)
    assert saved.status_code == 200 and "Kept for later" in saved.text
    account = await browser.get("/account", headers=HTML)
    assert f'href="/u/{fan.id}"' in account.text and 'href="/me/favorites"' in account.text
    anonymous = await client.get("/me/favorites", headers=HTML)
    assert anonymous.status_code in (302, 303) and "/login" in anonymous.headers["location"]


async def test_a_page_of_favourites_is_full_of_what_can_be_shown(client: httpx.AsyncClient) -> None:
    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML

    creator, fan = await actor(client, "creator"), await actor(client, "consumer")
    kept = await make_post(client, creator, title="Still here")
    gone = await make_post(client, creator, title="Deleted since")
    for post in (kept, gone):
        assert (await client.post(f"/api/v1/posts/{post['id']}/favorite", headers=fan.headers)).is_success
    assert (await client.delete(f"/api/v1/posts/{gone['id']}", headers=creator.headers)).status_code == 204
    first = (await client.get("/api/v1/me/favorites?limit=1", headers=fan.headers)).json()
    assert [p["id"] for p in first["items"]] == [kept["id"]] and first["next_cursor"] is None
    browser = await browser_for(client, fan)
    page = await browser.get("/me/favorites?limit=1", headers=HTML)
    assert "Still here" in page.text and 'data-testid="empty-state"' not in page.text
