"""The platform container: how it reaches its own webhooks."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from grassroots.kernel.platform import Platform
from tests.conftest import make_settings


async def test_webhooks_go_to_the_public_url_with_its_path(tmp_path: Path) -> None:
    """Behind a proxy the platform may live under a path; webhooks keep it."""
    seen: list[tuple[str, bytes, str]] = []

    async def receive(request: web.Request) -> web.Response:
        seen.append((request.path, await request.read(), request.headers.get("x-sig", "")))
        return web.json_response({"status": "processed"})

    app = web.Application()
    app.router.add_post("/shop/api/v1/payments/sandbox/webhook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    platform = Platform(make_settings(tmp_path, public_url=f"http://127.0.0.1:{port}/shop/"))
    try:
        status, answer = await platform.post_webhook("/api/v1/payments/sandbox/webhook", b"{}", {"x-sig": "t=1"})
        assert (status, seen) == (200, [("/shop/api/v1/payments/sandbox/webhook", b"{}", "t=1")])
        assert "processed" in answer
        status, _ = await platform.post_webhook("/elsewhere", b"{}", {})
        assert status == 404
    finally:
        await platform.close()
        await runner.cleanup()
