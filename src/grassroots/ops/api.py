"""Operations endpoints: health, metrics, API docs and the test clock."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response

from grassroots import __version__
from grassroots.kernel.auth import AdminUser, open_access
from grassroots.kernel.deps import PlatformDep
from grassroots.kernel.http import metrics_response
from grassroots.ops import service
from grassroots.ops.schemas import AdvanceIn, ClockOut, HealthOut

router = APIRouter(tags=["operations"])

DOCS_ASSETS = "/docs-assets"  # served from the fastapi-offline package, no CDN needed


@router.head("/healthz", dependencies=[Depends(open_access)], include_in_schema=False)
@router.get(
    "/healthz",
    response_model=HealthOut,
    dependencies=[Depends(open_access)],
    responses={503: {"model": HealthOut, "description": "A dependency is down"}},
)
async def healthz(platform: PlatformDep) -> Response:
    checks = await service.health(platform)
    ok = all(v in ("ok", "not_configured") for v in checks.values())
    body = HealthOut(status="ok" if ok else "degraded", checks=checks, version=__version__)
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


@router.get("/metrics", dependencies=[Depends(open_access)], include_in_schema=False)
async def metrics() -> Response:
    return metrics_response()


def docs_router(app: FastAPI) -> APIRouter:
    docs = APIRouter(include_in_schema=False)

    @docs.get("/openapi.json", dependencies=[Depends(open_access)])
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @docs.get("/docs", dependencies=[Depends(open_access)])
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Grassroots API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        )

    @docs.get("/redoc", dependencies=[Depends(open_access)])
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url="/openapi.json",
            title="Grassroots API",
            redoc_js_url=f"{DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )

    return docs


clock_router = APIRouter(prefix="/api/v1/admin", tags=["operations"])


def _clock_out(platform: PlatformDep) -> ClockOut:
    clock = service.test_clock(platform)
    return ClockOut(now=clock.now(), offset_seconds=clock.offset.total_seconds())


@clock_router.get("/test-clock", response_model=ClockOut)
async def get_test_clock(_admin: AdminUser, platform: PlatformDep) -> ClockOut:
    """The platform's current time and how far the test clock has moved it."""
    await platform.clock.refresh()
    return _clock_out(platform)


@clock_router.post("/test-clock", response_model=ClockOut)
async def advance_test_clock(body: AdvanceIn, _admin: AdminUser, platform: PlatformDep) -> ClockOut:
    """Move time forward for every instance and worker (not available in production)."""
    await service.advance_clock(platform, body.advance_seconds)
    return _clock_out(platform)
