"""How the app is assembled: every route is reachable, whatever order its router was
included in (the order is chosen for speed, so it must not change which route answers)."""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute

from tests.conftest import Stack


def _api_routes(router: Any) -> list[APIRoute]:
    found: list[APIRoute] = []
    for route in router.routes:
        inner = getattr(route, "original_router", None)  # an included router
        if inner is not None:
            found.extend(_api_routes(inner))
        elif isinstance(route, APIRoute):
            found.append(route)
    return found


async def test_every_route_answers_its_own_path(stack: Stack) -> None:
    from grassroots.app import create_app

    app = create_app(stack.settings, platform=stack.platform)
    routes = _api_routes(app.router)
    assert len(routes) > 100

    async def answered_by(method: str, path: str) -> Any:
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "server": ("t", 80),
            "client": ("127.0.0.1", 1),
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"t"), (b"accept", b"application/json")],
        }

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            pass

        await app(scope, receive, send)
        return scope.get("route")

    wrong = []
    for route in routes:
        # A sample value for every path parameter; no literal path segment is "x1".
        path = re.sub(r"\{[^}]+\}", "x1", route.path)
        for method in sorted(route.methods):
            got = await answered_by(method, path)
            if got is not route:
                wrong.append(f"{method} {route.path} -> {getattr(got, 'path', got)}")
    assert wrong == []


def test_every_error_code_is_documented() -> None:
    """docs/api.md lists every machine-readable error code the platform answers with."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    patterns = (
        r'code="([a-z_]+)"',
        r'default_code = "([a-z_]+)"',
        r'error_json\(\s*\d+,\s*"([a-z_]+)"',
        r'render\(request, \d+, "([a-z_]+)"',
        r'\d{3}: "([a-z_]+)"',
    )
    raised: set[str] = set()
    for path in (root / "src" / "grassroots").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        for pattern in patterns:
            raised |= set(re.findall(pattern, source))
    documented = set(re.findall(r"`([a-z_]+)`", (root / "docs" / "api.md").read_text(encoding="utf-8")))
    assert len(raised) > 60  # the patterns still find the codes
    assert sorted(raised - documented) == []
