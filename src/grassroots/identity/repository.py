"""All queries on identity tables."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from grassroots.identity.models import User
from grassroots.kernel.auth import Role
from grassroots.kernel.pagination import PageParams, paginate


async def get(session: AsyncSession, user_id: uuid.UUID) -> User | None:
    return await session.get(User, user_id)


# Built once: it runs on every authenticated request.
_AUTH_FACTS = select(User.role, User.handle, User.email, User.auth_version, User.disabled_at.is_not(None)).where(
    User.id == bindparam("user_id")
)


async def auth_facts(session: AsyncSession, user_id: uuid.UUID) -> tuple[Role, str, str, int, bool] | None:
    """What authenticating a request needs, as one light column query."""
    row = (await session.execute(_AUTH_FACTS, {"user_id": user_id})).first()
    return None if row is None else (Role(row[0]), row[1], row[2], int(row[3]), bool(row[4]))


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    return (await session.scalars(select(User).where(User.email == email))).one_or_none()


async def email_exists(session: AsyncSession, email: str) -> bool:
    return (await session.scalar(select(func.count()).select_from(User).where(User.email == email)) or 0) > 0


async def handle_exists(session: AsyncSession, handle_key: str) -> bool:
    stmt = select(func.count()).select_from(User).where(User.handle_key == handle_key)
    return (await session.scalar(stmt) or 0) > 0


async def add(session: AsyncSession, user: User) -> str | None:
    """Insert ``user``; on a unique clash return the clashing column (``email`` or
    ``handle_key``) and leave the session usable."""
    try:
        async with session.begin_nested():
            session.add(user)
    except IntegrityError as exc:
        text = str(exc.orig).lower()
        return "handle_key" if "handle" in text else "email"
    return None


async def page(
    session: AsyncSession,
    params: PageParams,
    role: Role | None = None,
    *,
    suspended: bool | None = None,
    q: str | None = None,
) -> tuple[list[User], str | None]:
    stmt = select(User)
    if q:
        # An operator looking someone up: part of a handle or an email, any case.
        stmt = stmt.where(
            func.lower(User.handle).contains(q, autoescape=True) | func.lower(User.email).contains(q, autoescape=True)
        )
    if role is not None:
        stmt = stmt.where(User.role == role)
    if suspended is not None:
        stmt = stmt.where(User.disabled_at.is_not(None) if suspended else User.disabled_at.is_(None))
    return await paginate(session, stmt, params, [User.id])


async def count_by_role(session: AsyncSession) -> dict[Role, int]:
    rows = await session.execute(select(User.role, func.count()).group_by(User.role))
    return {Role(r): int(n) for r, n in rows.all()}


async def count_suspended(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User).where(User.disabled_at.is_not(None))) or 0)


async def get_many(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, User]:
    if not ids:
        return {}
    rows = await session.scalars(select(User).where(User.id.in_(set(ids))))
    return {u.id: u for u in rows}


async def get_by_handle_key(session: AsyncSession, key: str) -> User | None:
    return (await session.scalars(select(User).where(User.handle_key == key))).one_or_none()


async def fresh(session: AsyncSession, user_id: uuid.UUID) -> User:
    """The account as stored now (after a bulk update the session's copy may be stale)."""
    stmt = select(User).where(User.id == user_id).execution_options(populate_existing=True)
    return (await session.scalars(stmt)).one()


async def mark_suspended(session: AsyncSession, user_id: uuid.UUID, at: datetime, reason: str, by: uuid.UUID) -> bool:
    """Suspend unless already suspended (one conditional update, so two operators at once
    suspend it once); its tokens and sessions end with the bumped ``auth_version``."""
    stmt = (
        update(User)
        .where(User.id == user_id, User.disabled_at.is_(None))
        .values(disabled_at=at, disabled_reason=reason, disabled_by=by, auth_version=User.auth_version + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(await session.execute(stmt), "rowcount", 0))


async def clear_suspension(session: AsyncSession, user_id: uuid.UUID) -> bool:
    stmt = (
        update(User)
        .where(User.id == user_id, User.disabled_at.is_not(None))
        .values(disabled_at=None, disabled_reason=None, disabled_by=None)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(await session.execute(stmt), "rowcount", 0))


async def suspended_among(session: AsyncSession, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    rows = await session.scalars(select(User.id).where(User.id.in_(set(ids)), User.disabled_at.is_not(None)))
    return set(rows)


def suspended_ids() -> Select[uuid.UUID]:
    return select(User.id).where(User.disabled_at.is_not(None))


# Built once: paying for an order asks it of the order's supplier.
_SUSPENDED = select(User.disabled_at.is_not(None)).where(User.id == bindparam("user_id"))
_SUSPENDED_LOCKED = _SUSPENDED.with_for_update(read=True)


async def is_suspended(session: AsyncSession, user_id: uuid.UUID, *, lock: bool = False) -> bool:
    """Whether the account is suspended. ``lock`` holds the row shared until commit, so a
    suspension or reinstatement of it waits for this transaction (and it for them)."""
    found = await session.scalar(_SUSPENDED_LOCKED if lock else _SUSPENDED, {"user_id": user_id})
    return bool(found)
