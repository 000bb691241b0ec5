"""The FastAPI application factory: mounts every domain's API and pages."""

from __future__ import annotations

import gc
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.staticfiles import StaticFiles

from grassroots import __version__
from grassroots.affiliate import api as affiliate_api
from grassroots.affiliate import pages as affiliate_pages
from grassroots.catalog import api as catalog_api
from grassroots.catalog import pages as catalog_pages
from grassroots.commerce import api as commerce_api
from grassroots.commerce import pages as commerce_pages
from grassroots.config import Settings
from grassroots.content import api as content_api
from grassroots.content import pages as content_pages
from grassroots.domains import load_tasks
from grassroots.flow import api as flow_api
from grassroots.flow import pages as flow_pages
from grassroots.identity import api as identity_api
from grassroots.identity import pages as identity_pages
from grassroots.kernel.auth import Policy
from grassroots.kernel.events import EagerDeliveries
from grassroots.kernel.http import (
    BodyLimitMiddleware,
    ErrorResponse,
    HeadAsGetMiddleware,
    RequestContextMiddleware,
    install_error_handlers,
)
from grassroots.kernel.platform import Platform
from grassroots.ledger import api as ledger_api
from grassroots.ledger import pages as ledger_pages
from grassroots.mcn import api as mcn_api
from grassroots.mcn import pages as mcn_pages
from grassroots.ops import api as ops_api
from grassroots.ops import pages as ops_pages
from grassroots.payments import api as payments_api
from grassroots.payments import pages as payments_pages
from grassroots.social import api as social_api
from grassroots.social import pages as social_pages
from grassroots.web import pages as web_pages


def body_limits(settings: Settings) -> dict[str, int]:
    """Path prefix -> largest body in bytes, for the routes that take uploads."""
    upload = settings.media_max_video_bytes + settings.media_max_image_bytes + 1024 * 1024
    return {"/api/v1/media": upload, "/studio/new": 9 * settings.media_max_image_bytes + upload}  # 9 images or a video


PUBLIC_MOUNTS = {"/static", ops_api.DOCS_ASSETS}  # served files, no policy needed (checked by tests/test_policies.py)


def iter_routes(app: FastAPI) -> Iterator[RouteContext]:
    """Every route of the app as served, with included routers flattened."""
    return iter_route_contexts(app.routes)


def route_policy(route: RouteContext | APIRoute) -> Policy | None:
    """The policy a route declared, found anywhere in its (effective) dependency tree."""
    root = getattr(route, "dependant", None)
    stack = [root] if root is not None else []
    while stack:
        dep = stack.pop()
        if isinstance(dep.call, Policy):
            return dep.call
        stack.extend(dep.dependencies)
    return None


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorResponse.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, sub in error_schema.pop("$defs", {}).items():
        components[name] = sub
    components["ErrorResponse"] = error_schema
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    error_ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
    policies = {
        # the schema writes /media/{key:path} as /media/{key}
        (re.sub(r"\{(\w+):\w+\}", r"{\1}", r.path or ""), m.lower()): route_policy(r)
        for r in iter_routes(app)
        if isinstance(r.original_route, APIRoute)
        for m in (r.methods or ())
    }
    for path, ops in schema.get("paths", {}).items():
        for method, op in ops.items():
            responses = op.setdefault("responses", {})
            responses.pop("422", None)
            responses["4XX"] = {"description": "Error: `{error: {code, message, fields?}}`", **error_ref}
            policy = policies.get((path, method))
            if policy is not None:
                op["x-policy"] = policy.describe()
            for param in op.get("parameters", []):
                # Optional to FastAPI only so that leaving it out is our own 400
                # `idempotency_key_required`, not a generic 422; to clients it is required.
                if param.get("name") == "Idempotency-Key":
                    param["required"] = True
                    param["schema"] = {"type": "string", "minLength": 1, "maxLength": 255}
    app.openapi_schema = schema
    return schema


def create_app(settings: Settings | None = None, platform: Platform | None = None) -> FastAPI:
    settings = settings or Settings()
    load_tasks()
    platform = platform or Platform(settings)
    platform.authenticator = identity_api.BearerOrCookieAuthenticator()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await platform.start()
        # Everything loaded so far lives as long as the process: keep it out of the cyclic
        # collector's full passes, which otherwise stall each worker ~100 ms every few seconds.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await platform.close()

    app = FastAPI(
        title="Grassroots",
        version=__version__,
        description="Content social e-commerce: API for shoppers, creators, suppliers, MCNs and operators. "
        'Every error is `{"error": {"code", "message", "fields"?}}`; codes are stable.',
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.platform = platform
    # Webhooks from the sandbox provider reach this app in-process unless a public URL is set.
    platform.self_transport = httpx.ASGITransport(app=app)
    # This process can reach the webhooks, so it delivers eager events (the sandbox's) itself.
    platform.eager = EagerDeliveries(platform)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]

    install_error_handlers(app, html=web_pages.html_error)
    app.add_middleware(HeadAsGetMiddleware, skip=("/api/", "/media/", "/healthz"))
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_size, overrides=body_limits(settings))
    app.add_middleware(RequestContextMiddleware, log_requests=settings.log_requests)

    # FastAPI tries the included routers in this order, every route of each, on every
    # request: the checkout path goes first, pages and docs (one request per screen) last.
    # No two routers' paths overlap (tests/test_app.py), so the order changes no answer.
    app.include_router(ops_api.router)
    app.include_router(commerce_api.router)
    app.include_router(payments_api.router)
    if settings.sandbox_enabled:
        app.include_router(payments_api.sandbox_router)
    app.include_router(identity_api.router)
    app.include_router(catalog_api.router)
    app.include_router(affiliate_api.router)
    app.include_router(mcn_api.router)
    app.include_router(ledger_api.router)
    app.include_router(content_api.router)
    app.include_router(content_api.files_router)
    app.include_router(social_api.router)
    app.include_router(flow_api.router)
    app.include_router(ops_api.docs_router(app))
    if not settings.is_production:
        app.include_router(ops_api.clock_router)
        app.include_router(ops_pages.router)
    app.include_router(web_pages.router)
    app.include_router(identity_pages.router)
    app.include_router(catalog_pages.router)
    app.include_router(affiliate_pages.router)
    app.include_router(commerce_pages.router)
    app.include_router(mcn_pages.router)
    app.include_router(ledger_pages.router)
    app.include_router(flow_pages.router)
    app.include_router(content_pages.router)
    app.include_router(social_pages.router)
    app.include_router(payments_pages.admin_router)
    if settings.sandbox_enabled:
        app.include_router(payments_pages.router)
    app.mount("/static", StaticFiles(directory=str(files("grassroots.web") / "static")), name="static")
    app.mount(ops_api.DOCS_ASSETS, StaticFiles(directory=str(files("fastapi_offline") / "static")), name="docs-assets")
    return app
