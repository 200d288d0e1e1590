"""Why a paper is recommended, in words, and which candidates "not interested" removes.

Pure functions: the reason of a recommendation is the member's own signal that explains it
best (the positive paper nearest to it, the list that paper is in, the followed topic or
author that found it), said as a short phrase the pages, the API, the CLI and the digest all
show as is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Cosine (paper vectors, all-MiniLM-L6-v2) at and above which a candidate counts as a near
# duplicate of a paper the member marked "not interested" and is removed with it. At 0.90 the
# pairs are new versions, re-submissions and companion papers with the same abstract; papers
# that merely share a topic sit lower (docs/benchmarks.md: 0.0 % of same-category pairs in the
# arXiv sample reach it).
NEAR_DUPLICATE_COSINE = 0.90

SOURCES = ("saved", "upvoted", "more_like_this", "list", "topic", "author")


@dataclass(frozen=True)
class Reason:
    kind: str  # one of SOURCES
    label: str  # the title, list name, topic or author name it refers to
    paper_id: str | None = None  # the member's paper that explains it (saved/upvoted/...)

    @property
    def text(self) -> str:
        return reason_text(self.kind, self.label)


def reason_text(kind: str, label: str) -> str:
    """The phrase shown with a recommendation (titles, names and topics quoted as given)."""
    label = " ".join(str(label).split()) or "a paper"
    if len(label) > 90:
        label = label[:87].rstrip() + "…"
    if kind == "saved":
        return f"because you saved “{label}”"
    if kind == "upvoted":
        return f"because you upvoted “{label}”"
    if kind == "more_like_this":
        return f"because you asked for more like “{label}”"
    if kind == "list":
        return f"close to your list “{label}”"
    if kind == "topic":
        return f"matches your topic “{label}”"
    if kind == "author":
        return f"by {label}, whom you follow"
    raise ValueError(f"unknown reason kind {kind!r}")


def list_reason_text(list_name: str, title: str) -> str:
    """The phrase of a list's own recommendation: the list and its paper nearest to it
    (close to your list “reading group”: similar to “Mamba”)."""

    def short(text: str) -> str:
        text = " ".join(str(text).split()) or "a paper"
        return text if len(text) <= 90 else text[:87].rstrip() + "…"

    return f"{reason_text('list', list_name)}: similar to “{short(title)}”"


def near_duplicates(
    candidates: np.ndarray,
    has_vector: np.ndarray,
    rejected: np.ndarray,
    threshold: float = NEAR_DUPLICATE_COSINE,
) -> np.ndarray:
    """Mask of the candidates whose cosine to any rejected vector reaches ``threshold``
    (rows are unit vectors; candidates without a vector are never near duplicates)."""
    if not len(rejected) or not len(candidates):
        return np.zeros(len(candidates), dtype=bool)
    sims = candidates @ rejected.T
    return (sims.max(axis=1) >= threshold) & has_vector
