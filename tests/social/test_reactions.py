"""Likes and favourites: idempotent, exact counters, also under concurrency."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from typing import Any

import httpx
import pytest

from grassroots.identity import service as identity
from grassroots.identity.models import User
from grassroots.kernel.auth import Role
from grassroots.kernel.ids import new_id
from grassroots.kernel.platform import Platform
from tests.conftest import PASSWORD, Actor, actor
from tests.content.test_posts import make_post


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


async def react(
    client: httpx.AsyncClient, who: Actor, post_id: str, kind: str = "like", *, on: bool = True
) -> dict[str, Any]:
    method = client.post if on else client.delete
    r = await method(f"/api/v1/posts/{post_id}/{kind}", headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def counters(client: httpx.AsyncClient, post_id: str) -> dict[str, int]:
    r = await client.get(f"/api/v1/posts/{post_id}")
    assert r.status_code == 200, r.text
    return r.json()["counters"]


@pytest.mark.parametrize(("kind", "counter"), [("like", "likes"), ("favorite", "favorites")])
async def test_reactions_are_idempotent_with_exact_counts(client: httpx.AsyncClient, kind: str, counter: str) -> None:
    author, a, b = await actor(client, "creator"), await actor(client, "consumer"), await actor(client, "consumer")
    post = await make_post(client, author)
    pid = post["id"]
    for _ in range(3):
        assert await react(client, a, pid, kind) == {"post_id": pid, "active": True, "count": 1}
    assert await react(client, b, pid, kind) == {"post_id": pid, "active": True, "count": 2}
    assert await react(client, author, pid, kind) == {"post_id": pid, "active": True, "count": 3}
    assert (await counters(client, pid))[counter] == 3
    other = "favorites" if counter == "likes" else "likes"
    assert (await counters(client, pid))[other] == 0  # the two never mix

    for _ in range(2):
        assert await react(client, a, pid, kind, on=False) == {"post_id": pid, "active": False, "count": 2}
    assert await react(client, a, pid, kind) == {"post_id": pid, "active": True, "count": 3}
    for who in (a, b, author):
        await react(client, who, pid, kind, on=False)
    assert (await counters(client, pid))[counter] == 0
    assert await react(client, b, pid, kind, on=False) == {"post_id": pid, "active": False, "count": 0}


async def test_reactions_need_an_account_and_a_live_post(client: httpx.AsyncClient) -> None:
    author, fan = await actor(client, "creator"), await actor(client, "consumer")
    post = await make_post(client, author)
    for kind in ("like", "favorite"):
        assert (await client.post(f"/api/v1/posts/{post['id']}/{kind}")).status_code == 401
        assert (await client.delete(f"/api/v1/posts/{post['id']}/{kind}")).status_code == 401
        r = await client.post(f"/api/v1/posts/{uuid.uuid4()}/{kind}", headers=fan.headers)
        assert r.status_code == 404 and code(r) == "post_not_found"
    await react(client, fan, post["id"])
    assert (await client.delete(f"/api/v1/posts/{post['id']}", headers=author.headers)).status_code == 204
    for method in (client.post, client.delete):
        r = await method(f"/api/v1/posts/{post['id']}/like", headers=fan.headers)
        assert r.status_code == 404 and code(r) == "post_not_found"


async def test_my_favourites_list_newest_first_without_deleted_posts(client: httpx.AsyncClient) -> None:
    author, fan = await actor(client, "creator"), await actor(client, "consumer")
    posts = [await make_post(client, author, title=f"p{i}") for i in range(4)]
    for p in posts:
        await react(client, fan, p["id"], "favorite")
    await react(client, fan, posts[1]["id"], "like")  # a like is not a favourite
    await react(client, fan, posts[2]["id"], "favorite", on=False)
    await client.delete(f"/api/v1/posts/{posts[0]['id']}", headers=author.headers)
    r = await client.get("/api/v1/me/favorites", headers=fan.headers)
    assert r.status_code == 200, r.text
    assert [p["id"] for p in r.json()["items"]] == [posts[3]["id"], posts[1]["id"]]
    assert r.json()["items"][1]["counters"]["favorites"] == 1
    assert (await client.get("/api/v1/me/favorites", headers=author.headers)).json()["items"] == []
    assert (await client.get("/api/v1/me/favorites")).status_code == 401


async def test_concurrent_reactions_by_one_user_count_once(client: httpx.AsyncClient) -> None:
    author, fan = await actor(client, "creator"), await actor(client, "consumer")
    post = await make_post(client, author)
    url = f"/api/v1/posts/{post['id']}/like"
    results = await asyncio.gather(*(client.post(url, headers=fan.headers) for _ in range(10)))
    assert [r.status_code for r in results] == [200] * 10
    assert (await counters(client, post["id"]))["likes"] == 1
    results = await asyncio.gather(*(client.delete(url, headers=fan.headers) for _ in range(10)))
    assert [r.status_code for r in results] == [200] * 10
    assert (await counters(client, post["id"]))["likes"] == 0


async def crowd(platform: Platform, n: int) -> list[Actor]:
    """``n`` shoppers with access tokens, made in one transaction (signing each up over
    HTTP would take most of the test's time)."""
    tag = secrets.token_hex(4)
    password_hash = await identity.hash_password(platform.settings.env, PASSWORD)
    users = [
        User(
            id=new_id(),
            email=f"crowd{tag}_{i}@example.com",
            handle=f"crowd{tag}_{i}",
            handle_key=f"crowd{tag}_{i}",
            role=Role.consumer,
            password_hash=password_hash,
            auth_version=1,
            created_at=platform.clock.now(),
        )
        for i in range(n)
    ]
    async with platform.unit_of_work() as uow:
        uow.session.add_all(users)
    ttl = platform.settings.access_token_ttl_seconds
    return [
        Actor(
            str(u.id),
            u.email,
            u.handle,
            "consumer",
            {"Authorization": f"Bearer {identity.issue_token(platform.secret_key, u, identity.ACCESS, ttl)}"},
        )
        for u in users
    ]


async def test_two_hundred_people_liking_at_once_make_exactly_two_hundred_likes(
    client: httpx.AsyncClient, platform: Platform
) -> None:
    """Runs on both stacks; on PostgreSQL the transactions really overlap."""
    author = await actor(client, "creator")
    post = await make_post(client, author)
    people = await crowd(platform, 200)
    url = f"/api/v1/posts/{post['id']}/like"
    results = await asyncio.gather(*(client.post(url, headers=p.headers) for p in people))
    assert [r.status_code for r in results] == [200] * 200
    assert sorted(r.json()["count"] for r in results)[-1] == 200
    assert (await counters(client, post["id"]))["likes"] == 200
    # and half of them changing their minds at once (with a repeat each) leaves exactly 100
    leaving = people[:100]
    results = await asyncio.gather(
        *(client.delete(url, headers=p.headers) for p in leaving + leaving),
        *(client.post(url, headers=p.headers) for p in people[100:]),
    )
    assert {r.status_code for r in results} == {200}
    assert (await counters(client, post["id"]))["likes"] == 100
    assert (await client.get(f"/api/v1/users/{author.id}")).json()["likes_received"] == 100


@pytest.mark.parametrize("action", ["like", "favorite", "comments"])
async def test_a_page_action_with_a_malformed_referer_goes_to_the_post(client: httpx.AsyncClient, action: str) -> None:
    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML, csrf_of

    creator = await actor(client, "creator")
    post = await make_post(client, creator)
    browser = await browser_for(client, creator)
    token = csrf_of((await browser.get(f"/posts/{post['id']}", headers=HTML)).text)
    r = await browser.post(
        f"/posts/{post['id']}/{action}",
        data={"csrf_token": token, "body": "hi"},
        headers={**HTML, "referer": "http://["},
    )
    assert r.status_code == 303 and r.headers["location"].startswith(f"/posts/{post['id']}")
