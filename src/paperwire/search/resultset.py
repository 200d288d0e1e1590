"""The result set of one query, in each sort order (the meaning is stated in query.py).

A ``ResultSet`` is the union of
- the keyword part K: papers the lexical index matches (it applies every constraint), and
- the meaning part S: papers that entered by meaning (``meaning``: id -> similarity, already
  at or above the floor and already checked against the constraints by the caller).

Invariants (each order is a total order of exactly K | S, whatever ``n`` asks for):
- ``relevance(n)``, ``newest(n)``, ``upvotes(n)`` return the first ``n`` papers of the set in
  that order; the first ``n`` of a larger ``n`` start with them (so pages partition the set).
- ``total`` = |K| + |S - K|: exact when the lexical count is exact (``exact``).
- ``matched_by(pid)``: "lexical" for K members, "semantic" for papers whose similarity is at
  or above the floor.
"""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from paperwire.search.filters import Constraints
from paperwire.search.lexical import LexicalIndex
from paperwire.search.query import ParsedQuery

if TYPE_CHECKING:
    from paperwire.store.db import Database

Ranked = list[tuple[str, float]]


def _ts(value: dt.datetime | None) -> float:
    """Sort key of a publication time (unknown dates last, as in the index)."""
    if value is None:
        return -float(2**62)
    return value.replace(tzinfo=dt.UTC).timestamp()


@dataclass
class ResultSet:
    db: Database
    pq: ParsedQuery
    cons: Constraints
    lexical: LexicalIndex | None  # None: meaning only (semantic mode)
    prefix: bool = True
    floor: float = 0.0
    meaning: dict[str, float] = field(default_factory=dict)  # S: id -> similarity
    similarity: dict[str, float] = field(default_factory=dict)  # every similarity computed
    keyword_known: set[str] = field(default_factory=set)  # ids known to be in K
    head: Ranked | None = None  # hybrid: the fused best papers (members only)
    lexical_total: int | None = None  # |K|; None: taken from the first keyword search
    exact: bool = True

    # ---- membership ------------------------------------------------------------------------
    @property
    def meaning_only(self) -> list[str]:
        """S - K: the papers that are results by meaning alone."""
        return [p for p in self.meaning if p not in self.keyword_known]

    @property
    def total(self) -> int:
        if self.lexical_total is None:
            self._keyword(1, "relevance")
        return (self.lexical_total or 0) + len(self.meaning_only)

    def matched_by(self, pid: str) -> set[str]:
        by: set[str] = set()
        if pid in self.keyword_known:
            by.add("lexical")
        sim = self.similarity.get(pid)
        if pid in self.meaning or (sim is not None and sim >= self.floor):
            by.add("semantic")
        return by

    def keyword_members(self, ids: list[str]) -> set[str]:
        """The given papers that are in K (decided by the lexical index)."""
        if self.lexical is None or not ids:
            return set()
        if self.pq.has_text:
            found = set(self.lexical.score_ids(self.pq, self.cons, ids, prefix=self.prefix))
        else:
            found = self.lexical.filter_ids(self.cons, ids)
        self.keyword_known |= found
        return found

    # ---- orders ----------------------------------------------------------------------------
    def _keyword(self, n: int, order: str) -> Ranked:
        if self.lexical is None or n <= 0:
            self.lexical_total = self.lexical_total or 0
            return []
        if not self.pq.has_text:
            order = "newest"  # filters only: every paper passing them, newest first
        res = self.lexical.search(self.pq, self.cons, limit=n, order=order, prefix=self.prefix)
        if self.lexical_total is None:
            # The index's count does not depend on the limit (lexical/ranking.py), so any search of
            # this set gives |K|: one search serves the page and the total.
            self.lexical_total, self.exact = res.total, res.exact
        self.keyword_known |= {p for p, _ in res.hits}
        return res.hits

    def relevance(self, n: int) -> Ranked:
        if self.lexical is None:
            return sorted(self.meaning.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        if not self.pq.has_text:
            return self.newest(n)
        if self.head is None:
            return self._keyword(n, "relevance")
        if n <= len(self.head):
            return self.head[:n]
        # After the fused head: the rest of K in BM25 order (the head holds the lexical pool
        # and every S paper, so what follows is keyword matches only).
        seen = {p for p, _ in self.head}
        tail = [h for h in self._keyword(n + len(self.head), "relevance") if h[0] not in seen]
        return (self.head + tail)[:n]

    def newest(self, n: int) -> Ranked:
        """Newest first: K in the index's order, merged by date with S - K (by date, id)."""
        from paperwire.store.search import sort_keys

        keyword = self._keyword(n, "newest")
        extra = self.meaning_only if self.lexical is not None else list(self.meaning)
        if not extra:
            return keyword[:n]
        with self.db.session() as session:
            keys = sort_keys(session, [p for p, _ in keyword] + extra)
        pub = {pid: _ts(k[1]) for pid, k in keys.items()}
        extra_sorted = sorted(extra, key=lambda p: (-pub.get(p, -float(2**62)), p))
        # heapq.merge is stable: on equal dates the keyword part comes first.
        merged = heapq.merge(
            [(-pub.get(p, -float(2**62)), 0, p) for p, _ in keyword],
            [(-pub.get(p, -float(2**62)), 1, p) for p in extra_sorted],
            key=lambda t: t[0],
        )
        out: Ranked = []
        for _, _, pid in merged:
            out.append((pid, self.meaning.get(pid, 0.0)))
            if len(out) >= n:
                break
        return out

    def upvotes(self, n: int) -> Ranked:
        """Most upvoted first (ties newest first); papers without upvotes follow, newest
        first. Exact: every upvoted paper is checked for membership."""
        from paperwire.store.search import upvoted

        with self.db.session() as session:
            ranked = upvoted(session)
        ids = [pid for pid, _, _ in ranked]
        members = self.keyword_members(ids) | {p for p in ids if p in self.meaning}
        top = [(pid, float(up)) for pid, up, _ in ranked if pid in members]
        if n <= len(top):
            return top[:n]
        rest = [h for h in self.newest(n + len(top)) if h[0] not in members]
        return (top + [(p, 0.0) for p, _ in rest])[:n]
