"""Answering queries from one ``View``: the index's searcher and the delta, merged.

Invariants:
- A paper of the delta is answered by the Python scorer only: its index copy (an older
  version, or none) is skipped ("shadowed"), also in counts.
- Scores of index hits and delta papers are on one scale (scoring.py), so merged lists are
  ordered by score alone; ties keep tantivy's order (by document address), which does not
  depend on the page size, so pages never overlap or skip.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import tantivy

from paperwire.search.filters import Constraints, date_bounds_ts, row_matches
from paperwire.search.lexical.compiler import CompiledQuery, tantivy_query
from paperwire.search.lexical.delta import Delta
from paperwire.search.lexical.documents import timestamp
from paperwire.search.lexical.scoring import Stats, score_delta

# Totals of ranked word queries are counted exactly in an index of at most this many papers
# (counting visits every match, which top-k pruning avoids); above, they are estimates.
EXACT_COUNT_MAX_DOCS = 200_000
# Words with only date bounds: the top DATE_PREFILTER_FACTOR x k papers of the words alone
# (block-max WAND, fast) are filtered by their publication date; the full intersection runs
# only when fewer than k of them pass.
DATE_PREFILTER_FACTOR = 8
DATE_PREFILTER_MIN = 200
# Newest first in a large index: sorting by date must visit every match (a common word matches
# most papers: 12 ms at 1M), so the query is first run over the newest papers only, in windows
# that end at +infinity and start NEWEST_WINDOW_DAYS, then x NEWEST_WINDOW_GROWTH, ... before
# the index's newest date (0.3 ms at 1M). Only for queries with a word in at least
# NEWEST_WINDOW_MIN_DF papers (rarer ones sort their few matches at once).
NEWEST_WINDOW_DAYS = 7
NEWEST_WINDOW_GROWTH = 4
NEWEST_WINDOW_STEPS = 7  # 7 days .. 78 years, then the whole index
NEWEST_WINDOW_MIN_DF = 20_000

# A tantivy hit: (score, address); the score is a float, or the sort value when the search
# was ordered by a field.
Hit = tuple[Any, tantivy.DocAddress]


@dataclass
class LexicalResult:
    hits: list[tuple[str, float]]
    total: int
    exact: bool = True  # False: ``total`` is an estimate (counting would cost a full scan)


@dataclass
class View:
    """What one call answers from: a searcher of the live generation, that generation's
    frequent stems and field lengths, and the delta (read before the searcher was taken)."""

    schema: tantivy.Schema
    searcher: tantivy.Searcher
    pair_stems: frozenset[str]
    avg_len: dict[str, float] | None
    delta: Delta
    # The index's newest publication time (epoch seconds), or None: computed on first use
    # (an aggregation over every paper), once per generation by the caller.
    newest_anchor: Callable[[], int | None] = lambda: None

    def paper_id(self, addr: tantivy.DocAddress) -> str:
        return str(self.searcher.doc(addr)["id"][0])

    def stats(self) -> Stats:
        return Stats.of(self.searcher, self.avg_len)

    def ids_query(self, ids: list[str]) -> tantivy.Query:
        return tantivy.Query.term_set_query(self.schema, "id", ids)


def top(view: View, cq: CompiledQuery, *, limit: int, offset: int, order: str) -> LexicalResult:
    """Top ``limit`` papers after ``offset``; ``order`` is "relevance" or "newest"."""
    searcher, delta, cons = view.searcher, view.delta, cq.cons
    query = tantivy_query(view.schema, cq, view.pair_stems)
    if query is None:
        return LexicalResult([], 0)
    want = offset + limit
    # Newest first (also for filters only: their scores are all equal).
    newest = order == "newest" or not cq.has_text
    # Counting every match defeats top-k pruning (a common word matches most papers), so
    # in a large index ranked text queries estimate the total unless the results run out
    # on this page; up to EXACT_COUNT_MAX_DOCS papers counting is cheap and exact.
    counting = not cq.has_text or searcher.num_docs <= EXACT_COUNT_MAX_DOCS
    top: list[Hit] | None = None
    count: int | None = None  # of the search below when ``counting``
    if (
        not counting
        and not newest
        and not cq.phrases
        and not cons.categories
        and not cons.authors
        and not cons.has
        and (cons.date_from or cons.date_to)
    ):
        top = words_then_dates(view, cq, want + len(delta))
    if top is None and newest and not counting and cq.has_text:
        top = newest_in_windows(view, cq, query, want + len(delta))
    if top is None:
        if newest:
            result = searcher.search(
                query,
                limit=want + len(delta),
                count=counting,
                order_by_field="published",
                order=tantivy.Order.Desc,
            )
        else:
            result = searcher.search(query, limit=want + len(delta), count=counting)
        top = result.hits
        count = _count(result) if counting else None
    hits: list[tuple[str, float, int]] = []
    shadowed = 0
    for score, addr in top:
        pid = view.paper_id(addr)
        if pid in delta:
            shadowed += 1
            continue
        hits.append((pid, float(score), 0))
    stats = view.stats()
    added = 0
    for pid, doc in delta.items():
        if doc is None:
            continue
        s = score_delta(doc, cq, stats)
        if s is None:
            continue
        added += 1
        hits.append((pid, s if not newest else float(timestamp(doc.row.published_at)), 0))
    if newest:
        hits.sort(key=lambda h: -h[1])
        # Scores were publication timestamps; report them as relevance-free zeros.
        hits = [(pid, 0.0, 0) for pid, _, _ in hits]
    else:
        # Stable sort on score alone: ties keep tantivy's order (by document address),
        # which is the same whatever the page size, so pages never overlap or skip.
        hits.sort(key=lambda h: -h[1])
    exact = True
    total: int
    if count is not None:
        if delta:
            # Index copies of not-yet-indexed papers that match: replaced by the delta.
            shadowed = _count(
                searcher.search(
                    tantivy.Query.boolean_query(
                        [
                            (tantivy.Occur.Must, query),
                            (tantivy.Occur.Must, view.ids_query(list(delta))),
                        ]
                    ),
                    limit=1,
                    count=True,
                )
            )
        total = max(count - shadowed, 0) + added
    elif len(top) < want + len(delta):
        total = len(hits)  # every match is in hand
    else:
        # An estimate that does not depend on the page: the most papers one word is in
        # (papers matched by a prefix only are not counted; the fetched hits bound it
        # from below only when no exact word occurs at all).
        exact = False
        dfs = [searcher.doc_freq(f, s) for s in cq.stems for f in ("title", "body")]
        most = max(dfs, default=0)
        total = most if most else len(hits)
    return LexicalResult([(pid, s) for pid, s, _ in hits[offset:want]], total, exact)


def _count(result: tantivy.SearchResult) -> int:
    """The number of matches of a search run with ``count=True``."""
    count: int = result.count  # type: ignore[attr-defined]  # tantivy's stub lacks it
    return count


def words_then_dates(view: View, cq: CompiledQuery, k: int) -> list[Hit] | None:
    """Top ``k`` (score, address) of a words query with date bounds, taken from the top
    hits of the words alone: when at least ``k`` of those pass the dates (or they are all
    the word matches), they are exactly the top ``k`` of words AND dates (the date clause
    adds no score). None: too few passed, run the full query."""
    searcher = view.searcher
    lo, hi = date_bounds_ts(cq.cons)
    lo = -(2**62) if lo is None else lo
    hi = 2**62 if hi is None else hi
    words = dataclasses.replace(cq, cons=dataclasses.replace(cq.cons, date_from=None, date_to=None))
    query = tantivy_query(view.schema, words, view.pair_stems)
    assert query is not None  # ``cq`` has words (the caller's condition): so does ``words``
    n = max(DATE_PREFILTER_MIN, DATE_PREFILTER_FACTOR * k)
    res = searcher.search(query, limit=n, count=False)
    if not res.hits:
        return []
    published = searcher.fast_field_values("published", [addr for _, addr in res.hits])
    kept = [hit for hit, ts in zip(res.hits, published) if ts is not None and lo <= ts <= hi]
    if len(kept) >= k or len(res.hits) < n:
        return kept[:k]
    return None


def newest_in_windows(
    view: View, cq: CompiledQuery, query: tantivy.Query, k: int
) -> list[Hit] | None:
    """The ``k`` newest matches of ``query`` (as the full date-ordered search returns them),
    found among the newest papers first; None: the full search is needed (too few matches in
    the widest window, no dated paper, or a query whose matches are few anyway).

    Exact: a window holds every paper published at or after its start, so once it has ``k``
    matches they are the ``k`` newest of all; papers of equal date around the k-th are all in
    the window, so ties come out in the full search's order. The anchor may be older than
    papers folded in since it was taken: a window ends at +infinity, so it only gets wider."""
    searcher = view.searcher
    if not cq.prefixes and not cq.author_words:
        dfs = [searcher.doc_freq("body", s) for s in cq.stems]
        if max(dfs, default=0) < NEWEST_WINDOW_MIN_DF:
            return None
    anchor = view.newest_anchor()
    if anchor is None:
        return None
    O, Q = tantivy.Occur, tantivy.Query  # noqa: E741 - as in tantivy_query
    span = NEWEST_WINDOW_DAYS * 86_400
    for _ in range(NEWEST_WINDOW_STEPS):
        window = Q.range_query(
            view.schema, "published", tantivy.FieldType.Integer, anchor - span, 2**62
        )
        bounded = Q.boolean_query([(O.Must, query), (O.Must, Q.const_score_query(window, 0.0))])
        hits: list[Hit] = searcher.search(
            bounded, limit=k, count=False, order_by_field="published", order=tantivy.Order.Desc
        ).hits
        if len(hits) >= k:
            return hits
        span *= NEWEST_WINDOW_GROWTH
    return None


def newest_published(searcher: tantivy.Searcher) -> int | None:
    """The largest ``published`` value of the index (None: empty, or no paper has a date)."""
    try:
        agg = searcher.aggregate(
            tantivy.Query.all_query(), {"newest": {"max": {"field": "published"}}}
        )
        value = agg["newest"]["value"]
    except (ValueError, KeyError, TypeError):
        return None
    if value is None or value <= -(2**61):  # no paper at all, or only undated ones
        return None
    return int(value)


def passing(view: View, cq: CompiledQuery, cons: Constraints, ids: list[str]) -> set[str]:
    """The given papers that are visible and pass the constraints and ``cq``'s phrases."""
    base = tantivy_query(view.schema, cq, view.pair_stems)
    id_set = view.ids_query(list(ids))
    query = (
        id_set
        if base is None
        else tantivy.Query.boolean_query([(tantivy.Occur.Must, base), (tantivy.Occur.Must, id_set)])
    )
    searcher, delta = view.searcher, view.delta
    keep: set[str] = set()
    for _score, addr in searcher.search(query, limit=len(ids), count=False).hits:
        pid = view.paper_id(addr)
        if pid not in delta:
            keep.add(pid)
    stats = None
    for pid in ids:
        doc = delta.get(pid)
        if doc is None:
            continue
        if cq.phrases:
            stats = stats or view.stats()
            if score_delta(doc, cq, stats) is not None:
                keep.add(pid)
        elif not doc.row.hidden and row_matches(doc.row, cons):
            keep.add(pid)
    return keep


def members(
    view: View, cq: CompiledQuery, cons: Constraints, ids: list[str]
) -> tuple[set[str], set[str]]:
    """``(passing, matching)`` of the given papers in one index pass (see
    ``LexicalIndex.members``)."""
    words = dataclasses.replace(cq, phrases=[], cons=Constraints())
    words_q = (
        tantivy_query(view.schema, words) if (cq.stems or cq.author_words or cq.prefixes) else None
    )
    filt = dataclasses.replace(cq, stems=[], author_words=[], prefixes=[])
    base = tantivy_query(view.schema, filt, view.pair_stems)
    O, Q = tantivy.Occur, tantivy.Query  # noqa: E741 - as in tantivy_query
    # Score-free (a bare term set scores every match): only the word clauses score.
    clauses = [(O.Must, Q.const_score_query(view.ids_query(list(ids)), 0.0))]
    if base is not None:
        clauses.append((O.Must, Q.const_score_query(base, 0.0)))
    if words_q is not None:
        clauses.append((O.Should, words_q))
    searcher, delta = view.searcher, view.delta
    passing: set[str] = set()
    matching: set[str] = set()
    for score, addr in searcher.search(Q.boolean_query(clauses), limit=len(ids), count=False).hits:
        pid = view.paper_id(addr)
        if pid in delta:
            continue
        passing.add(pid)
        if words_q is None or score > 0:
            matching.add(pid)
    stats = None
    for pid in ids:
        doc = delta.get(pid)
        if doc is None:
            continue
        stats = stats or view.stats()
        if cq.phrases:
            if score_delta(doc, filt, stats) is not None:
                passing.add(pid)
        elif not doc.row.hidden and row_matches(doc.row, cons):
            passing.add(pid)
        if score_delta(doc, cq, stats) is not None:
            matching.add(pid)
    return passing, matching


def scores(view: View, cq: CompiledQuery, query: tantivy.Query, ids: list[str]) -> dict[str, float]:
    """BM25 scores of the given papers that match ``query`` (``cq``'s tantivy query)."""
    restricted = tantivy.Query.boolean_query(
        [
            (tantivy.Occur.Must, query),
            (
                tantivy.Occur.Must,
                tantivy.Query.const_score_query(view.ids_query(list(ids)), 0.0),
            ),
        ]
    )
    searcher, delta = view.searcher, view.delta
    out: dict[str, float] = {}
    for score, addr in searcher.search(restricted, limit=len(ids), count=False).hits:
        pid = view.paper_id(addr)
        if pid not in delta:
            out[pid] = float(score)
    stats = view.stats()
    for pid in ids:
        doc = delta.get(pid)
        if doc is not None:
            s = score_delta(doc, cq, stats)
            if s is not None:
                out[pid] = s
    return out
