"""The discover feed's per-process caches: rendered items and background re-ranking."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx

from grassroots.flow import service as flow
from grassroots.kernel.platform import Platform
from grassroots.kernel.uow import UnitOfWork
from tests.conftest import actor


class Renderer:
    """Counts what it is asked to render; posts in ``gone`` are left out (deleted)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.calls: list[list[uuid.UUID]] = []
        self.gone: set[uuid.UUID] = set()
        self.delay = delay

    async def __call__(self, uow: UnitOfWork, ids: list[uuid.UUID]) -> dict[uuid.UUID, bytes]:
        self.calls.append(list(ids))
        await asyncio.sleep(self.delay)
        return {i: f'"{i}:{len(self.calls)}"'.encode() for i in ids if i not in self.gone}


def age(cache: flow.RenderedItems, ids: list[uuid.UUID], seconds: float) -> None:
    for i in ids:
        _, raw = cache.entries[i]
        cache.entries[i] = (time.monotonic() - seconds, raw)


async def settle(cache: flow.RenderedItems) -> None:
    if cache.task is not None:
        await cache.task


async def test_concurrent_readers_share_one_render_and_gone_posts_are_left_out(platform: Platform) -> None:
    cache, render = flow.RenderedItems(), Renderer(delay=0.05)
    ids = [uuid.uuid4() for _ in range(3)]
    render.gone.add(ids[1])
    async with platform.unit_of_work(write=False) as uow:
        pages = await asyncio.gather(*(cache.get(uow, ids, render) for _ in range(5)))
    assert render.calls == [ids]
    assert all(p == [f'"{ids[0]}:1"'.encode(), f'"{ids[2]}:1"'.encode()] for p in pages)


async def test_items_are_refreshed_ahead_in_the_background_and_never_served_expired(platform: Platform) -> None:
    cache, render = flow.RenderedItems(), Renderer()
    ids = [uuid.uuid4() for _ in range(2)]
    nxt = [uuid.uuid4() for _ in range(2)]
    async with platform.unit_of_work(write=False) as uow:
        await cache.get(uow, ids, render)
        # the next page of the scroll is rendered in the background, before it is asked for
        await cache.get(uow, ids, render, ahead=nxt)
        await settle(cache)
        assert render.calls == [ids, nxt]

        # still fresh but old: served as it is, and re-rendered behind the reader's back
        age(cache, ids, flow.REFRESH_AHEAD + 0.1)
        assert await cache.get(uow, ids, render) == [f'"{i}:1"'.encode() for i in ids]
        await settle(cache)
        assert render.calls[-1] == ids
        assert await cache.get(uow, ids, render) == [f'"{i}:3"'.encode() for i in ids]

        # expired: the reader waits for a new render rather than see old counters
        age(cache, ids, flow.PAGE_TTL + 0.1)
        assert await cache.get(uow, ids, render) == [f'"{i}:4"'.encode() for i in ids]


async def test_an_expired_order_is_reranked_off_the_request_path(client: httpx.AsyncClient, platform: Platform) -> None:
    creator = await actor(client, "creator")
    r = await client.post(
        "/api/v1/posts", headers=creator.headers, json={"kind": "note", "title": "first", "body": "…"}
    )
    assert r.status_code == 201
    async with platform.unit_of_work() as uow:
        old = await flow.rerank(uow)
        flow.forget_caches()
        await uow.state.kv.delete("feed:discover:current")  # as when the REFRESH ttl runs out
        assert await flow.current_version(uow) == old  # the previous order, at once
    task = flow._reranking
    assert task is not None
    await task
    async with platform.unit_of_work() as uow:
        new = await flow.current_version(uow)
        assert new != old
        assert await flow.snapshot(uow, new) == [uuid.UUID(r.json()["id"])]
