"""Storage: the declarative base, column types that behave the same on SQLite and
PostgreSQL, and the ``Database`` that owns the engine.

SQLite (embedded mode) runs in WAL mode; write transactions start with
``BEGIN IMMEDIATE`` behind an in-process lock so concurrent writers queue up instead
of failing with "database is locked" when a read upgrades to a write.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    JSON,
    ColumnElement,
    DateTime,
    MetaData,
    Table,
    any_,
    bindparam,
    event,
    insert,
    inspect,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from grassroots.kernel.errors import Conflict

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")

WRITE_OPTION = "grassroots_write"


def table(model: type[Base]) -> Table:
    """A model's table, for Core statements built once on hot paths."""
    return cast(Table, model.__table__)


def in_param(column: ColumnElement[Any] | InstrumentedAttribute[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """``column IN :name`` for a statement built once; pass a list as ``name``. On
    PostgreSQL as ``= ANY(:name)`` with one array parameter: the statement text is the same
    for any number of values, so every batch size reuses one prepared statement instead of
    preparing one per size."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


async def insert_if_absent(session: AsyncSession, model: type[Base], **values: Any) -> bool:
    """``INSERT … ON CONFLICT DO NOTHING``: True when the row was inserted, False when a row
    with the same unique key exists. One statement and no savepoint. On PostgreSQL a
    concurrent insert of the same key waits for the other transaction; once it commits,
    this answers False and a following read sees its row.

    A Core statement on the table: pending ORM changes are not flushed first (flush them if
    the row refers to one), and a key that names no column is refused, not dropped."""
    dialect = session.get_bind().dialect.name
    found = _INSERT_IGNORE.get((model, dialect))
    if found is None:
        # Built once per table: values travel as parameters (building them in costs more
        # than the round trip on hot paths such as idempotency keys and webhook receipts).
        built: Any
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            built = pg_insert(table(model)).on_conflict_do_nothing()
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            built = sqlite_insert(table(model)).on_conflict_do_nothing()
        found = _INSERT_IGNORE[(model, dialect)] = (built, frozenset(table(model).c.keys()))
    stmt, columns = found
    if not columns.issuperset(values):
        raise ValueError(f"{model.__name__} has no column(s) {sorted(set(values) - columns)}")
    result = await session.execute(stmt, values)
    return bool(getattr(result, "rowcount", 0))


_INSERT_IGNORE: dict[tuple[type[Base], str], tuple[Any, frozenset[str]]] = {}


async def insert_new(session: AsyncSession, *objects: Base) -> None:
    """INSERT new objects now with Core statements, not the ORM's flush (which costs more CPU
    than the statements themselves on the checkout path). What was set on an object is
    written; a column left unset, or set to None where the column has a default, gets its
    default (as a flush does), in the database only. The objects stay transient: fine to read
    and return, but the session does not track them (to change a row later, load it).
    Neighbouring objects of one table with the same columns share a statement, and rows go
    in the order given (order items rely on it, ADR 0015)."""
    rows: list[tuple[Table, dict[str, Any]]] = []
    for obj in objects:
        mapper = inspect(obj).mapper
        columns = _COLUMNS.get(mapper.class_)
        if columns is None:
            columns = _COLUMNS[mapper.class_] = [
                (p.key, p.columns[0].key, p.columns[0].default is not None) for p in mapper.column_attrs
            ]
        set_ = obj.__dict__
        row = {
            column: set_[attr]
            for attr, column, has_default in columns
            if attr in set_ and not (has_default and set_[attr] is None)
        }
        rows.append((cast(Table, mapper.local_table), row))
    for (tbl, _), run in itertools.groupby(rows, key=lambda r: (r[0], frozenset(r[1]))):
        batch = [row for _, row in run]
        stmt = _INSERTS.get(tbl)
        if stmt is None:
            stmt = _INSERTS[tbl] = insert(tbl)
        await session.execute(stmt, batch if len(batch) > 1 else batch[0])


_COLUMNS: dict[type[Any], list[tuple[str, str, bool]]] = {}
_INSERTS: dict[Table, Any] = {}


COMMIT_CONFLICT = "GR409"  # SQLSTATE our PostgreSQL triggers raise for a rule broken at commit


def commit_conflict(exc: DBAPIError) -> Conflict | None:
    """The 409 for a rule the database enforced at commit (a deferred trigger raising
    SQLSTATE GR409 with the error code as MESSAGE, the text as HINT and ``field=value`` as
    DETAIL); None for any other database error."""
    if getattr(exc.orig, "sqlstate", None) != COMMIT_CONFLICT:
        return None
    raised = exc.orig.__cause__ if exc.orig is not None else None
    code = getattr(raised, "message", None) or "conflict"
    text_ = getattr(raised, "hint", None) or "The change conflicts with the current state."
    name, _, value = (getattr(raised, "detail", None) or "").partition("=")
    return Conflict(text_, code=code, fields={name: value} if name and value else None)


@contextmanager
def database_conflicts() -> Iterator[None]:
    """Inside this block, a rule the database enforced (``commit_conflict``) raises its 409."""
    try:
        yield
    except DBAPIError as exc:
        conflict = commit_conflict(exc)
        if conflict is None:
            raise
        raise conflict from exc


class Database:
    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        max_overflow: int = 20,
        echo: bool = False,
        connect_args: dict[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # hide_parameters: errors and logs never carry bound values (emails, password hashes).
        kwargs: dict[str, Any] = {"echo": echo, "connect_args": connect_args or {}, "hide_parameters": True}
        if not self.is_sqlite:
            kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_recycle=RECYCLE_SECONDS)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if not self.is_sqlite:
            _ping_idle_connections(self.engine)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        # One writer at a time in this process for SQLite; PostgreSQL needs no such thing.
        self.write_lock: asyncio.Lock | None = asyncio.Lock() if self.is_sqlite else None
        if self.is_sqlite:
            _configure_sqlite(self.engine)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self, *, write: bool) -> AsyncIterator[AsyncSession]:
        """A session whose transaction the caller ends (commit or rollback)."""
        if self.write_lock is not None and write:
            async with self.write_lock, self.sessionmaker() as s:
                await s.connection(execution_options={WRITE_OPTION: True})
                yield s
        else:
            async with self.sessionmaker() as s:
                yield s

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


IDLE_PING_SECONDS = 10.0  # a pooled connection idle longer than this is checked before use
RECYCLE_SECONDS = 1800


def _ping_idle_connections(engine: AsyncEngine) -> None:
    """Like ``pool_pre_ping``, but only for connections that sat idle: a busy pool hands out
    connections used moments ago, and a round trip on every checkout costs every request
    (~0.3 ms of CPU). A connection found dead is replaced before anyone uses it."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("pooled connection is gone") from exc


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from the driver so BEGIN is ours to emit.
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
            "PRAGMA busy_timeout=30000",
        ):
            cur.execute(pragma)
        cur.close()
        # SQLite's own lower() (and so ILIKE) folds ASCII only: "Чай" would not match "чай"
        # as it does on PostgreSQL. Python's folds every script; nothing indexes lower().
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(WRITE_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
