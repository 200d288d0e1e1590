"""Sentence vectors: the texts embedded per abstract sentence, and the query-time re-scoring.

A paper's semantic score in hybrid search is ``(cos(q, paper) + lam * max_s cos(q, s)) /
(1 + lam)`` where ``s`` runs over the paper's "Title. Sentence" vectors: a claim supported by
one sentence of an abstract is found even when the abstract as a whole is about more
(SciFact: +0.8..1.1 nDCG@10 points, bench/relevance.py, docs/benchmarks.md).

Invariants (pure functions, no I/O):
- ``split_sentences`` never splits inside ``$...$`` math, after a known abbreviation
  ("e.g.", "et al.", "Fig.", ...), after a single-letter initial, or inside a decimal
  number; it returns at most ``max_sentences`` pieces, each at most ``max_words`` words,
  with whitespace collapsed and no empty piece; joining the pieces with spaces gives back the
  (whitespace-collapsed) input up to the sentence cap.
- ``sentence_texts`` puts the paper's title in front of every sentence, the same way
  ``embed.paper_text`` joins title and abstract.
- ``rescore`` keeps the candidate order stable and falls back to the paper cosine for a paper
  without sentence vectors, so papers not yet embedded are not penalized.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

# Measured on SciFact (5,183 abstracts, 8.6 sentences on average, median 8): 97.5% have at
# most 16 sentences, 99.75% at most 24; the cap bounds embedding work and storage for the rare very long abstract.
MAX_SENTENCES = 24
# A "sentence" longer than this (a run-on list, a missing full stop) is cut into pieces of
# this many words: "Title. piece" then stays well inside the model's 256 tokens.
MAX_WORDS = 80

# Words after which a full stop does not end a sentence (lower-cased, without the dot).
ABBREVIATIONS = frozenset(
    """
e.g i.e et al cf vs viz approx resp fig figs eq eqs ref refs sec secs tab no nos vol
ch dr mr mrs ms prof st inc ltd co jr sr ca est min max avg sd std incl corr suppl
""".split()
)

_WS = re.compile(r"\s+")
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]")
# A candidate boundary: . ! or ? (optionally closing quotes/brackets), whitespace, then
# something that can start a sentence.
_BOUNDARY = re.compile(r"[.!?][\"')\]]*(?=\s+[\"'(\[$\\]?[A-Z0-9])")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)\.$")


def _protected(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _MATH.finditer(text)]


def _ends_sentence(text: str, end: int) -> bool:
    """Whether the punctuation ending at ``end`` (exclusive) closes a sentence."""
    if text[end - 1] in "!?":
        return True
    head = text[:end].rstrip("\"')]")
    m = _LAST_WORD.search(head[-24:])
    if m is None:
        return True
    word = m.group(1).lower()
    if word in ABBREVIATIONS or word.rstrip(".") in ABBREVIATIONS:
        return False
    if len(word) == 1:  # an initial ("J. Smith") or a list letter
        return False
    if "." in word.rstrip("."):  # "e.g", "i.e", "U.S."
        return False
    return True


def _cap_words(sentence: str, max_words: int) -> list[str]:
    words = sentence.split(" ")
    if len(words) <= max_words:
        return [sentence]
    return [" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words)]


def split_sentences(
    abstract: str | None, *, max_sentences: int = MAX_SENTENCES, max_words: int = MAX_WORDS
) -> list[str]:
    """The sentences of an abstract (see the module invariants)."""
    text = _WS.sub(" ", abstract or "").strip()
    if not text:
        return []
    math = _protected(text)
    pieces: list[str] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        end = m.end()
        if any(a < end <= b for a, b in math) or not _ends_sentence(text, end):
            continue
        pieces.append(text[start:end].strip())
        start = end
    pieces.append(text[start:].strip())
    out: list[str] = []
    for piece in pieces:
        if piece:
            out.extend(_cap_words(piece, max_words))
    return out[:max_sentences]


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
