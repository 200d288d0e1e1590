"""The first visit of "For you": follow a few topics and save papers one already likes, so the
recommender has something to learn from (issue 13 B).

Invariants: topics are validated like every followed topic (the search language; a topic that
searches for nothing is refused with the reason) and papers are saved only when they are in
Paperwire (visible); nothing else is changed, and running it twice changes nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from paperwire.errors import BadInput
from paperwire.recommend.features import PaperText
from paperwire.store.db import Database

MAX_PASTED = 100
_SPLIT = re.compile(r"[\s,;]+")


@dataclass
class OnboardResult:
    topics: list[str] = field(default_factory=list)
    saved: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    def message(self) -> str:
        bits = []
        if self.topics:
            bits.append(f"following {len(self.topics)} topic{'s' if len(self.topics) != 1 else ''}")
        if self.saved:
            bits.append(f"saved {len(self.saved)} paper{'s' if len(self.saved) != 1 else ''}")
        text = ("Done: " + " and ".join(bits) + ".") if bits else "Nothing was changed."
        if self.unknown:
            text += (
                " Not in Paperwire yet (submit or import them first): "
                + ", ".join(self.unknown[:10])
                + ("…" if len(self.unknown) > 10 else "")
            )
        return text


def paper_ids(text: str) -> tuple[list[str], list[str]]:
    """(arXiv ids, pieces that are not one) of pasted text: ids or arXiv links, any separators."""
    from paperwire.ingest.arxiv_ids import normalize_arxiv_id

    ids, bad = [], []
    for piece in _SPLIT.split(text or ""):
        if not piece:
            continue
        try:
            pid, _version = normalize_arxiv_id(piece)
        except (BadInput, ValueError):
            bad.append(piece)
            continue
        if pid not in ids:
            ids.append(pid)
    return ids, bad


def clean_topics(raw: list[str]) -> list[str]:
    from paperwire.digest.topics import validate_topics

    topics = validate_topics([{"kind": "query", "value": t} for t in raw if t and t.strip()])
    return [t["value"] for t in topics]


def onboard(db: Database, user_id: int, topics: list[str], papers_text: str) -> OnboardResult:
    """Follow ``topics`` and save the pasted papers; ``BadInput`` names a bad topic or too
    many papers before anything is changed."""
    from paperwire.store import library
    from paperwire.store.papers import get_papers

    topics = clean_topics(topics)
    ids, bad = paper_ids(papers_text)
    if len(ids) > MAX_PASTED:
        raise BadInput(f"at most {MAX_PASTED} papers at once, not {len(ids)}")
    result = OnboardResult(unknown=list(bad))
    with db.session() as s:
        for t in topics:
            library.follow_topic(s, user_id, t)
            result.topics.append(t)
        found = get_papers(s, ids)
        for pid in ids:
            paper = found.get(pid)
            if paper is None or paper.hidden:
                result.unknown.append(pid)
                continue
            library.save_paper(s, user_id, pid)
            result.saved.append(pid)
    return result


def suggested_topics(pool_texts: Iterable[PaperText], n: int = 8) -> list[str]:
    """The period's most common categories as followable topics (``cat:cs.CL``)."""
    from collections import Counter

    counts = Counter(t.categories[0] for t in pool_texts if t.categories)
    return [f"cat:{c}" for c, _ in counts.most_common(n)]
