"""Subscribers' topics and the matcher that finds the period's papers for them.

A topic is ``{"kind": "query"|"category"|"author", "value": str, "threshold": float|None}``.
Every kind is turned into a query of the search language (``cat:VALUE``,
``author:"VALUE"``) and parsed by the one search parser, ``search.query.parse_query``, so a
saved search means in a digest what it means on the search page.

Why an in-memory matcher over the period's candidates instead of one index search per
subscriber: a daily edition only ever mails papers of its period (a few hundred to a few
thousand), so the matcher indexes just those once, then answers each *distinct* topic (cached:
10,000 subscribers share far fewer topics) in microseconds. Running the whole-corpus index
10,000-30,000 times would spend almost all its work on papers outside the period.

Matching rules (same analyzers as the search index, ``search.analyzer``):
- every term must match (alerts are precise: ``single-cell atlas`` wants both words); a term
  matches its exact stem in title or abstract, or, weaker, a word starting with it
  (``seq`` -> ``scRNA-seq``, ``sequencing``);
- phrases match consecutive stems; ``-word``/``-"phrase"`` exclude;
- ``author:`` needs all of its words in one author's name; ``cat:`` any of its patterns;
  ``after:``/``before:`` bound the publication date.
- Relevance is BM25 (title counted twice) normalised to [0, 1] by the best paper of the
  period for that topic; a topic's ``threshold`` keeps papers at least that relevant.
"""

from __future__ import annotations

import bisect
import datetime as dt
import fnmatch
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from paperwire.errors import BadInput

KINDS = ("query", "category", "author")
MAX_TOPICS = 20
MAX_TOPIC_CHARS = 300
_CONTROL = {chr(c) for c in range(32)} | {"\x7f", "\u2028", "\u2029"}


# --- validation -------------------------------------------------------------------------------
def clean_text(value: str) -> str:
    """Collapse whitespace and drop control characters (CR/LF included)."""
    return " ".join("".join(" " if ch in _CONTROL else ch for ch in str(value)).split())


def validate_topics(raw: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Normalised topics, or ``BadInput`` naming the first bad one."""
    from paperwire.search.query import parse_query

    out: list[dict[str, Any]] = []
    seen = set()
    for i, item in enumerate(raw, 1):
        kind = str(item.get("kind") or "query").strip().lower()
        if kind not in KINDS:
            raise BadInput(f"topic {i}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
        value = clean_text(item.get("value") or "")
        if not value:
            continue
        if len(value) > MAX_TOPIC_CHARS:
            raise BadInput(f"topic {i}: longer than {MAX_TOPIC_CHARS} characters")
        threshold = item.get("threshold")
        if threshold in ("", None):
            threshold = None
        else:
            try:
                threshold = float(threshold)
            except (TypeError, ValueError):
                raise BadInput(f"topic {i} ({value}): threshold must be a number between 0 "
                               f"and 1, not {threshold!r}") from None
            if not 0.0 <= threshold <= 1.0 or math.isnan(threshold):
                raise BadInput(f"topic {i} ({value}): threshold must be between 0 and 1")
        parsed = parse_query(topic_query(kind, value))
        if not (parsed.has_text or parsed.authors or parsed.categories):
            why = "; ".join(parsed.notices) or "nothing to search for"
            raise BadInput(f"topic {i} ({value}): {why}")
        key = (kind, value.lower())
        if key in seen:
            continue
        seen.add(key)
        out.append({"kind": kind, "value": value, "threshold": threshold})
    if len(out) > MAX_TOPICS:
        raise BadInput(f"at most {MAX_TOPICS} topics")
    return out


def topic_query(kind: str, value: str) -> str:
    """The search-language query a topic stands for."""
    if kind == "category":
        return " ".join(f"cat:{v}" for v in value.replace(",", " ").split())
    if kind == "author":
        return f'author:"{value.replace(chr(34), "")}"'
    return value


def topic_label(topic: dict[str, Any]) -> str:
    kind, value = topic["kind"], topic["value"]
    if kind == "category":
        return f"category {value}"
    if kind == "author":
        return f"author {value}"
    return f"“{value}”"


# --- matcher -------------------------------------------------------------------------------
@dataclass
class Candidate:
    """What the matcher needs of a paper of the period."""

    id: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    published: dt.date | None


@dataclass
class _Doc:
    cats: tuple[str, ...]
    authors: tuple[frozenset[str], ...]
    published: dt.date | None
    positions: dict[str, tuple[list[int], list[int]]]   # stem -> (title pos, abstract pos)
    length: int


@dataclass
class TopicMatch:
    paper_id: str
    relevance: float      # 0..1, 1 = best paper of the period for this topic


@dataclass
class TopicMatcher:
    """Index of the period's candidates; ``match`` is cached per distinct query."""

    docs: list[_Doc] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    postings: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    words: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    sorted_words: list[str] = field(default_factory=list)
    avg_len: float = 1.0
    _cache: dict[str, list[TopicMatch]] = field(default_factory=dict)

    @classmethod
    def build(cls, candidates: Sequence[Candidate]) -> "TopicMatcher":
        from paperwire.search import analyzer

        m = cls()
        total = 0
        for idx, c in enumerate(candidates):
            positions: dict[str, tuple[list[int], list[int]]] = {}
            for slot, text in ((0, c.title), (1, c.abstract)):
                for pos, stem in analyzer.stem_positions(text):
                    positions.setdefault(stem, ([], []))[slot].append(pos)
                for w in analyzer.words(text):
                    m.words[w].add(idx)
            for stem in positions:
                m.postings[stem].add(idx)
            length = sum(len(t) + len(a) for t, a in positions.values())
            total += length
            m.docs.append(_Doc(
                cats=tuple(x.lower() for x in c.categories),
                authors=tuple(frozenset(analyzer.words(a)) for a in c.authors),
                published=c.published, positions=positions, length=max(1, length)))
            m.ids.append(c.id)
        m.sorted_words = sorted(m.words)
        m.avg_len = total / len(candidates) if candidates else 1.0
        return m

    def __len__(self) -> int:
        return len(self.ids)

    def _prefix_docs(self, word: str) -> set[int]:
        out: set[int] = set()
        i = bisect.bisect_left(self.sorted_words, word)
        while i < len(self.sorted_words) and self.sorted_words[i].startswith(word):
            out |= self.words[self.sorted_words[i]]
            i += 1
        return out

    def _term(self, term: str) -> tuple[set[int], list[str], list[str]] | None:
        """Docs matching a term, with its exact stems and prefix words; None: no content."""
        from paperwire.search import analyzer

        stems = analyzer.stems(term)
        prefixes = analyzer.prefix_words(term)
        if not stems and not prefixes:
            return None   # a stop word alone: ignored, as the search page does
        docs: set[int] | None = None
        for s in stems:
            docs = set(self.postings.get(s, ())) if docs is None else docs & self.postings.get(s, set())
        prefix_docs: set[int] | None = None
        for w in prefixes:
            pd = self._prefix_docs(w)
            prefix_docs = pd if prefix_docs is None else prefix_docs & pd
        return (docs or set()) | (prefix_docs or set()), stems, prefixes

    def _phrase_docs(self, phrase: str, within: Iterable[int]) -> set[int]:
        from paperwire.search import analyzer

        seq = analyzer.stem_positions(phrase)
        if not seq:
            return set(within)
        base = seq[0][0]
        offsets = [(p - base, s) for p, s in seq]
        out = set()
        for idx in within:
            d = self.docs[idx]
            for slot in (0, 1):
                first = d.positions.get(offsets[0][1], ([], []))[slot]
                for start in first:
                    if all(start + off in d.positions.get(s, ([], []))[slot]
                           for off, s in offsets[1:]):
                        out.add(idx)
                        break
                if idx in out:
                    break
        return out

    def _bm25(self, idx: int, stems: Sequence[str]) -> float:
        d = self.docs[idx]
        n = len(self.ids)
        k1, b = 1.2, 0.75
        score = 0.0
        for s in stems:
            pos = d.positions.get(s)
            if not pos:
                continue
            tf = 2 * len(pos[0]) + len(pos[1])
            df = len(self.postings.get(s, ()))
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * d.length / self.avg_len))
        return score

    def match(self, query: str) -> list[TopicMatch]:
        """Candidates matching ``query``, most relevant first (cached per query text)."""
        cached = self._cache.get(query)
        if cached is not None:
            return cached
        result = self._match(query)
        self._cache[query] = result
        return result

    def _match(self, query: str) -> list[TopicMatch]:
        from paperwire.search import analyzer
        from paperwire.search.query import parse_query

        q = parse_query(query)
        if q.is_empty or not self.ids:
            return []
        docs: set[int] | None = None
        rank_stems: list[str] = []
        prefix_only_penalty: dict[int, int] = defaultdict(int)
        for term in q.terms:
            hit = self._term(term)
            if hit is None:
                continue
            tdocs, stems, _ = hit
            rank_stems += stems
            exact: set[int] = set()
            for k, s in enumerate(stems):
                posting = self.postings.get(s, set())
                exact = set(posting) if k == 0 else exact & posting
            for i in tdocs - exact:
                prefix_only_penalty[i] += 1
            docs = tdocs if docs is None else docs & tdocs
        for phrase in q.phrases:
            stems = analyzer.stems(phrase)
            rank_stems += stems
            pool = set(range(len(self.ids))) if docs is None else docs
            for s in stems:
                pool = pool & self.postings.get(s, set())
            docs = self._phrase_docs(phrase, pool)
        if docs is None:
            if q.has_text:
                return []   # only stop words: nothing to look for (never "everything")
            docs = set(range(len(self.ids)))
        for term in q.excluded_terms:
            hit = self._term(term)
            if hit is not None:
                docs -= hit[0]
        for phrase in q.excluded_phrases:
            docs -= self._phrase_docs(phrase, docs)
        if q.authors:
            wanted = [frozenset(analyzer.words(a)) for a in q.authors]
            docs = {i for i in docs
                    if all(any(w <= name for name in self.docs[i].authors) for w in wanted if w)}
        if q.categories:
            docs = {i for i in docs if _cat_match(self.docs[i].cats, q.categories)}
        if q.date_from or q.date_to:
            docs = {i for i in docs if _date_ok(self.docs[i].published, q.date_from, q.date_to)}
        if not docs:
            return []
        scored = []
        for i in docs:
            # Filter-only topics (category, author) rank every match equally.
            s = self._bm25(i, rank_stems) if rank_stems else 1.0
            s /= 1 + prefix_only_penalty.get(i, 0)   # exact words above prefix-only matches
            scored.append((s, self.ids[i]))
        best = max(s for s, _ in scored) or 1.0
        scored.sort(key=lambda x: (-x[0], x[1]))
        return [TopicMatch(pid, round(s / best, 4)) for s, pid in scored]


def _cat_match(cats: Sequence[str], patterns: Sequence[str]) -> bool:
    for p in patterns:
        for c in cats:
            if "*" in p:
                if fnmatch.fnmatchcase(c, p):
                    return True
            elif c == p or c.startswith(p + ".") or (p.endswith(".") and c.startswith(p)):
                return True
    return False


def _date_ok(day: dt.date | None, lo: dt.date | None, hi: dt.date | None) -> bool:
    if day is None:
        return False
    return (lo is None or day >= lo) and (hi is None or day <= hi)
