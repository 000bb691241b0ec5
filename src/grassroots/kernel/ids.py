"""Identifiers: UUIDv7, time-ordered so keyset pagination and index locality work,
and unguessable enough not to leak counts."""

from __future__ import annotations

import uuid

from uuid_utils import compat


def new_id() -> uuid.UUID:
    return compat.uuid7()


def parse_id(value: str) -> uuid.UUID | None:
    """The UUID in ``value``, or None when it is not one (callers answer 404, not 500)."""
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None
