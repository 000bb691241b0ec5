"""Schema migrations with Alembic, run programmatically over our async engine."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import Any, Literal

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import JSON
from sqlalchemy.engine import Connection

from grassroots.kernel.db import Database, UTCDateTime


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(files("grassroots") / "migrations"))
    return cfg


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _known_revisions() -> set[str]:
    return {r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _upgrade(conn: Connection, cfg: Config, target: str) -> None:
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, target)


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


async def upgrade(db: Database, target: str = "head") -> None:
    cfg = alembic_config()
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade, cfg, target)


async def current_revision(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    current: str | None
    head: str | None

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def ahead(self) -> bool:
        """The database was migrated by a newer release: a revision this one does not know."""
        return self.current is not None and self.current not in _known_revisions()

    def describe(self) -> str:
        if self.current is None:
            return "The database has no Grassroots schema yet."
        if self.ahead:
            return f"The database schema is at revision {self.current}, newer than this release ({self.head})."
        return f"The database schema is at revision {self.current}; this release needs {self.head}."


async def schema_status(db: Database) -> SchemaStatus:
    return SchemaStatus(current=await current_revision(db), head=head_revision())


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write our portable column types as plain SQLAlchemy types in migration scripts,
    so old migrations never import application code."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, JSON):
        autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        return "sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')"
    return False


UNMODELLED_PREFIXES = ("search_fts", "ix_search_docs_trgm")  # made by hand in 0003; not in the models


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Schema comparison skips what the migrations make outside the models (the FTS5
    table and its shadow tables, the trigram index)."""
    return not (reflected and name is not None and name.startswith(UNMODELLED_PREFIXES))


def run_sync_migrations(connection: Connection, target_metadata: Any) -> None:
    """Used by ``migrations/env.py``: configure Alembic on a given connection and run."""
    from alembic import context

    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()
