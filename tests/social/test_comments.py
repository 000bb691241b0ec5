"""Comments over HTTP: one level of replies, paging, one pinned comment, deletion and
the per-user rate limit."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from grassroots.kernel.platform import Platform
from grassroots.social.models import Comment
from tests.conftest import Actor, Stack, actor, make_admin
from tests.content.test_posts import make_post


def code(r: httpx.Response) -> str:
    return str(r.json()["error"]["code"])


async def say(
    client: httpx.AsyncClient, who: Actor, post_id: str, body: str = "好看！", reply_to: str | None = None
) -> dict[str, Any]:
    payload: dict[str, Any] = {"body": body} | ({"reply_to": reply_to} if reply_to else {})
    r = await client.post(f"/api/v1/posts/{post_id}/comments", headers=who.headers, json=payload)
    assert r.status_code == 201, r.text
    return r.json()


async def listing(client: httpx.AsyncClient, post_id: str, **params: Any) -> dict[str, Any]:
    r = await client.get(f"/api/v1/posts/{post_id}/comments", params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def comment_count(client: httpx.AsyncClient, post_id: str) -> int:
    return int((await client.get(f"/api/v1/posts/{post_id}")).json()["counters"]["comments"])


async def world(client: httpx.AsyncClient) -> tuple[Actor, Actor, Actor, dict[str, Any]]:
    author, a, b = await actor(client, "creator"), await actor(client, "consumer"), await actor(client, "consumer")
    return author, a, b, await make_post(client, author)


async def test_comments_and_one_level_of_replies(client: httpx.AsyncClient) -> None:
    author, a, b, post = await world(client)
    pid = post["id"]
    top = await say(client, a, pid, "  <b>Where</b> is this cup from?  ")
    assert top["body"] == "<b>Where</b> is this cup from?"  # trimmed, otherwise verbatim
    assert (top["post_id"], top["author_id"], top["author_handle"]) == (pid, a.id, a.handle)
    assert (top["parent_id"], top["reply_to_handle"], top["pinned"], top["deleted"]) == (None, None, False, False)

    reply = await say(client, author, pid, "Longquan!", reply_to=top["id"])
    assert (reply["parent_id"], reply["reply_to_handle"]) == (top["id"], a.handle)
    # a reply to a reply joins the same thread, addressed to the reply's author
    nested = await say(client, b, pid, "Thanks", reply_to=reply["id"])
    assert (nested["parent_id"], nested["reply_to_handle"]) == (top["id"], author.handle)
    second = await say(client, b, pid, "Second!")

    page = await listing(client, pid)
    assert page["pinned"] is None and page["next_cursor"] is None
    assert [c["id"] for c in page["items"]] == [second["id"], top["id"]]  # newest first
    thread = page["items"][1]
    assert thread["reply_count"] == 2
    assert [(r["id"], r["reply_to_handle"]) for r in thread["replies"]] == [
        (reply["id"], a.handle),
        (nested["id"], author.handle),
    ]  # oldest first
    assert page["items"][0]["replies"] == [] and page["items"][0]["reply_count"] == 0
    assert await comment_count(client, pid) == 4


async def test_bad_comments_are_refused(client: httpx.AsyncClient) -> None:
    author, a, _, post = await world(client)
    other_post = await make_post(client, author, title="another")
    elsewhere = await say(client, a, other_post["id"])
    pid = post["id"]
    bad: list[tuple[dict[str, Any], int, str | None]] = [
        ({"body": ""}, 422, None),
        ({"body": "   "}, 422, "validation_error"),
        ({"body": "x" * 1001}, 422, None),
        ({"body": "a\u0000"}, 422, None),
        ({"body": "hi", "reply_to": elsewhere["id"]}, 422, "invalid_reply_to"),
        ({"body": "hi", "reply_to": str(uuid.uuid4())}, 422, "invalid_reply_to"),
        ({"body": "hi", "post_id": pid}, 422, None),
    ]
    for body, status, expected in bad:
        r = await client.post(f"/api/v1/posts/{pid}/comments", headers=a.headers, json=body)
        assert r.status_code == status, (body, r.text)
        if expected:
            assert code(r) == expected
    assert (await client.post(f"/api/v1/posts/{pid}/comments", json={"body": "anon"})).status_code == 401
    r = await client.post(f"/api/v1/posts/{uuid.uuid4()}/comments", headers=a.headers, json={"body": "hi"})
    assert r.status_code == 404 and code(r) == "post_not_found"
    r = await client.get(f"/api/v1/posts/{uuid.uuid4()}/comments")
    assert r.status_code == 404 and code(r) == "post_not_found"
    assert (await listing(client, pid))["items"] == [] and await comment_count(client, pid) == 0

    gone = await say(client, a, pid, "soon gone")
    assert (await client.delete(f"/api/v1/comments/{gone['id']}", headers=a.headers)).status_code == 204
    r = await client.post(
        f"/api/v1/posts/{pid}/comments", headers=a.headers, json={"body": "hi", "reply_to": gone["id"]}
    )
    assert r.status_code == 422 and code(r) == "invalid_reply_to"

    await client.delete(f"/api/v1/posts/{pid}", headers=author.headers)
    r = await client.post(f"/api/v1/posts/{pid}/comments", headers=a.headers, json={"body": "hi"})
    assert r.status_code == 404 and code(r) == "post_not_found"
    assert (await client.get(f"/api/v1/posts/{pid}/comments")).status_code == 404


async def test_comments_page_with_a_cursor(client: httpx.AsyncClient) -> None:
    author, a, b, post = await world(client)
    pid = post["id"]
    made = [(await say(client, who, pid, f"c{i}"))["id"] for i, who in enumerate([a, b] * 4)]
    pinned = made[2]
    assert (await client.post(f"/api/v1/comments/{pinned}/pin", headers=author.headers)).status_code == 200
    seen: list[str] = []
    cursor = None
    first = True
    while True:
        page = await listing(client, pid, limit=3, **({"cursor": cursor} if cursor else {}))
        assert len(page["items"]) <= 3
        # the pinned comment comes once, on the first page, outside the paged items
        assert (page["pinned"] or {}).get("id") == (pinned if first else None)
        seen += [c["id"] for c in page["items"]]
        first = False
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [c for c in reversed(made) if c != pinned]
    r = await client.get(f"/api/v1/posts/{pid}/comments", params={"cursor": "nope"})
    assert r.status_code == 400 and code(r) == "invalid_cursor"


async def test_the_post_author_pins_one_comment(client: httpx.AsyncClient, platform: Platform) -> None:
    author, a, b, post = await world(client)
    pid = post["id"]
    first, second = await say(client, a, pid, "first"), await say(client, b, pid, "second")
    reply = await say(client, b, pid, "a reply", reply_to=first["id"])

    for who in (a, b):
        r = await client.post(f"/api/v1/comments/{first['id']}/pin", headers=who.headers)
        assert r.status_code == 403 and code(r) == "not_author"
    assert (await client.post(f"/api/v1/comments/{first['id']}/pin")).status_code == 401
    r = await client.post(f"/api/v1/comments/{reply['id']}/pin", headers=author.headers)
    assert r.status_code == 422 and code(r) == "cannot_pin_reply"
    r = await client.post(f"/api/v1/comments/{uuid.uuid4()}/pin", headers=author.headers)
    assert r.status_code == 404 and code(r) == "comment_not_found"

    r = await client.post(f"/api/v1/comments/{first['id']}/pin", headers=author.headers)
    assert r.status_code == 200 and r.json()["pinned"] is True and r.json()["id"] == first["id"]
    page = await listing(client, pid)
    assert page["pinned"]["id"] == first["id"] and page["pinned"]["reply_count"] == 1
    assert [c["id"] for c in page["items"]] == [second["id"]]

    # pinning another replaces it; pinning the same one again changes nothing
    for _ in range(2):
        r = await client.post(f"/api/v1/comments/{second['id']}/pin", headers=author.headers)
        assert r.status_code == 200 and r.json()["pinned"] is True
    page = await listing(client, pid)
    assert page["pinned"]["id"] == second["id"]
    assert [(c["id"], c["pinned"]) for c in page["items"]] == [(first["id"], False)]

    r = await client.delete(f"/api/v1/comments/{second['id']}/pin", headers=a.headers)
    assert r.status_code == 403 and code(r) == "not_author"
    assert (await client.delete(f"/api/v1/comments/{first['id']}/pin", headers=author.headers)).status_code == 204
    assert (await listing(client, pid))["pinned"]["id"] == second["id"]  # unpinning another is a no-op
    assert (await client.delete(f"/api/v1/comments/{second['id']}/pin", headers=author.headers)).status_code == 204
    page = await listing(client, pid)
    assert page["pinned"] is None and [c["id"] for c in page["items"]] == [second["id"], first["id"]]

    # the author pinning two at once still leaves exactly one pinned
    others = [await say(client, a, pid, f"pin me {i}") for i in range(4)]
    results = await asyncio.gather(
        *(client.post(f"/api/v1/comments/{c['id']}/pin", headers=author.headers) for c in others)
    )
    assert [r.status_code for r in results] == [200] * 4, [r.text for r in results]
    async with platform.unit_of_work(write=False) as uow:
        n = await uow.session.scalar(
            select(func.count()).select_from(Comment).where(Comment.post_id == uuid.UUID(pid), Comment.pinned.is_(True))
        )
    assert n == 1
    assert (await listing(client, pid))["pinned"]["id"] in {c["id"] for c in others}


async def test_deleting_comments(client: httpx.AsyncClient) -> None:
    author, a, b, post = await world(client)
    pid = post["id"]
    top = await say(client, a, pid, "top")
    reply = await say(client, b, pid, "reply", reply_to=top["id"])
    lone = await say(client, b, pid, "lone")
    assert await comment_count(client, pid) == 3

    assert (await client.delete(f"/api/v1/comments/{top['id']}")).status_code == 401
    r = await client.delete(f"/api/v1/comments/{top['id']}", headers=b.headers)
    assert r.status_code == 403 and code(r) == "not_author"
    assert (await client.post(f"/api/v1/comments/{top['id']}/pin", headers=author.headers)).status_code == 200

    assert (await client.delete(f"/api/v1/comments/{top['id']}", headers=a.headers)).status_code == 204
    r = await client.delete(f"/api/v1/comments/{top['id']}", headers=a.headers)
    assert r.status_code == 404 and code(r) == "comment_not_found"
    assert await comment_count(client, pid) == 2
    # a deleted comment with live replies stays as an empty, unpinned shell for its thread
    page = await listing(client, pid)
    assert page["pinned"] is None
    shell = next(c for c in page["items"] if c["id"] == top["id"])
    assert (shell["deleted"], shell["body"], shell["pinned"]) == (True, "", False)
    assert [r["id"] for r in shell["replies"]] == [reply["id"]]

    # the post's author moderates comments on their own post
    assert (await client.delete(f"/api/v1/comments/{reply['id']}", headers=author.headers)).status_code == 204
    page = await listing(client, pid)
    assert [c["id"] for c in page["items"]] == [lone["id"]]  # the empty thread is gone
    assert await comment_count(client, pid) == 1

    admin = await make_admin(client)
    token = (
        await client.post("/api/v1/auth/token", json={"email": admin["email"], "password": admin["password"]})
    ).json()
    r = await client.delete(
        f"/api/v1/comments/{lone['id']}", headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert r.status_code == 204
    assert await comment_count(client, pid) == 0 and (await listing(client, pid))["items"] == []
    r = await client.delete(f"/api/v1/comments/{uuid.uuid4()}", headers=a.headers)
    assert r.status_code == 404 and code(r) == "comment_not_found"


async def test_a_burst_of_comments_is_rate_limited(
    client: httpx.AsyncClient, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stack.settings, "comment_limit", 5)
    monkeypatch.setattr(stack.settings, "comment_window_seconds", 60)
    _, a, b, post = await world(client)
    pid = post["id"]
    results = [
        await client.post(f"/api/v1/posts/{pid}/comments", headers=a.headers, json={"body": f"spam {i}"})
        for i in range(8)
    ]
    assert [r.status_code for r in results] == [201] * 5 + [429] * 3
    limited = results[-1]
    assert code(limited) == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 61
    assert await comment_count(client, pid) == 5
    assert len((await listing(client, pid))["items"]) == 5
    # the limit is per user: someone else may still comment
    await say(client, b, pid, "not spam")
    # a concurrent burst gets no more through than a sequential one
    results = await asyncio.gather(
        *(client.post(f"/api/v1/posts/{pid}/comments", headers=b.headers, json={"body": "x"}) for _ in range(10))
    )
    assert sorted(r.status_code for r in results) == [201] * 4 + [429] * 6
    assert await comment_count(client, pid) == 10


async def test_the_post_pages_next_comments_keep_the_visits_scene(client: httpx.AsyncClient) -> None:
    import html as html_lib
    import re

    _, a, b, post = await world(client)
    for i, who in enumerate([a, b, a]):
        await say(client, who, post["id"], f"c{i}")
    page = await client.get(f"/posts/{post['id']}?scene=feed&limit=2", headers={"accept": "text/html"})
    nxt = re.search(r'<div class="pager"><a [^>]*href="([^"]+)"', page.text)
    assert nxt is not None
    link = html_lib.unescape(nxt.group(1))
    assert link.startswith(f"/posts/{post['id']}?") and "scene=feed" in link and "limit=2" in link
    second = await client.get(link, headers={"accept": "text/html"})
    assert second.status_code == 200, second.text
    assert ">c0<" in second.text, second.text
    assert "scene%3Dfeed" in second.text  # this page's address (the language switch's) kept it


async def test_a_refused_comment_stays_in_its_box(
    client: httpx.AsyncClient, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML, csrf_of

    monkeypatch.setattr(stack.settings, "comment_limit", 1)
    _, a, _, post = await world(client)
    browser = await browser_for(client, a)
    page = await browser.get(f"/posts/{post['id']}?scene=feed", headers=HTML)
    form = {"csrf_token": csrf_of(page.text), "body": "first"}
    referer = {**HTML, "referer": f"http://testserver/posts/{post['id']}?scene=feed"}
    ok = await browser.post(f"/posts/{post['id']}/comments", data=form, headers=referer)
    assert ok.headers["location"] == f"/posts/{post['id']}?scene=feed#comments"
    long = "一段很长的评论 " * 20
    refused = await browser.post(f"/posts/{post['id']}/comments", data={**form, "body": long}, headers=referer)
    back = await browser.get(refused.headers["location"], headers=HTML)
    assert (
        "commenting too fast" in back.text and long.strip() in back.text and "scene=feed" in refused.headers["location"]
    )
    assert "draft=" not in refused.headers["location"]  # kept for its author, not in the address

    others = await browser_for(client, (await world(client))[1])
    assert long.strip() not in (await others.get(f"/posts/{post['id']}", headers=HTML)).text
    planted = await browser.get(f"/posts/{post['id']}?draft=send+money+to+x", headers=HTML)
    assert "send money to x" not in planted.text and long.strip() in planted.text
    # a reply meanwhile, refused or not, leaves the comment box's draft where it was
    first = (await client.get(f"/api/v1/posts/{post['id']}/comments", headers=a.headers)).json()["items"][0]
    reply = {**form, "body": "a reply", "reply_to": first["id"]}
    await browser.post(f"/posts/{post['id']}/comments", data=reply, headers=referer)
    assert long.strip() in (await browser.get(f"/posts/{post['id']}", headers=HTML)).text

    monkeypatch.setattr(stack.settings, "comment_limit", 100)
    sent = await browser.post(f"/posts/{post['id']}/comments", data={**form, "body": long}, headers=referer)
    assert sent.headers["location"].endswith("#comments")
    after = await browser.get(f"/posts/{post['id']}", headers=HTML)
    assert after.text.count(long.strip()) == 1  # shown once, as the comment; the box is empty again


async def test_every_reply_can_be_read_past_the_first_twenty(client: httpx.AsyncClient) -> None:
    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML, csrf_of

    author, a, b, post = await world(client)
    top = await say(client, a, post["id"], "Which glaze is this?")
    fans = [author, b, *[await actor(client, "consumer") for _ in range(3)]]
    sent = [(await say(client, fans[i % 5], post["id"], f"reply {i}", reply_to=top["id"]))["id"] for i in range(25)]
    listed = (await client.get(f"/api/v1/posts/{post['id']}/comments")).json()["items"][0]
    assert (listed["reply_count"], len(listed["replies"])) == (25, 20)

    got, cursor = [], None
    while True:
        params = {"limit": 10} | ({"cursor": cursor} if cursor else {})
        r = await client.get(f"/api/v1/comments/{top['id']}/replies", params=params)
        assert r.status_code == 200, r.text
        got += [c["id"] for c in r.json()["items"]]
        if not (cursor := r.json()["next_cursor"]):
            break
    assert got == sent  # all of them, oldest first, once each
    for bad in (sent[0], str(uuid.uuid4())):  # a reply has no thread of its own; nor has nothing
        r = await client.get(f"/api/v1/comments/{bad}/replies")
        assert (r.status_code, r.json()["error"]["code"]) == (404, "comment_not_found")

    browser = await browser_for(client, b)
    page = (await browser.get(f"/posts/{post['id']}", headers=HTML)).text
    assert f'href="/comments/{top["id"]}"' in page and "All 25 replies" in page
    thread = await browser.get(f"/comments/{top['id']}", headers=HTML)
    assert thread.status_code == 200 and "reply 19" in thread.text and "reply 20" not in thread.text
    nxt = thread.text.split(f"/comments/{top['id']}?cursor=")[1].split('"')[0]
    assert "reply 24" in (await browser.get(f"/comments/{top['id']}?cursor={nxt}", headers=HTML)).text
    r = await browser.post(
        f"/posts/{post['id']}/comments",
        data={"csrf_token": csrf_of(thread.text), "body": "from the thread", "reply_to": top["id"]},
        headers={**HTML, "referer": f"http://testserver/comments/{top['id']}"},
    )
    assert r.headers["location"].startswith(f"/comments/{top['id']}?from=")  # back where it was written,
    landed = (await browser.get(r.headers["location"].split("#")[0], headers=HTML)).text
    assert "from the thread" in landed and "reply 0" not in landed  # on the page that shows it (the 26th)

    assert (await client.delete(f"/api/v1/comments/{top['id']}", headers=a.headers)).status_code == 204
    page = (await browser.get(f"/posts/{post['id']}", headers=HTML)).text
    assert "This comment was deleted." in page and "Which glaze is this?" not in page
    thread = (await browser.get(f"/comments/{top['id']}", headers=HTML)).text
    assert "This comment was deleted." in thread and "Which glaze is this?" not in thread


async def test_replies_are_deleted_and_comments_moderated_from_the_pages(client: httpx.AsyncClient) -> None:
    """Whoever the service lets delete a comment (its author, the post's author, an
    operator) finds the button on the post and on the thread page, replies included."""
    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML, csrf_of, web_login

    author, fan, stranger = (
        await actor(client, "creator"),
        await actor(client, "consumer"),
        await actor(client, "consumer"),
    )
    post = await make_post(client, author)
    comments = f"/api/v1/posts/{post['id']}/comments"
    top = (await client.post(comments, headers=stranger.headers, json={"body": "spam"})).json()
    reply = (await client.post(comments, headers=fan.headers, json={"body": "my reply", "reply_to": top["id"]})).json()
    admin = await make_admin(client)

    async def buttons(email: str | None, url: str) -> set[str]:
        async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as b:
            if email:
                assert (await web_login(b, email)).status_code == 303
            page = (await b.get(url, headers=HTML)).text
        return {c["id"] for c in (top, reply) if f"/comments/{c['id']}/delete" in page}

    for url in (f"/posts/{post['id']}", f"/comments/{top['id']}"):
        assert await buttons(fan.email, url) == {reply["id"]}
        assert await buttons(stranger.email, url) == {top["id"]}
        assert await buttons(author.email, url) == {top["id"], reply["id"]}
        assert await buttons(admin["email"], url) == {top["id"], reply["id"]}
        assert await buttons(None, url) == set()

    b = await browser_for(client, fan)
    page = await b.get(f"/comments/{top['id']}", headers=HTML)
    r = await b.post(f"/comments/{reply['id']}/delete", data={"csrf_token": csrf_of(page.text)}, headers=HTML)
    assert r.status_code == 303
    assert "my reply" not in (await b.get(f"/comments/{top['id']}", headers=HTML)).text
    await b.aclose()


async def test_a_suspended_accounts_comments_and_replies_leave_with_it_and_come_back(
    client: httpx.AsyncClient,
) -> None:
    from tests.identity.test_suspension import admin_actor, reinstate, suspend
    from tests.web.test_pages import HTML

    author, fan, other, post = await world(client)
    spammer, admin = await actor(client, "consumer"), await admin_actor(client)
    pid = post["id"]
    spam_top = await say(client, spammer, pid, "spam top")
    under_spam = await say(client, fan, pid, "fan under spam", reply_to=spam_top["id"])
    fan_top = await say(client, fan, pid, "fan top")
    spam_reply = await say(client, spammer, pid, "spam reply", reply_to=fan_top["id"])
    kept_reply = await say(client, other, pid, "other reply", reply_to=spam_reply["id"])  # addressed to it
    newest_spam = await say(client, spammer, pid, "spam newest")
    assert (await client.post(f"/api/v1/comments/{spam_top['id']}/pin", headers=author.headers)).status_code == 200

    assert (await suspend(client, admin, spammer)).status_code == 200
    page = await listing(client, pid, limit=1)  # left out in SQL: the one page is full
    assert page["pinned"] is None and page["next_cursor"] is None
    assert [c["id"] for c in page["items"]] == [fan_top["id"]]
    assert [r["id"] for r in page["items"][0]["replies"]] == [kept_reply["id"]]
    assert page["items"][0]["reply_count"] == 1
    replies = (await client.get(f"/api/v1/comments/{fan_top['id']}/replies")).json()["items"]
    assert [(r["id"], r["reply_to_handle"]) for r in replies] == [(kept_reply["id"], None)]
    for r in (
        await client.get(f"/api/v1/comments/{spam_top['id']}/replies"),
        await client.post(f"/api/v1/comments/{spam_top['id']}/pin", headers=author.headers),
        await client.delete(f"/api/v1/comments/{spam_reply['id']}", headers=author.headers),
    ):
        assert (r.status_code, code(r)) == (404, "comment_not_found")
    assert (await client.get(f"/comments/{spam_top['id']}", headers=HTML)).status_code == 404
    for target in (spam_top, spam_reply, under_spam):  # nothing hidden can be answered
        r = await client.post(
            f"/api/v1/posts/{pid}/comments", headers=fan.headers, json={"body": "hi", "reply_to": target["id"]}
        )
        assert (r.status_code, code(r)) == (422, "invalid_reply_to")
    for url in (f"/posts/{pid}", f"/comments/{fan_top['id']}"):
        html = (await client.get(url, headers=HTML)).text
        assert "spam" not in html and f"@{spammer.handle}" not in html and "other reply" in html
    # The post's counter keeps counting them (as its likes count a suspended account's likes).
    assert await comment_count(client, pid) == 6

    assert (await reinstate(client, admin, spammer)).status_code == 200
    page = await listing(client, pid)
    assert page["pinned"]["id"] == spam_top["id"] and page["pinned"]["reply_count"] == 1
    assert [c["id"] for c in page["items"]] == [newest_spam["id"], fan_top["id"]]
    assert [r["id"] for r in page["items"][1]["replies"]] == [spam_reply["id"], kept_reply["id"]]
    assert (await client.get(f"/comments/{spam_top['id']}", headers=HTML)).status_code == 200


async def test_pinning_answers_with_the_comments_replies(client: httpx.AsyncClient) -> None:
    author, a, b, post = await world(client)
    top = await say(client, a, post["id"], "which kiln?")
    replies = [(await say(client, b, post["id"], f"reply {i}", reply_to=top["id"]))["id"] for i in range(3)]
    r = await client.post(f"/api/v1/comments/{top['id']}/pin", headers=author.headers)
    assert r.status_code == 200, r.text
    pinned = r.json()
    assert (pinned["pinned"], pinned["reply_count"], [x["id"] for x in pinned["replies"]]) == (True, 3, replies)
    assert pinned == (await listing(client, post["id"]))["pinned"]  # what the post lists, word for word


async def test_a_deleted_comment_kept_for_its_replies_names_nobody(client: httpx.AsyncClient) -> None:
    from tests.web.test_pages import HTML

    _, a, b, post = await world(client)
    top = await say(client, a, post["id"], "soon deleted")
    reply = await say(client, b, post["id"], "an answer", reply_to=top["id"])
    assert (await client.delete(f"/api/v1/comments/{top['id']}", headers=a.headers)).status_code == 204
    shell = (await listing(client, post["id"]))["items"][0]
    assert (shell["id"], shell["deleted"], shell["author_id"], shell["author_handle"]) == (top["id"], True, None, None)
    assert shell["replies"][0]["author_handle"] == b.handle  # its replies keep theirs
    for url in (f"/posts/{post['id']}", f"/comments/{top['id']}"):
        html = (await client.get(url, headers=HTML)).text
        assert "This comment was deleted." in html and "an answer" in html, url
        assert f"/u/{a.id}" not in html and f"@{a.handle}<" not in html, url
    assert reply["author_id"] == b.id


async def test_a_comment_of_invisible_characters_is_refused_as_blank(client: httpx.AsyncClient) -> None:
    _, a, _, post = await world(client)
    for body in ("\u200b", " \u2060 \ufeff\u200b \u3000", "\u3164\u200d\ufe0f", "\u200b\n\u200c"):
        r = await client.post(f"/api/v1/posts/{post['id']}/comments", headers=a.headers, json={"body": body})
        assert (r.status_code, code(r), r.json()["error"]["fields"]) == (422, "validation_error", {"body": "empty"})
    assert await comment_count(client, post["id"]) == 0
    assert (await say(client, a, post["id"], "\u200bstill words"))["body"] == "\u200bstill words"


async def test_the_comment_form_refuses_an_invisible_comment_and_a_broken_reply_to(client: httpx.AsyncClient) -> None:
    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML, csrf_of

    _, a, b, post = await world(client)
    top = await say(client, b, post["id"], "top")
    browser = await browser_for(client, a)
    page = await browser.get(f"/posts/{post['id']}", headers=HTML)
    referer = {**HTML, "referer": f"http://testserver/posts/{post['id']}"}
    refused = [
        ({"body": "\u200b \u2060\ufeff"}, "Write something before you send it."),
        ({"body": "an answer", "reply_to": "zzz"}, "You cannot reply to that comment"),
        ({"body": "an answer", "reply_to": top["id"][:-1]}, "You cannot reply to that comment"),
    ]
    for form, message in refused:
        r = await browser.post(
            f"/posts/{post['id']}/comments", data={"csrf_token": csrf_of(page.text), **form}, headers=referer
        )
        assert r.status_code == 303 and r.headers["location"] == f"/posts/{post['id']}#comments", form
        assert message in (await browser.get(r.headers["location"], headers=HTML)).text, form
    assert await comment_count(client, post["id"]) == 1  # nothing posted
    assert [c["id"] for c in (await listing(client, post["id"]))["items"]] == [top["id"]]
    family = "\U0001f469\u200d\U0001f469\u200d\U0001f467"  # joined by zero-width joiners, and seen
    r = await browser.post(
        f"/posts/{post['id']}/comments", data={"csrf_token": csrf_of(page.text), "body": family}, headers=referer
    )
    assert r.status_code == 303 and (await listing(client, post["id"]))["items"][0]["body"] == family
    await browser.aclose()


async def test_a_comment_sent_twice_with_one_key_is_posted_once(client: httpx.AsyncClient) -> None:
    import asyncio

    from tests.commerce.test_regressions import browser_for
    from tests.web.test_pages import HTML, csrf_of

    _, a, _, post = await world(client)
    url = f"/api/v1/posts/{post['id']}/comments"
    key = {**a.headers, "Idempotency-Key": "c-1"}
    answers = await asyncio.gather(*(client.post(url, headers=key, json={"body": "once"}) for _ in range(3)))
    assert sorted(r.status_code for r in answers) == [200, 200, 201]
    assert len({r.json()["id"] for r in answers}) == 1
    r = await client.post(url, headers=key, json={"body": "something else"})
    assert (r.status_code, r.json()["error"]["code"]) == (409, "idempotency_key_reused")
    # the page's form carries a key of its own: a double submit is one comment
    browser = await browser_for(client, a)
    page = await browser.get(f"/posts/{post['id']}", headers=HTML)
    send_key = re.search(r'name="send_key" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    form = {"csrf_token": csrf_of(page.text), "body": "from the page", "send_key": send_key}
    for _ in range(2):
        assert (await browser.post(f"/posts/{post['id']}/comments", data=form, headers=HTML)).status_code == 303
    edited = await browser.post(f"/posts/{post['id']}/comments", data={**form, "body": "edited"}, headers=HTML)
    assert "Comment posted." in (await browser.get(edited.headers["location"], headers=HTML)).text  # another one
    bodies = [c["body"] for c in (await client.get(url, headers=a.headers)).json()["items"]]
    assert sorted(bodies) == ["edited", "from the page", "once"]
    got = (await client.get(f"/api/v1/posts/{post['id']}")).json()
    assert got["counters"]["comments"] == 3
