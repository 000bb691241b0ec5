"""Cursors: opaque, typed, and a clear 400 for anything this API did not hand out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from grassroots.kernel.errors import BadRequest
from grassroots.kernel.pagination import decode_cursor, encode_cursor


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
    ],
)
def test_bad_cursors_are_a_400(raw: str) -> None:
    import base64

    cursor = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    with pytest.raises(BadRequest):
        decode_cursor(cursor, 1)
