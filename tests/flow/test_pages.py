"""The feed and search pages over HTTP."""

from __future__ import annotations

import httpx

from tests.conftest import actor
from tests.flow.test_feed import post
from tests.web.test_pages import HTML


async def test_a_following_cursor_after_signing_out_gives_discover_from_the_top(client: httpx.AsyncClient) -> None:
    followed, fan = await actor(client, "creator"), await actor(client, "consumer")
    for title in ("first", "second"):
        await post(client, followed, title)
    assert (await client.post(f"/api/v1/users/{followed.id}/follow", headers=fan.headers)).status_code in (200, 201)
    r = await client.get("/api/v1/feed", params={"tab": "following", "limit": 1}, headers=fan.headers)
    cursor = r.json()["next_cursor"]
    assert cursor
    for path in ("/feed", "/feed/more"):  # the session ended mid-scroll
        page = await client.get(path, params={"tab": "following", "cursor": cursor, "limit": 1}, headers=HTML)
        assert page.status_code == 200, (path, page.text[:300])
        assert "tab=discover&amp;cursor=" in page.text  # what comes next is discover's, too


async def test_a_search_for_punctuation_alone_says_so_in_the_readers_language(client: httpx.AsyncClient) -> None:
    page = await client.get("/search", params={"q": "@ @@"}, headers={**HTML, "accept-language": "zh-CN"})
    assert page.status_code == 200
    assert "或在“@”后输入用户名" in page.text and "Type" not in page.text
