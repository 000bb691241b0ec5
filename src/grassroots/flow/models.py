"""Flow tables: behaviour events (impressions, views, clicks) and the search index."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from grassroots.kernel.db import Base, UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class FlowEvent(Base):
    """One thing a viewer did with a post. Append-only; ranking reads the counters it
    moves, analytics read the rows."""

    __tablename__ = "flow_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    type: Mapped[str] = mapped_column(String(16))
    post_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, default=None)
    visitor_id: Mapped[str | None] = mapped_column(String(64), default=None)
    ms: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_flow_events_post", "post_id", "created_at"),)


class SearchDoc(Base):
    """One searchable thing (a product, a post or a user). ``text`` is what keyword
    search matches: lower-cased, indexed by trigrams (FTS5 on SQLite, pg_trgm on
    PostgreSQL), which works for Chinese as well as for words with spaces."""

    __tablename__ = "search_docs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    popularity: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("kind", "ref_id", name="uq_search_docs_kind_ref"),
        Index("ix_search_docs_kind_popularity", "kind", "popularity"),
    )
