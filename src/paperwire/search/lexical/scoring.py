"""Scoring not-yet-indexed papers in Python as the index would (BM25 over the same fields).

Invariant: ``score_delta`` matches a paper exactly when the tantivy query of the same
``CompiledQuery`` would match its index copy, and scores it with tantivy's BM25 (k1=1.2,
b=0.75; idf from the live index's document frequencies, field lengths from the averages
sampled at rebuild), so delta papers and indexed papers rank on one scale.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import tantivy

from paperwire.search.filters import phrase_in, row_matches
from paperwire.search.lexical import weights
from paperwire.search.lexical.compiler import CompiledQuery
from paperwire.search.lexical.delta import DeltaDoc

K1, B = 1.2, 0.75
# Field lengths assumed when a generation's state has none.
DEFAULT_AVG_LEN = {"title": 10.0, "body": 160.0, "authors": 8.0}


def _idf(n_docs: int, df: int) -> float:
    return math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))


def _bm25(tf: int, length: int, avg: float, idf: float) -> float:
    if tf <= 0:
        return 0.0
    norm = K1 * (1 - B + B * length / max(avg, 1.0))
    return idf * (1 + K1) * tf / (tf + norm)


def score_delta(doc: DeltaDoc, cq: CompiledQuery, stats: Stats) -> float | None:
    """BM25 score of one paper as the index would give it (None: it does not match)."""
    if doc.row.hidden or not row_matches(doc.row, cq.cons):
        return None
    score = 0.0
    matched = False
    for stem in cq.stems:
        for tf_map, toks, name, boost in (
            (doc.title_tf, doc.title, "title", weights.TITLE_BOOST),
            (doc.body_tf, doc.body, "body", weights.BODY_BOOST),
        ):
            tf = tf_map.get(stem, 0)
            if tf:
                matched = True
                score += boost * _bm25(tf, len(toks), stats.avg_len[name], stats.idf(name, stem))
    for word in cq.author_words:
        tf = doc.authors_tf.get(word, 0)
        if tf:
            matched = True
            score += weights.AUTHOR_BOOST * _bm25(
                tf, len(doc.authors), stats.avg_len["authors"], stats.idf("authors", word)
            )
    for prefix in cq.prefixes:
        if any(w.startswith(prefix) for w in doc.words):
            matched = True
            score += weights.PREFIX_SCORE
    for phrase in cq.phrases:
        hit = False
        for toks, name, boost in (
            (doc.title, "title", weights.TITLE_BOOST * weights.PHRASE_BOOST),
            (doc.body, "body", weights.PHRASE_BOOST),
        ):
            pf = phrase_in(toks, phrase)
            if pf:
                hit = True
                idf = sum(stats.idf(name, s) for _, s in phrase)
                score += boost * _bm25(pf, len(toks), stats.avg_len[name], idf)
        if not hit:
            return None
    # As the index query: with words, one of them must match (phrases are constraints on top);
    # a query of phrases only matches on its phrases. (A phrase hit alone used to count as a
    # match here: a not-yet-indexed paper entered "kerne \"user how\"" without "kerne*".)
    if (cq.stems or cq.author_words or cq.prefixes) and not matched:
        return None
    return score


@dataclass
class Stats:
    searcher: tantivy.Searcher
    avg_len: dict[str, float]
    _cache: dict[tuple[str, str], float] = field(default_factory=dict)

    @classmethod
    def of(cls, searcher: tantivy.Searcher, avg_len: dict[str, float] | None) -> Stats:
        """Statistics of a searcher, with a generation's sampled field lengths."""
        return cls(searcher, avg_len or DEFAULT_AVG_LEN)

    def idf(self, fieldname: str, term: str) -> float:
        key = (fieldname, term)
        if key not in self._cache:
            n = max(self.searcher.num_docs, 1)
            self._cache[key] = _idf(n, self.searcher.doc_freq(fieldname, term))
        return self._cache[key]
