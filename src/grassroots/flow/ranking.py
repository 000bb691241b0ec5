"""Discover ranking behind one interface, so a learned ranker can replace it.

v1 scores engagement with time decay (the Hacker News "gravity" form): purchases
count most, then shares, comments and favourites, then likes; views only break ties.
Then no author may fill more than two slots in a row."""

from __future__ import annotations

import heapq
import uuid
from collections import Counter
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
    """Keep the ranked order as far as possible while no author fills more than
    ``max_run`` slots in a row: take the best-placed post that is allowed now and that
    still leaves a valid arrangement of the rest (so one prolific author cannot end up
    stacked at the bottom). Only when no arrangement exists may one author run on."""
    pending = list(ordered)
    counts: Counter[uuid.UUID] = Counter(c.author_id for c in pending)
    heap = [(-n, a.hex, a) for a, n in counts.items()]
    heapq.heapify(heap)
    out: list[Candidate] = []
    run_author: uuid.UUID | None = None
    run = 0

    def top() -> tuple[uuid.UUID, int]:
        while -heap[0][0] != counts[heap[0][2]]:  # lazy: drop stale counts
            heapq.heappop(heap)
        return heap[0][2], -heap[0][0]

    def feasible(author: uuid.UUID) -> bool:
        """Whether, after placing a post by ``author``, the rest can still be spread."""
        left = len(pending) - 1
        next_run = run + 1 if author == run_author else 1
        mine = counts[author] - 1
        if mine > (max_run - next_run) + max_run * (left - mine):
            return False
        # the author with the most posts left (someone else) must still fit between the rest
        leader, n = top()
        return leader == author or n <= max_run * (left - n + 1)

    while pending:
        pick = None
        first_allowed = None
        for i, c in enumerate(pending):
            if run >= max_run and c.author_id == run_author:
                continue
            if first_allowed is None:
                first_allowed = i
            if feasible(c.author_id):
                pick = i
                break
        if pick is None:
            pick = first_allowed if first_allowed is not None else 0
        c = pending.pop(pick)
        counts[c.author_id] -= 1
        heapq.heappush(heap, (-counts[c.author_id], c.author_id.hex, c.author_id))
        if c.author_id == run_author:
            run += 1
        else:
            run_author, run = c.author_id, 1
        out.append(c)
    return out
