"""The MCN contracts page: what each side sees of a contract's life."""

from __future__ import annotations

import re

import httpx

from tests.commerce.test_regressions import browser_for
from tests.conftest import actor
from tests.web.test_pages import HTML


def dates(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", d).strip() for d in re.findall(r'data-testid="contract-dates">(.*?)</div>', html, re.S)]


async def test_each_contract_says_when_it_was_offered_in_force_and_ended_and_by_whom(
    client: httpx.AsyncClient,
) -> None:
    mcn, creator, other = await actor(client, "mcn"), await actor(client, "creator"), await actor(client, "creator")

    async def offer(who: str, share: int) -> str:
        r = await client.post(
            "/api/v1/mcn/contracts", headers=mcn.headers, json={"creator_id": who, "share_bps": share}
        )
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    ended = await offer(creator.id, 1000)
    assert (await client.post(f"/api/v1/mcn/contracts/{ended}/accept", headers=creator.headers)).is_success
    assert (await client.post(f"/api/v1/mcn/contracts/{ended}/terminate", headers=creator.headers)).is_success
    active = await offer(creator.id, 2000)
    assert (await client.post(f"/api/v1/mcn/contracts/{active}/accept", headers=creator.headers)).is_success
    declined = await offer(other.id, 3000)
    assert (await client.post(f"/api/v1/mcn/contracts/{declined}/terminate", headers=other.headers)).is_success
    await offer(other.id, 4000)

    page = await (await browser_for(client, mcn)).get("/mcn/contracts", headers=HTML)
    said = dates(page.text)
    assert len(said) == 4
    assert said[0].startswith("Offered ") and "ended" not in said[0]  # the pending offer
    assert said[1].startswith("Offered ") and said[1].endswith(f"ended by @{other.handle}")  # declined
    assert said[2].startswith("In force since ")
    assert said[3].startswith("In force ") and " to " in said[3] and said[3].endswith(f"ended by @{creator.handle}")
    mine = dates((await (await browser_for(client, creator)).get("/mcn/contracts", headers=HTML)).text)
    assert mine[-1].endswith("ended by you")


async def test_an_empty_tab_says_none_are_in_that_state_not_that_there_are_none(client: httpx.AsyncClient) -> None:
    mcn, creator = await actor(client, "mcn"), await actor(client, "creator")
    offer = {"creator_id": creator.id, "share_bps": 2000}
    assert (await client.post("/api/v1/mcn/contracts", headers=mcn.headers, json=offer)).status_code == 201
    c = await browser_for(client, mcn)
    ended = await c.get("/mcn/contracts?status=terminated", headers=HTML)
    assert "No contracts in this state" in ended.text and "No contracts yet" not in ended.text
    await c.aclose()
    c = await browser_for(client, await actor(client, "mcn"))
    assert "No contracts yet" in (await c.get("/mcn/contracts", headers=HTML)).text
    await c.aclose()
