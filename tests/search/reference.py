"""A deliberately simple, slow reference of what a query means (search/query.py, "Meaning of a
query"): plain Python over paper rows, one rule per line, no index, no shortcuts.

It shares only the parser (``parse_query``, tested on its own) and the word analyzers
(tokenizing and stemming are the definition of "a word", not part of the semantics). It does
not use the engine's filters, compiled queries, tantivy or the delta scorer.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass

from paperwire.search import analyzer
from paperwire.search.query import ParsedQuery, parse_query


@dataclass
class RefPaper:
    id: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    published: dt.date | None
    upvotes: int = 0
    hidden: bool = False
    links: frozenset[str] = frozenset()  # kinds of the paper's visible links


def _positions(text: str) -> list[tuple[int, str]]:
    return analyzer.stem_positions(text)


def _has_phrase(text: str, phrase: str) -> bool:
    want = _positions(phrase)
    if not want:
        return False
    base0 = want[0][0]
    rel = [(p - base0, s) for p, s in want]
    have = dict(_positions(text))
    return any(all(have.get(start + off) == stem for off, stem in rel) for start in have)


def _category_ok(pattern: str, categories: list[str]) -> bool:
    pattern = pattern.lower()
    for cat in (c.lower() for c in categories):
        if "*" in pattern:
            if fnmatch.fnmatchcase(cat, pattern):
                return True
        elif "." not in pattern:
            if cat == pattern or cat.startswith(pattern + "."):
                return True
        elif cat == pattern:
            return True
    return False


def _author_ok(value: str, authors: list[str]) -> bool:
    want = analyzer.words(value)
    if not want:
        return True
    for name in authors:
        words = analyzer.words(name)
        for i in range(len(words) - len(want) + 1):
            if words[i : i + len(want)] == want:
                return True
    return False


def passes_constraints(p: RefPaper, q: ParsedQuery) -> bool:
    """Phrases, exclusions, author:, cat:, after:/before:, has:, visibility."""
    if p.hidden:
        return False
    for phrase in q.phrases:
        if not (_has_phrase(p.title, phrase) or _has_phrase(p.abstract, phrase)):
            return False
    stems = set(analyzer.stems(p.title)) | set(analyzer.stems(p.abstract))
    author_words = {w for name in p.authors for w in analyzer.words(name)}
    for term in q.excluded_terms:
        if set(analyzer.stems(term)) & stems or set(analyzer.words(term)) & author_words:
            return False
    for phrase in q.excluded_phrases:
        if _has_phrase(p.title, phrase) or _has_phrase(p.abstract, phrase):
            return False
    if not all(_author_ok(a, p.authors) for a in q.authors):
        return False
    if q.categories and not any(_category_ok(c, p.categories) for c in q.categories):
        return False
    if q.date_from and (p.published is None or p.published < q.date_from):
        return False
    if q.date_to and (p.published is None or p.published > q.date_to):
        return False
    if any(kind not in p.links for kind in q.has):
        return False
    return True


def keyword_match(p: RefPaper, q: ParsedQuery) -> bool:
    """Contains a positive word of the query (stem, author word, or prefix where allowed);
    phrase-only and filter-only queries match every paper passing the constraints."""
    matchable = [w for t in q.terms for w in analyzer.words(t) if w not in analyzer.stopwords()]
    if not matchable:
        return True  # phrases and/or filters only (phrases are constraints, checked already)
    stems = set(analyzer.stems(p.title)) | set(analyzer.stems(p.abstract))
    words = analyzer.words(p.title) + analyzer.words(p.abstract)
    author_words = {w for name in p.authors for w in analyzer.words(name)}
    n_words = sum(len(analyzer.words(t)) for t in q.terms + q.phrases)
    for term in q.terms:
        if set(analyzer.stems(term)) & stems:
            return True
        for w in analyzer.words(term):
            if w in analyzer.stopwords():
                continue
            if w in author_words:
                return True
            if (
                len(w) >= 3
                and not (n_words > 1 and w in analyzer.COMMON_WORDS)
                and any(x.startswith(w) for x in words)
            ):
                return True
    return False


def keyword_set(papers: list[RefPaper], query: str) -> set[str]:
    """The keyword part of the result set (= the whole set in lexical mode)."""
    q = parse_query(query)
    if not q.has_text and not q.has_filters:
        return set()
    stop_only = (
        q.terms
        and not q.phrases
        and all(w in analyzer.stopwords() for t in q.terms for w in analyzer.words(t))
    )
    if stop_only:
        return set()  # only stop words: nothing to search for (the engine says so)
    return {p.id for p in papers if passes_constraints(p, q) and keyword_match(p, q)}
