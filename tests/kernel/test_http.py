"""The error shape on every 4xx, request ids, access logs, metrics, body limits."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.conftest import Stack, user_with_token


def assert_error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert set(body["error"]) <= {"code", "message", "fields"}
    return body["error"]


async def test_unknown_route_is_a_shaped_404(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/v1/does-not-exist"), 404, "not_found")
    assert_error(await client.get("/nope", headers={"accept": "application/json"}), 404, "not_found")


async def test_wrong_method_is_a_shaped_405(client: httpx.AsyncClient) -> None:
    assert_error(await client.delete("/api/v1/auth/signup"), 405, "method_not_allowed")


async def test_malformed_json_is_a_400(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/v1/auth/signup", content=b'{"email": ', headers={"content-type": "application/json"})
    assert_error(r, 400, "malformed_json")


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 500 + b"]" * 500,
        b'{"email": "a@example.com", "password": "x", "handle": "abc", "role": ' + b"[" * 600 + b"]" * 600 + b"}",
        b'{"a": ' * 900 + b"1" + b"}" * 900,
    ],
)
async def test_a_deeply_nested_body_is_a_4xx(client: httpx.AsyncClient, body: bytes) -> None:
    r = await client.post("/api/v1/auth/signup", content=body, headers={"content-type": "application/json"})
    assert 400 <= r.status_code < 500 and r.json()["error"]["code"] in ("validation_error", "malformed_json")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None])
async def test_a_body_the_api_does_not_read_is_a_415(client: httpx.AsyncClient, content_type: str | None) -> None:
    body = b'{"email": "a@example.com", "password": "long-enough-pw", "handle": "ct_user", "role": "consumer"}'
    headers = {"content-type": content_type} if content_type else {}
    r = await client.post("/api/v1/auth/signup", content=body, headers=headers)
    assert_error(r, 415, "unsupported_media_type")
    login = await client.post("/api/v1/auth/token", json={"email": "a@example.com", "password": "long-enough-pw"})
    assert login.status_code == 401  # nothing was created


async def test_multipart_is_read_only_where_files_are_uploaded(client: httpx.AsyncClient) -> None:
    _, headers = await user_with_token(client, "creator")
    r = await client.post("/api/v1/posts", headers=headers, files={"title": (None, "hello")})
    assert_error(r, 415, "unsupported_media_type")
    r = await client.post("/api/v1/media", headers=headers, files={"file": ("a.txt", b"not an image")})
    assert r.json()["error"]["code"] == "unsupported_media"  # read, and refused for what the file holds


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/merge-patch+json"])
async def test_json_in_any_json_media_type_is_read(client: httpx.AsyncClient, content_type: str) -> None:
    body = b'{"email": "b@example.com", "password": "long-enough-pw", "handle": "ct_json", "role": "consumer"}'
    r = await client.post("/api/v1/auth/signup", content=body, headers={"content-type": content_type})
    assert r.status_code == 201, r.text


async def test_a_bodiless_action_needs_no_content_type(client: httpx.AsyncClient) -> None:
    # An action without a body is not refused for the Content-Type a client happens to send,
    # nor for an empty body sent chunked.
    _, headers = await user_with_token(client)
    r = await client.post("/api/v1/me/revoke-sessions", headers={**headers, "content-type": "text/plain"})
    assert r.status_code == 204
    _, headers = await user_with_token(client)

    async def nothing() -> AsyncIterator[bytes]:
        for chunk in ():
            yield chunk

    r = await client.post(
        "/api/v1/me/revoke-sessions", headers={**headers, "content-type": "text/plain"}, content=nothing()
    )
    assert r.status_code == 204


async def test_a_form_posted_to_the_upload_route_is_a_415(client: httpx.AsyncClient) -> None:
    _, headers = await user_with_token(client, "creator")
    r = await client.post("/api/v1/media", headers=headers, data={"file": "not a file"})
    assert_error(r, 415, "unsupported_media_type")


async def test_a_wrong_content_type_does_not_hide_a_404_405_or_401(client: httpx.AsyncClient) -> None:
    plain = {"content-type": "text/plain"}
    assert_error(await client.post("/api/v1/no-such-thing", content=b"x", headers=plain), 404, "not_found")
    assert_error(await client.post("/api/v1/me", content=b"x", headers=plain), 405, "method_not_allowed")
    assert_error(await client.post("/api/v1/orders", content=b"x", headers=plain), 401, "not_authenticated")


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "string",
        42,
        None,
        {"email": 5, "password": [], "handle": {}, "role": 1},
        {"email": "a@example.com"},
    ],
)
async def test_wrong_types_and_missing_fields_are_a_422_with_fields(client: httpx.AsyncClient, payload: object) -> None:
    e = assert_error(await client.post("/api/v1/auth/signup", json=payload), 422, "validation_error")
    assert e.get("fields")


async def test_unknown_fields_are_refused(client: httpx.AsyncClient) -> None:
    e = assert_error(
        await client.post("/api/v1/auth/token", json={"email": "a@example.com", "password": "x", "is_admin": True}),
        422,
        "validation_error",
    )
    assert "is_admin" in e["fields"]


@pytest.mark.parametrize("evil", ["' OR 1=1 --", "<img src=x onerror=alert(1)>", "\x00", "🌱" * 40, "a" * 255])
async def test_sql_and_html_in_strings_never_break_anything(client: httpx.AsyncClient, evil: str) -> None:
    for body in (
        {"email": evil, "password": "long-enough-pw", "handle": "fine_handle", "role": "consumer"},
        {"email": "ok@example.com", "password": "long-enough-pw", "handle": evil, "role": "consumer"},
    ):
        r = await client.post("/api/v1/auth/signup", json=body)
        assert 400 <= r.status_code < 500, r.text
        assert r.json()["error"]["code"]
    r = await client.post("/api/v1/auth/token", json={"email": evil, "password": evil})
    assert r.status_code in (401, 422)


async def test_huge_bodies_are_refused_before_reading(client: httpx.AsyncClient, stack: Stack) -> None:
    big = b'{"email": "' + b"x" * (stack.settings.max_body_size + 10) + b'"}'
    r = await client.post("/api/v1/auth/signup", content=big, headers={"content-type": "application/json"})
    assert_error(r, 413, "payload_too_large")

    async def chunks():  # no Content-Length: the limit trips while streaming
        for _ in range(3):
            yield b"x" * (stack.settings.max_body_size // 2 + 1)

    r = await client.post("/api/v1/auth/signup", content=chunks(), headers={"content-type": "application/json"})
    assert_error(r, 413, "payload_too_large")


async def test_request_id_is_echoed_or_minted(client: httpx.AsyncClient) -> None:
    r = await client.get("/healthz", headers={"x-request-id": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    r = await client.get("/healthz")
    assert len(r.headers["x-request-id"]) == 32


async def test_one_json_access_log_line_per_request(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    from grassroots.app import create_app
    from grassroots.kernel.logs import JsonFormatter

    settings = stack.settings.model_copy(update={"log_requests": True})
    app = create_app(settings, platform=stack.platform)
    with caplog.at_level(logging.INFO, logger="grassroots.http"):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            await c.get("/api/v1/me", headers={"x-request-id": "req-1"})
    records = [r for r in caplog.records if r.name == "grassroots.http"]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["request_id"] == "req-1"
    assert line["route"] == "/api/v1/me" and line["status"] == 401 and line["method"] == "GET"
    assert isinstance(line["duration_ms"], float)


async def test_metrics_count_requests_per_route(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/me")
    await client.get("/api/v1/no/such/thing/12345")
    text = (await client.get("/metrics")).text
    assert 'grassroots_http_requests_total{method="GET",route="/api/v1/me",status="401"}' in text
    assert 'route="<unmatched>"' in text and "no/such/thing" not in text  # bounded label values
    assert "grassroots_http_request_duration_seconds_bucket" in text


async def test_openapi_documents_the_error_shape(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "ErrorResponse" in spec["components"]["schemas"]
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    op = spec["paths"]["/api/v1/auth/signup"]["post"]
    assert op["responses"]["4XX"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert op["x-policy"] == "public"
    assert spec["paths"]["/api/v1/admin/users"]["get"]["x-policy"] == "roles: admin"
    unlabelled = [(p, m) for p, ops in spec["paths"].items() for m, op in ops.items() if "x-policy" not in op]
    assert unlabelled == []  # every operation says who may call it, /media/{key} too
    assert (await client.get("/docs")).status_code == 200
    key = [p for p in spec["paths"]["/api/v1/orders"]["post"]["parameters"] if p["name"] == "Idempotency-Key"]
    assert key and key[0]["required"] is True and key[0]["in"] == "header"


async def test_a_500_keeps_the_shape_and_the_request_id(stack: Stack) -> None:
    from fastapi import APIRouter, Depends

    from grassroots.app import create_app
    from grassroots.kernel.auth import open_access

    app = create_app(stack.settings, platform=stack.platform)
    broken = APIRouter()

    @broken.get("/boom", dependencies=[Depends(open_access)])
    async def boom() -> None:
        raise RuntimeError("a bug")

    app.include_router(broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        r = await c.get("/boom", headers={"x-request-id": "req-500"})
    assert r.status_code == 500
    assert r.json() == {
        "error": {"code": "internal_error", "message": "Something broke on our side; it has been logged."}
    }
    assert r.headers["x-request-id"] == "req-500"


async def test_a_lone_surrogate_anywhere_in_a_body_is_a_422(client: httpx.AsyncClient) -> None:
    """``"\\ud800"`` is valid JSON but no character: refused in plain fields and inside lists
    alike, never stored, never a 500 when an error quotes it."""
    _, headers = await user_with_token(client, "creator")
    for body in (
        '{"kind": "note", "title": "x", "hashtags": ["\\ud800abc"]}',
        '{"kind": "note", "title": "\\udfff"}',
    ):
        r = await client.post("/api/v1/posts", content=body, headers={**headers, "content-type": "application/json"})
        assert_error(r, 422, "validation_error")
    assert (await client.get("/api/v1/feed?tab=discover")).json()["items"] == []


def test_an_error_quoting_text_that_is_not_utf8_still_renders() -> None:
    from grassroots.kernel.http import error_json

    r = error_json(422, "invalid_hashtag", "Not a hashtag: #\ud800", {"hashtags": "\ud800"})
    assert json.loads(r.body)["error"]["code"] == "invalid_hashtag"
