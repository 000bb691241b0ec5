"""The discover ranking: scores and the author-spreading rule, property-tested."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from grassroots.flow.ranking import MAX_RUN, Candidate, EngagementRanker, spread_authors

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
AUTHORS = [uuid.UUID(int=i + 1) for i in range(6)]


def longest_run(items: list[Candidate]) -> int:
    best = run = 0
    prev = None
    for c in items:
        run = run + 1 if c.author_id == prev else 1
        prev = c.author_id
        best = max(best, run)
    return best


@given(st.lists(st.integers(min_value=0, max_value=5), max_size=80))
def test_spreading_keeps_every_post_and_breaks_runs_when_possible(authors: list[int]) -> None:
    ordered = [Candidate(uuid.UUID(int=1000 + i), AUTHORS[a], NOW) for i, a in enumerate(authors)]
    out = spread_authors(ordered)
    assert sorted(c.post_id for c in out) == sorted(c.post_id for c in ordered)
    biggest = max((authors.count(a) for a in set(authors)), default=0)
    if biggest <= MAX_RUN * (len(authors) - biggest + 1):  # an arrangement exists
        assert longest_run(out) <= MAX_RUN


def test_spreading_changes_nothing_when_authors_already_alternate() -> None:
    ordered = [Candidate(uuid.UUID(int=i + 1), AUTHORS[i % 3], NOW) for i in range(9)]
    assert spread_authors(ordered) == ordered


def test_engagement_beats_freshness_until_it_decays() -> None:
    r = EngagementRanker()
    fresh = Candidate(uuid.UUID(int=1), AUTHORS[0], NOW)
    liked_yesterday = Candidate(uuid.UUID(int=2), AUTHORS[1], NOW - timedelta(hours=20), likes=40, orders=2)
    liked_last_month = Candidate(uuid.UUID(int=3), AUTHORS[2], NOW - timedelta(days=30), likes=40, orders=2)
    ranked = [c.post_id for c in r.rank([fresh, liked_yesterday, liked_last_month], NOW)]
    assert ranked == [liked_yesterday.post_id, fresh.post_id, liked_last_month.post_id]
    assert r.score(Candidate(uuid.UUID(int=4), AUTHORS[0], NOW, orders=1), NOW) > r.score(
        Candidate(uuid.UUID(int=5), AUTHORS[0], NOW, likes=1), NOW
    )
