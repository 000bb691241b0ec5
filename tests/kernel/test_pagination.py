"""Cursors: opaque, typed, and a clear 400 for anything this API did not hand out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from grassroots.kernel.errors import BadRequest
from grassroots.kernel.pagination import decode_cursor, encode_cursor
from tests.conftest import actor


def test_values_round_trip_and_times_come_back_in_utc() -> None:
    at = datetime(2026, 11, 25, 8, tzinfo=UTC)
    uid = uuid.uuid4()
    assert decode_cursor(encode_cursor([at, uid, 3, "x"]), 4) == [at, uid, 3, "x"]


@pytest.mark.parametrize(
    "raw",
    [
        '[{"t": "0001-01-01T00:00:00+14:00"}]',  # before year 1 once in UTC
        '[{"t": "9999-12-31T23:59:59-14:00"}]',  # after year 9999 once in UTC
        '[{"t": "2026-01-01T00:00:00"}]',  # naive
        '[{"u": "not-a-uuid"}]',
        "[[1]]",
        '["\\ud800"]',  # a lone surrogate: no key or column can hold it
        '["a\\u0000b"]',  # a NUL: PostgreSQL refuses it
    ],
)
def test_bad_cursors_are_a_400(raw: str) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    with pytest.raises(BadRequest):
        decode_cursor(cursor, 1)


@pytest.mark.parametrize(("sort", "first"), [("commission", 2**31), ("sales", 2**63), ("sales", -(2**63) - 1)])
async def test_a_cursor_wider_than_its_column_is_a_400(client: httpx.AsyncClient, sort: str, first: int) -> None:
    creator = await actor(client, "creator")
    cursor = encode_cursor([first, uuid.uuid4()])
    r = await client.get("/api/v1/affiliate/pool", params={"sort": sort, "cursor": cursor}, headers=creator.headers)
    assert (r.status_code, r.json()["error"]["code"]) == (400, "invalid_cursor")
