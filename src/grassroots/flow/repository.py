"""All queries on flow tables: events and the search index (one code path per
dialect where the trigram index differs)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Integer, Select, bindparam, case, column, delete, func, select, table, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from grassroots.flow.models import FlowEvent, SearchDoc
from grassroots.kernel.db import table as table_of

TRIGRAM = 3  # the trigram index answers terms of 3+ characters; shorter ones scan


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


async def add_events(session: AsyncSession, rows: Sequence[FlowEvent]) -> None:
    session.add_all(rows)


async def upsert_doc(
    session: AsyncSession, kind: str, ref_id: uuid.UUID, title: str, body: str, popularity: int, created_at: object
) -> None:
    doc = await session.scalar(select(SearchDoc).where(SearchDoc.kind == kind, SearchDoc.ref_id == ref_id))
    if doc is None:
        doc = SearchDoc(kind=kind, ref_id=ref_id, title=title, text=body, popularity=popularity, created_at=created_at)
        session.add(doc)
    else:
        doc.title, doc.text, doc.popularity = title, body, popularity
    await session.flush()
    if _dialect(session) == "sqlite":
        await session.execute(text("DELETE FROM search_fts WHERE rowid = :id"), {"id": doc.id})
        await session.execute(text("INSERT INTO search_fts(rowid, text) VALUES (:id, :t)"), {"id": doc.id, "t": body})


async def set_popularity(session: AsyncSession, kind: str, popularity: dict[uuid.UUID, int]) -> None:
    """Update the popularity of the docs indexed for these ref ids; the text is left alone."""
    if popularity:
        params = [{"b_ref": ref, "b_pop": pop} for ref, pop in popularity.items()]
        await session.execute(_SET_POPULARITY.where(_DOCS.c.kind == kind), params)


_DOCS = table_of(SearchDoc)
_SET_POPULARITY = update(_DOCS).where(_DOCS.c.ref_id == bindparam("b_ref")).values(popularity=bindparam("b_pop"))


async def delete_doc(session: AsyncSession, kind: str, ref_id: uuid.UUID) -> None:
    doc_id = await session.scalar(select(SearchDoc.id).where(SearchDoc.kind == kind, SearchDoc.ref_id == ref_id))
    if doc_id is None:
        return
    await session.execute(delete(SearchDoc).where(SearchDoc.id == doc_id))
    if _dialect(session) == "sqlite":
        await session.execute(text("DELETE FROM search_fts WHERE rowid = :id"), {"id": doc_id})


async def delete_docs_not_in(session: AsyncSession, kind: str, keep: Select[uuid.UUID]) -> int:
    """Drop the docs of ``kind`` whose ref id ``keep`` (a subquery of ids) does not hold."""
    stale = select(SearchDoc.id).where(SearchDoc.kind == kind, SearchDoc.ref_id.not_in(keep))
    gone = list((await session.scalars(stale)).all())
    if gone:
        await session.execute(delete(SearchDoc).where(SearchDoc.id.in_(gone)))
        if _dialect(session) == "sqlite":
            fts = text("DELETE FROM search_fts WHERE rowid IN :ids").bindparams(bindparam("ids", expanding=True))
            await session.execute(fts, {"ids": gone})
    return len(gone)


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


async def search(
    session: AsyncSession, kind: str, terms: Sequence[str], offset: int, limit: int
) -> list[tuple[uuid.UUID, int]]:
    """Ref ids of the docs of ``kind`` containing every term: title hits first, then
    the more popular, then the newer. Returns (ref_id, score) pairs."""
    stmt = select(SearchDoc.ref_id, SearchDoc.popularity).where(SearchDoc.kind == kind)
    long_terms = [t for t in terms if len(t) >= TRIGRAM]
    if _dialect(session) == "sqlite" and long_terms:
        match = " AND ".join(_fts_phrase(t) for t in long_terms)
        fts = select(column("rowid", Integer)).select_from(table("search_fts")).where(text("search_fts MATCH :m"))
        stmt = stmt.where(SearchDoc.id.in_(fts.params(m=match)))
        terms = [t for t in terms if len(t) < TRIGRAM]
    for t in terms:
        # LIKE on lower-cased text; PostgreSQL answers it from the pg_trgm GIN index
        stmt = stmt.where(SearchDoc.text.contains(t, autoescape=True))
    first = (long_terms or list(terms))[0]
    title_hit = case((func.lower(SearchDoc.title).contains(first, autoescape=True), 1), else_=0)
    # Ties go to the newer source (not the newer index row: a re-index writes newest first).
    order = (title_hit.desc(), SearchDoc.popularity.desc(), SearchDoc.created_at.desc(), SearchDoc.id.desc())
    stmt = stmt.order_by(*order).offset(offset).limit(limit)
    rows = (await session.execute(stmt)).all()
    return [(row[0], int(row[1])) for row in rows]
