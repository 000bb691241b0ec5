"""The creator's affiliate pool page, over HTTP."""

from __future__ import annotations

import html
import re

import httpx

from tests.commerce.test_regressions import browser_for
from tests.conftest import actor, make_product
from tests.web.test_pages import HTML, csrf_of


async def test_adding_from_the_second_page_of_the_pool_returns_to_it(client: httpx.AsyncClient) -> None:
    supplier, creator = await actor(client, "supplier"), await actor(client, "creator")
    for i in range(21):
        await make_product(client, supplier, title=f"Cup {i}", commission_bps=1000 + i * 10)
    c = await browser_for(client, creator)
    first = await c.get("/affiliate/pool", headers=HTML)
    href = re.search(r'<div class="pager"><a [^>]*href="([^"]+)"', first.text)
    assert href
    second_url = html.unescape(href.group(1))
    second = await c.get(second_url, headers=HTML)
    product_id = re.search(r'name="product_id" value="([^"]+)"', second.text)
    back = re.search(r'name="next" value="([^"]+)"', second.text)
    assert product_id and back and html.unescape(back.group(1)) == second_url
    r = await c.post(
        "/showcase/add",
        data={"csrf_token": csrf_of(second.text), "product_id": product_id.group(1), "next": second_url},
        headers=HTML,
    )
    assert r.status_code == 303 and r.headers["location"] == second_url
    await c.aclose()
