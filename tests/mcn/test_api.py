from __future__ import annotations

import asyncio

import httpx

from tests.conftest import Actor, Stack, actor, drain


def code(r: httpx.Response) -> str:
    return r.json()["error"]["code"]


async def offer(client: httpx.AsyncClient, mcn: Actor, creator: Actor, share: int = 3000) -> dict:
    r = await client.post(
        "/api/v1/mcn/contracts", headers=mcn.headers, json={"creator_id": creator.id, "share_bps": share}
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_contract_lifecycle(client: httpx.AsyncClient) -> None:
    mcn, creator = await actor(client, "mcn"), await actor(client, "creator")
    contract = await offer(client, mcn, creator)
    assert contract["status"] == "pending" and contract["share_bps"] == 3000
    r = await client.post(f"/api/v1/mcn/contracts/{contract['id']}/accept", headers=creator.headers)
    assert r.status_code == 200 and r.json()["status"] == "active"
    again = await client.post(f"/api/v1/mcn/contracts/{contract['id']}/accept", headers=creator.headers)
    assert (again.status_code, code(again)) == (409, "invalid_state")
    listed = (await client.get("/api/v1/mcn/contracts", headers=mcn.headers)).json()["items"]
    assert [c["id"] for c in listed] == [contract["id"]]
    assert [c["id"] for c in (await client.get("/api/v1/mcn/contracts", headers=creator.headers)).json()["items"]] == [
        contract["id"]
    ]
    r = await client.post(f"/api/v1/mcn/contracts/{contract['id']}/terminate", headers=creator.headers)
    assert r.json()["status"] == "terminated"
    r = await client.post(f"/api/v1/mcn/contracts/{contract['id']}/terminate", headers=mcn.headers)
    assert (r.status_code, code(r)) == (409, "invalid_state")


async def test_an_mcn_offers_nothing_new_to_a_creator_it_has_signed(client: httpx.AsyncClient) -> None:
    mcn, other, creator = await actor(client, "mcn"), await actor(client, "mcn"), await actor(client, "creator")
    signed = await offer(client, mcn, creator)
    assert (await client.post(f"/api/v1/mcn/contracts/{signed['id']}/accept", headers=creator.headers)).is_success
    r = await client.post(
        "/api/v1/mcn/contracts", headers=mcn.headers, json={"creator_id": creator.id, "share_bps": 2000}
    )
    assert (r.status_code, code(r)) == (409, "already_signed")
    await offer(client, other, creator)  # another agency may still make an offer
    await client.post(f"/api/v1/mcn/contracts/{signed['id']}/terminate", headers=mcn.headers)
    await offer(client, mcn, creator, 2000)  # new terms, once the old contract has ended


async def test_a_creator_has_at_most_one_active_contract(client: httpx.AsyncClient) -> None:
    a, b, creator = await actor(client, "mcn"), await actor(client, "mcn"), await actor(client, "creator")
    first, second = await offer(client, a, creator), await offer(client, b, creator, 2000)
    assert (
        await client.post(f"/api/v1/mcn/contracts/{first['id']}/accept", headers=creator.headers)
    ).status_code == 200
    r = await client.post(f"/api/v1/mcn/contracts/{second['id']}/accept", headers=creator.headers)
    assert (r.status_code, code(r)) == (409, "already_contracted")
    await client.post(f"/api/v1/mcn/contracts/{first['id']}/terminate", headers=a.headers)
    assert (
        await client.post(f"/api/v1/mcn/contracts/{second['id']}/accept", headers=creator.headers)
    ).status_code == 200


async def test_concurrent_acceptances_leave_one_active_contract(client: httpx.AsyncClient, stack: Stack) -> None:
    creator = await actor(client, "creator")
    contracts = [await offer(client, await actor(client, "mcn"), creator) for _ in range(5)]
    results = await asyncio.gather(
        *(client.post(f"/api/v1/mcn/contracts/{c['id']}/accept", headers=creator.headers) for c in contracts)
    )
    assert sorted(r.status_code for r in results) == [200, 409, 409, 409, 409]
    active = (await client.get("/api/v1/mcn/contracts", params={"status": "active"}, headers=creator.headers)).json()
    assert len(active["items"]) == 1


async def test_an_offer_accepted_as_it_is_withdrawn_is_told_as_what_happened(
    client: httpx.AsyncClient, stack: Stack
) -> None:
    """Accept and withdraw at once: either the accept lands first and the MCN ends a
    contract in force, or the offer is withdrawn and the accept refused; never a contract
    that began but is reported (and notified) as a withdrawn offer."""
    mcn, creator = await actor(client, "mcn"), await actor(client, "creator")
    outcomes = []
    for _ in range(8):
        c = await offer(client, mcn, creator)
        accepted, ended = await asyncio.gather(
            client.post(f"/api/v1/mcn/contracts/{c['id']}/accept", headers=creator.headers),
            client.post(f"/api/v1/mcn/contracts/{c['id']}/terminate", headers=mcn.headers),
        )
        assert ended.status_code == 200 and ended.json()["status"] == "terminated"
        began = accepted.status_code == 200
        assert began or code(accepted) == "invalid_state"
        assert (ended.json()["accepted_at"] is not None) == began
        outcomes.append(began)
    await drain(client)
    items = (await client.get("/api/v1/notifications?limit=50", headers=creator.headers)).json()["items"]
    told = sorted(n["kind"] for n in items if n["kind"] in ("contract_ended", "contract_withdrawn"))
    assert told == sorted("contract_ended" if began else "contract_withdrawn" for began in outcomes)


async def test_who_may_do_what(client: httpx.AsyncClient) -> None:
    mcn, other_mcn, creator, other_creator = (
        await actor(client, "mcn"),
        await actor(client, "mcn"),
        await actor(client, "creator"),
        await actor(client, "creator"),
    )
    contract = await offer(client, mcn, creator)
    r = await client.post(f"/api/v1/mcn/contracts/{contract['id']}/accept", headers=other_creator.headers)
    assert (r.status_code, code(r)) == (404, "contract_not_found")
    r = await client.post(f"/api/v1/mcn/contracts/{contract['id']}/terminate", headers=other_mcn.headers)
    assert (r.status_code, code(r)) == (404, "contract_not_found")
    assert (await client.get("/api/v1/mcn/contracts", headers=other_mcn.headers)).json()["items"] == []
    r = await client.post(f"/api/v1/mcn/contracts/{contract['id']}/accept", headers=mcn.headers)
    assert r.status_code == 403  # only creators accept
    consumer = await actor(client, "consumer")
    r = await client.post(
        "/api/v1/mcn/contracts", headers=consumer.headers, json={"creator_id": creator.id, "share_bps": 1}
    )
    assert r.status_code == 403


async def test_bad_offers(client: httpx.AsyncClient) -> None:
    mcn, creator, consumer = await actor(client, "mcn"), await actor(client, "creator"), await actor(client, "consumer")
    for share in (0, 9001, -5):
        r = await client.post(
            "/api/v1/mcn/contracts", headers=mcn.headers, json={"creator_id": creator.id, "share_bps": share}
        )
        assert (r.status_code, code(r)) == (422, "invalid_share")
    r = await client.post(
        "/api/v1/mcn/contracts", headers=mcn.headers, json={"creator_id": consumer.id, "share_bps": 100}
    )
    assert (r.status_code, code(r)) == (422, "not_a_creator")
    r = await client.post(
        "/api/v1/mcn/contracts",
        headers=mcn.headers,
        json={"creator_id": "01a20000-0000-7000-8000-000000000000", "share_bps": 100},
    )
    assert (r.status_code, code(r)) == (404, "creator_not_found")


async def test_an_offer_sent_twice_waits_for_one_answer(client: httpx.AsyncClient) -> None:
    mcn, creator = await actor(client, "mcn"), await actor(client, "creator")
    first = await offer(client, mcn, creator)
    for share in (3000, 2000):  # the same offer again (a double tap), or new terms
        r = await client.post(
            "/api/v1/mcn/contracts", headers=mcn.headers, json={"creator_id": creator.id, "share_bps": share}
        )
        assert (r.status_code, code(r)) == (409, "offer_pending")
    await offer(client, await actor(client, "mcn"), creator)  # another MCN may offer too
    await client.post(f"/api/v1/mcn/contracts/{first['id']}/terminate", headers=mcn.headers)
    assert (await offer(client, mcn, creator, 2000))["share_bps"] == 2000  # once ended, new terms
    listed = (await client.get("/api/v1/mcn/contracts", headers=mcn.headers)).json()["items"]
    assert sorted(c["status"] for c in listed) == ["pending", "terminated"]
