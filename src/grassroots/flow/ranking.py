"""Discover ranking behind one interface, so a learned ranker can replace it.

v1 scores engagement with time decay (the Hacker News "gravity" form): purchases
count most, then shares, comments and favourites, then likes; views only break ties.
Then no author may fill more than two slots in a row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

MAX_RUN = 2  # posts in a row by one author


@dataclass(frozen=True, slots=True)
class Candidate:
    post_id: uuid.UUID
    author_id: uuid.UUID
    created_at: datetime
    likes: int = 0
    comments: int = 0
    favorites: int = 0
    shares: int = 0
    orders: int = 0
    views: int = 0


class Ranker(Protocol):
    @property
    def name(self) -> str: ...

    def rank(self, candidates: Sequence[Candidate], now: datetime) -> list[Candidate]:
        """The candidates best first (every candidate once)."""
        ...


@dataclass(frozen=True, slots=True)
class EngagementRanker:
    name: str = "engagement-v1"
    gravity: float = 1.5
    weights: tuple[float, float, float, float, float, float] = (1.0, 2.0, 2.0, 3.0, 5.0, 0.01)

    def score(self, c: Candidate, now: datetime) -> float:
        wl, wc, wf, ws, wo, wv = self.weights
        engagement = (
            1 + wl * c.likes + wc * c.comments + wf * c.favorites + ws * c.shares + wo * c.orders + wv * c.views
        )
        age_hours = max(0.0, (now - c.created_at).total_seconds() / 3600)
        return float(engagement / (age_hours + 2) ** self.gravity)

    def rank(self, candidates: Sequence[Candidate], now: datetime) -> list[Candidate]:
        ordered = sorted(candidates, key=lambda c: (-self.score(c, now), c.post_id))
        return spread_authors(ordered)


def spread_authors(ordered: Sequence[Candidate], max_run: int = MAX_RUN) -> list[Candidate]:
    """Keep the order, but when a post would be the (max_run+1)-th in a row by its
    author, pull forward the best-placed post by someone else. Only when nobody else
    is left may one author run on (there is nothing to interleave)."""
    pending = list(ordered)
    out: list[Candidate] = []
    run_author: uuid.UUID | None = None
    run = 0
    while pending:
        pick = 0
        if run >= max_run and pending[0].author_id == run_author:
            pick = next((i for i, c in enumerate(pending) if c.author_id != run_author), 0)
        c = pending.pop(pick)
        if c.author_id == run_author:
            run += 1
        else:
            run_author, run = c.author_id, 1
        out.append(c)
    return out
