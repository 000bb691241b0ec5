"""Idempotency keys for money-moving writes.

A client sends ``Idempotency-Key`` with a write; the first request with that key claims
it, naming the resource it will create, in the same transaction as the write. A retry with the same body gets the same
resource back; with a different body, 409 ``idempotency_key_reused``. Concurrent
retries are settled by the primary key: on PostgreSQL the second insert waits for the
first transaction and then sees its row; on SQLite writers are serialised anyway.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, String, Uuid, and_, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from grassroots.kernel.db import Base, UTCDateTime, insert_if_absent
from grassroots.kernel.errors import BadRequest, Conflict
from grassroots.kernel.uow import UnitOfWork

MAX_KEY = 255
RETENTION = timedelta(hours=24)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"

    scope: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


def request_hash(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str | None) -> str:
    if key is None or not key.strip():
        raise BadRequest("Send an Idempotency-Key header with this request.", code="idempotency_key_required")
    key = key.strip()
    if len(key) > MAX_KEY or not key.isprintable():
        raise BadRequest(
            f"The Idempotency-Key must be 1–{MAX_KEY} printable characters.", code="invalid_idempotency_key"
        )
    return key


def _the_key(scope: str, owner_id: uuid.UUID, key: str) -> ColumnElement[bool]:
    return and_(IdempotencyKey.scope == scope, IdempotencyKey.owner_id == owner_id, IdempotencyKey.key == key)


async def claim(
    uow: UnitOfWork, scope: str, owner_id: uuid.UUID, key: str, digest: str, resource_id: uuid.UUID
) -> uuid.UUID | None:
    """Claim the key for a request that will create ``resource_id``. None: go ahead.
    Otherwise the id of the resource an earlier request with the same key and body made
    (a different body is 409 ``idempotency_key_reused``)."""
    claimed = await insert_if_absent(
        uow.session,
        IdempotencyKey,
        scope=scope,
        owner_id=owner_id,
        key=key,
        request_hash=digest,
        resource_id=resource_id,
        created_at=uow.now(),
    )
    if claimed:
        return None
    stmt = select(IdempotencyKey).where(_the_key(scope, owner_id, key)).execution_options(populate_existing=True)
    row = (await uow.session.scalars(stmt)).one()
    if row.request_hash != digest:
        raise Conflict("This Idempotency-Key was used with a different request.", code="idempotency_key_reused")
    return row.resource_id


async def resource_for(uow: UnitOfWork, scope: str, owner_id: uuid.UUID, key: str) -> uuid.UUID | None:
    """What a claimed key created, whatever body it came with (None: not claimed)."""
    return await uow.session.scalar(select(IdempotencyKey.resource_id).where(_the_key(scope, owner_id, key)))


async def purge(uow: UnitOfWork) -> int:
    result = await uow.session.execute(delete(IdempotencyKey).where(IdempotencyKey.created_at < uow.now() - RETENTION))
    return int(getattr(result, "rowcount", 0) or 0)
