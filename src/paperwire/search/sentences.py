"""Sentence vectors: the texts embedded per abstract sentence, and the query-time re-scoring.

A paper's semantic score in hybrid search is ``(cos(q, paper) + lam * max_s cos(q, s)) /
(1 + lam)`` where ``s`` runs over the paper's "Title. Sentence" vectors: a claim supported by
one sentence of an abstract is found even when the abstract as a whole is about more
(SciFact: +0.8..1.1 nDCG@10 points, bench/relevance.py, docs/benchmarks.md).

Invariants (pure functions, no I/O):
- ``split_sentences`` (markup/sentences.py, re-exported here) states its own invariants.
- ``sentence_texts`` puts the paper's title in front of every sentence, the same way
  ``embed.paper_text`` joins title and abstract.
- ``rescore`` keeps the candidate order stable and falls back to the paper cosine for a paper
  without sentence vectors, so papers not yet embedded are not penalized.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# The splitter is shared with summary/keysentence.py, so it lives in the pure leaf markup/.
from paperwire.markup.sentences import (
    ABBREVIATIONS,
    MAX_SENTENCES,
    MAX_WORDS,
    split_sentences,
)


def sentence_texts(
    title: str | None, abstract: str | None, *, max_sentences: int = MAX_SENTENCES
) -> list[str]:
    """ "Title. Sentence" for every sentence of the abstract (none without an abstract)."""
    from paperwire.search.embed import paper_text

    return [paper_text(title, s) for s in split_sentences(abstract, max_sentences=max_sentences)]


def max_sentence_cosine(query: np.ndarray, vectors: np.ndarray) -> float | None:
    """Best cosine of a unit query with a paper's sentence vectors (None: no vectors)."""
    if vectors is None or not len(vectors):
        return None
    return float(np.max(vectors @ query))


def rescore(
    candidates: Sequence[tuple[str, float]], best: Mapping[str, float], weight: float
) -> list[tuple[str, float]]:
    """(paper, cos) -> (paper, (cos + weight * best sentence cos) / (1 + weight)), best first.

    A paper missing from ``best`` keeps its paper cosine (not embedded with sentences yet).
    Ties are broken by paper id.
    """
    out = []
    for pid, cos in candidates:
        b = best.get(pid)
        out.append((pid, cos if b is None else (cos + weight * b) / (1.0 + weight)))
    return sorted(out, key=lambda kv: (-kv[1], kv[0]))


__all__ = [
    "MAX_SENTENCES",
    "MAX_WORDS",
    "ABBREVIATIONS",
    "split_sentences",
    "sentence_texts",
    "max_sentence_cosine",
    "rescore",
]
