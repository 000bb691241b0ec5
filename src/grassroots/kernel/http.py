"""HTTP plumbing shared by the whole app: the error shape, request ids, access logs,
Prometheus metrics and the request body limit. Pure ASGI middleware (no per-request
task, no body buffering)."""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prom_multiprocess
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grassroots.kernel.errors import DomainError

access_log = logging.getLogger("grassroots.http")
log = logging.getLogger("grassroots.errors")

REQUESTS = Counter(
    "grassroots_http_requests_total", "HTTP requests by route, method and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "grassroots_http_request_duration_seconds",
    "HTTP request latency by route and method",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


# ------------------------------------------------------------------ error shape


class ErrorBody(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"code": "not_found", "message": "No such order."}})
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody


STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def error_json(
    status: int, code: str, message: str, fields: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if fields:
        body["fields"] = fields
    return _SafeJSON({"error": body}, status_code=status, headers=headers)


class _SafeJSON(JSONResponse):
    """An error may quote what was sent; text that is not UTF-8 (a lone surrogate) is
    replaced, so quoting it can never turn the answer into a 500."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            text = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
            return text.encode("utf-8", errors="replace")


def wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/healthz", "/metrics", "/openapi.json")):
        return False
    return "text/html" in request.headers.get("accept", "")


HtmlErrorRenderer = Callable[[Request, int, str, str], Awaitable[Response]]


def _loc(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or "body"


def install_error_handlers(app: FastAPI, html: HtmlErrorRenderer | None = None) -> None:
    async def render(
        request: Request,
        status: int,
        code: str,
        message: str,
        fields: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        if html is not None and wants_html(request):
            resp = await html(request, status, code, message)
            if headers:
                resp.headers.update(headers)
            return resp
        return error_json(status, code, message, fields, headers)

    async def on_domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return await render(request, exc.status, exc.code, exc.message, exc.fields, exc.headers)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        path = request.url.path
        if (
            path.startswith("/api/")
            and any(tuple(e.get("loc", ()))[:1] == ("body",) for e in errors)
            and not _api_reads(request.headers.get("content-type", ""), path)
            and _sent_a_body(request)
        ):
            # A body the route would read, sent as something else: say so, not that its
            # fields are wrong. Found after routing and authentication, so 404, 405 and
            # 401 come first, and a route that reads no body never minds the type.
            message = "The API reads JSON: send Content-Type: application/json (uploads: multipart/form-data)."
            return await render(request, 415, "unsupported_media_type", message)
        if any(e.get("type") == "json_invalid" for e in errors):
            return await render(request, 400, "malformed_json", "The request body is not valid JSON.")
        if not path.startswith("/api/") and all(tuple(e.get("loc", ()))[:1] == ("path",) for e in errors):
            # A page's address cut short or mistyped (/posts/01a2…): no such page, not a form to fix.
            return await render(request, 404, "not_found", "Nothing lives at this address.")
        fields: dict[str, str] = {}
        for e in errors:
            fields.setdefault(_loc(e.get("loc", ())), str(e.get("msg", "invalid")))
        return await render(request, 422, "validation_error", "Some fields are missing or invalid.", fields)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = STATUS_CODES.get(exc.status_code, f"http_{exc.status_code}")
        message = (
            exc.detail
            if isinstance(exc.detail, str) and exc.status_code != 404
            else ("Nothing lives at this address." if exc.status_code == 404 else "Request failed.")
        )
        return await render(request, exc.status_code, code, message, None, dict(exc.headers or {}))

    async def on_disconnect(request: Request, exc: Exception) -> Response:
        # The client went away mid-body: nothing to answer and nothing broken on our side.
        access_log.info("client disconnected", extra={"path": request.url.path})
        return error_json(400, "client_disconnected", "The client closed the connection before sending the body.")

    async def on_db_error(request: Request, exc: Exception) -> Response:
        # A deadlock victim or a serialization failure: nothing was written; the client may retry.
        code = getattr(getattr(exc, "orig", None), "sqlstate", None) or getattr(
            getattr(exc, "orig", None), "pgcode", None
        )
        if code in ("40P01", "40001") or "deadlock detected" in str(exc):
            log.warning("transaction aborted by the database (%s); answered 409", code)
            return await render(request, 409, "concurrent_update", "Another change got in the way; retry the request.")
        return await on_unhandled(request, exc)

    async def on_integrity(request: Request, exc: Exception) -> Response:
        log.warning("integrity error reached the boundary: %s", exc)
        return await render(request, 409, "conflict", "The change conflicts with existing data; retry.")

    async def on_unhandled(request: Request, exc: Exception) -> Response:
        # Runs in Starlette's outermost error middleware, outside ours: add the request id here.
        request_id = str(request.scope.get("state", {}).get("request_id", ""))
        log.exception("unhandled error on %s %s", request.method, request.url.path, extra={"request_id": request_id})
        return error_json(
            500,
            "internal_error",
            "Something broke on our side; it has been logged.",
            headers={"x-request-id": request_id} if request_id else None,
        )

    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(ClientDisconnect, on_disconnect)
    app.add_exception_handler(IntegrityError, on_integrity)
    app.add_exception_handler(DBAPIError, on_db_error)
    app.add_exception_handler(Exception, on_unhandled)


# ------------------------------------------------------------------ middleware


class BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` when a streamed body passes the limit; an HTTPException so
    FastAPI's body parsing lets it through to the error handlers (413, our shape)."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"The request body is over the {limit}-byte limit.")


UPLOAD_PATHS = ("/api/v1/media",)  # the API's only multipart endpoints


def _sent_a_body(request: Request) -> bool:
    """From the headers (the body itself may have been consumed by a form parse)."""
    length = request.headers.get("content-length")
    return (length is not None and length.strip() not in ("", "0")) or "transfer-encoding" in request.headers


def _api_reads(media_type: str, path: str) -> bool:
    """Whether the JSON API reads a body of this Content-Type at ``path``: JSON
    (``application/json``, ``application/*+json``), or ``multipart/form-data`` uploads."""
    kind = media_type.split(";", 1)[0].strip().lower()
    if kind == "multipart/form-data":
        return path in UPLOAD_PATHS
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


HEAD_ONLY = "grassroots.head_only"  # in the scope of a HEAD answered as a GET


def head_only(request: Request) -> bool:
    """Whether this GET answers a HEAD: a handler with a side effect (a click counted)
    leaves it out, as HEAD must change nothing."""
    return bool(request.scope.get(HEAD_ONLY))


class HeadAsGetMiddleware:
    """Pages answer HEAD as they answer GET, without the body: link previews of a shared
    ``/s/…`` link and uptime checks send HEAD. Paths under ``skip`` (the API, and routes
    with a HEAD of their own that need not build the body) are left as they are."""

    def __init__(self, app: ASGIApp, skip: tuple[str, ...]) -> None:
        self.app = app
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or scope["path"].startswith(self.skip):
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):  # the headers say how long the body is
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET", HEAD_ONLY: True}, receive, headers_only)


class BodyLimitMiddleware:
    """Refuse bodies over ``max_bytes`` (per path prefix in ``overrides``): at once when
    Content-Length says so, else as soon as the streamed body passes the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, overrides: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = sorted((overrides or {}).items(), key=lambda kv: -len(kv[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.overrides:
            if path.startswith(prefix):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if value.isdigit() and int(value) > limit:
                    exc = BodyTooLarge(limit)
                    await error_json(413, "payload_too_large", str(exc.detail))(scope, receive, send)
                    return
                break
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)


class RequestContextMiddleware:
    """Request id, one JSON access-log line per request, and Prometheus metrics."""

    def __init__(self, app: ASGIApp, *, log_requests: bool = True) -> None:
        self.app = app
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if b"%00" in scope.get("query_string", b""):
            # A NUL in a query parameter reaches nothing useful and PostgreSQL refuses it.
            await error_json(400, "invalid_characters", "The query string contains a NUL character.")(
                scope, receive, send
            )
            return
        request_id = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                request_id = value.decode("latin-1")[:64]
                break
        request_id = request_id or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        start = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            duration = time.perf_counter() - start
            route = scope.get("route")
            route_path = getattr(route, "path", None) or (
                "<static>" if scope["path"].startswith("/static/") else "<unmatched>"
            )
            method = scope.get("method", "")
            REQUESTS.labels(method, route_path, str(status)).inc()
            LATENCY.labels(method, route_path).observe(duration)
            if self.log_requests:
                access_log.info(
                    "request",
                    extra={
                        "request_id": request_id,
                        "method": method,
                        "route": route_path,
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(duration * 1000, 2),
                    },
                )


def metrics_response() -> Response:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        prom_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        data = generate_latest(registry)
    else:
        data = generate_latest()
    return Response(data, media_type=CONTENT_TYPE_LATEST)
