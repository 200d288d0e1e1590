"""What an empty result says: that nothing matched, and a near spelling where one exists.

``empty_result_help`` is called only for an empty first page. The near spelling of a query
word that no paper contains is the closest word (edit distance 1, or 2 for words of 6+
letters) that does occur in the papers the index finds by a fuzzy match on that word; the
suggested query is the user's query with that word replaced.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import TYPE_CHECKING

import tantivy

from paperwire.search import analyzer
from paperwire.search.query import ParsedQuery

if TYPE_CHECKING:
    from paperwire.search.lexical import LexicalIndex

MAX_SUGGESTIONS = 3
FUZZY_DOCS = 20  # papers read to find which indexed word the fuzzy match hit


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance with adjacent transpositions counted as one edit."""
    if a == b:
        return 0
    prev2: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if prev2 is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


def _max_distance(word: str) -> int:
    return 2 if len(word) >= 6 else 1


def near_word(lexical: LexicalIndex, word: str) -> str | None:
    """The indexed word closest to ``word`` (None: nothing close, or ``word`` occurs)."""
    from paperwire.store.search import index_rows

    lexical.ensure_open()
    index = lexical._index
    if index is None:  # ensure_open leaves it open; closed meanwhile: no suggestion
        return None
    searcher = index.searcher()
    if len(word) < 4 or searcher.doc_freq("words", word) > 0:
        return None
    dist = _max_distance(word)
    query = tantivy.Query.fuzzy_term_query(lexical.schema, "words", word, distance=dist)
    hits = searcher.search(query, limit=FUZZY_DOCS, count=False).hits
    ids = [searcher.doc(addr)["id"][0] for _, addr in hits]
    if not ids:
        return None
    counts: Counter[tuple[int, str]] = Counter()  # (distance, word) -> papers
    with lexical.db.session() as session:
        for row in index_rows(session, ids):
            for w in analyzer.words(f"{row.title}\n{row.abstract}"):
                if abs(len(w) - len(word)) <= dist and w != word:
                    d = edit_distance(w, word)
                    if d <= dist:
                        counts[(d, w)] += 1
    if not counts:
        return None
    # Closest first, then the most common among the papers read.
    (_, best), _ = min(counts.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1]))
    return best


def empty_result_help(
    lexical: LexicalIndex, pq: ParsedQuery, mode: str
) -> tuple[list[str], list[str]]:
    """(notices, suggested queries) for a query whose result set is empty."""
    words = [w for t in pq.terms for w in analyzer.words(t)]
    missing = [w for w in words if w not in analyzer.stopwords()]
    how = (
        "no paper contains" if mode == "lexical" else "no paper contains or is close in meaning to"
    )
    shown = " ".join(pq.terms + tuple(f'"{p}"' for p in pq.phrases))
    notices = [
        f"Nothing matched: {how} \u201c{shown}\u201d"
        + (" with the filters given." if pq.has_filters else ".")
    ]
    suggestions: list[str] = []
    raw = pq.raw
    for word in dict.fromkeys(missing):
        if len(suggestions) >= MAX_SUGGESTIONS:
            break
        try:
            near = near_word(lexical, word)
        except Exception:  # noqa: BLE001 - a suggestion is a nicety, never an error
            near = None
        if near:
            fixed = re.sub(
                rf"(?i)(?<![0-9A-Za-z]){re.escape(word)}(?![0-9A-Za-z])", near, raw, count=1
            )
            if fixed != raw:
                suggestions.append(fixed)
    return notices, suggestions
