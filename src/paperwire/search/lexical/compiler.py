"""Query compilation: a parsed query -> ``CompiledQuery`` -> a tantivy query.

``CompiledQuery`` is what both scorers need (the tantivy query built here, and the Python
scorer of not-yet-indexed papers in scoring.py); the two must match the same papers and
score them alike (same fields, boosts from weights.py, same BM25).

Invariants of ``tantivy_query``:
- Filters (ids, categories, ``has:``, authors, dates) are score-free (``const_score`` 0):
  the score of a paper is its words' and phrases' BM25 alone, whatever the index layout.
- A phrase requires its body match (the body holds the title) and, when its words are
  frequent, the pair tokens of documents.py: same matches as the positional query alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import tantivy

from paperwire.search import analyzer
from paperwire.search.filters import Constraints, category_regex, date_bounds_ts, phrase_positions
from paperwire.search.lexical import weights
from paperwire.search.lexical.documents import phrase_pairs
from paperwire.search.query import ParsedQuery

# Prefix expansion is skipped for words that are common as whole words (in more than
# max(PREFIX_MAX_DF, PREFIX_MAX_DF_FRACTION x papers) papers): their exact matches already
# outnumber any page anyone reads, and expanding them costs the BM25 top-k pruning.
PREFIX_MAX_DF = 1000
PREFIX_MAX_DF_FRACTION = 0.002


def expander(searcher: tantivy.Searcher) -> Callable[[str], bool]:
    """``compile_query``'s ``expand``: whether a word is rare enough to match as a prefix."""
    limit = max(PREFIX_MAX_DF, PREFIX_MAX_DF_FRACTION * searcher.num_docs)
    return lambda word: searcher.doc_freq("words", word) <= limit


@dataclass
class CompiledQuery:
    """A parsed query reduced to what both scorers (tantivy and Python) need."""

    stems: list[str]  # distinct stems of the terms (BM25, title/abstract)
    author_words: list[str]  # distinct words of the terms (BM25, authors)
    prefixes: list[str]  # words matched as prefixes
    phrases: list[list[tuple[int, str]]]  # required phrases (relative position, stem)
    cons: Constraints

    @property
    def has_text(self) -> bool:
        return bool(self.stems or self.author_words or self.prefixes or self.phrases)


def compile_query(
    pq: ParsedQuery,
    cons: Constraints,
    *,
    prefix: bool = True,
    expand: Callable[[str], bool] | None = None,
) -> CompiledQuery:
    """``expand(word)``: whether a word is matched as a prefix too (default: all words)."""
    stems: list[str] = []
    author_words: list[str] = []
    prefixes: list[str] = []
    # Common words of a several-word query are whole words only (analyzer.COMMON_WORDS).
    multiword = sum(len(analyzer.words(t)) for t in pq.terms + pq.phrases) > 1
    for term in pq.terms:
        stems += analyzer.stems(term)
        author_words += [w for w in analyzer.words(term) if w not in analyzer.stopwords()]
        if prefix:
            prefixes += [
                w
                for w in analyzer.prefix_words(term, multiword=multiword)
                if expand is None or expand(w)
            ]
    phrases = [p for p in (phrase_positions(ph) for ph in pq.phrases) if p]
    return CompiledQuery(
        list(dict.fromkeys(stems)),
        list(dict.fromkeys(author_words)),
        list(dict.fromkeys(prefixes)),
        phrases,
        cons,
    )


def tantivy_query(
    schema: tantivy.Schema, cq: CompiledQuery, pair_stems: frozenset[str] = frozenset()
) -> tantivy.Query | None:
    """The tantivy query of a compiled query. ``pair_stems``: the index's frequent stems (the
    phrases' pairs of them are required through the ``pairs`` field: same matches, cheaper)."""
    O = tantivy.Occur  # noqa: E741 - short names keep the query trees readable
    Q = tantivy.Query
    should: list[tuple[tantivy.Occur, tantivy.Query]] = []
    for stem in cq.stems:
        should.append(
            (O.Should, Q.boost_query(Q.term_query(schema, "title", stem), weights.TITLE_BOOST))
        )
        should.append(
            (O.Should, Q.boost_query(Q.term_query(schema, "body", stem), weights.BODY_BOOST))
        )
    for word in cq.author_words:
        should.append(
            (O.Should, Q.boost_query(Q.term_query(schema, "authors", word), weights.AUTHOR_BOOST))
        )
    for word in cq.prefixes:
        # A one-word phrase-prefix query is a prefix range over the term dictionary: as
        # exact as a regex but ~100x cheaper to build.
        should.append(
            (
                O.Should,
                Q.const_score_query(
                    Q.phrase_prefix_query(schema, "words", [word]), weights.PREFIX_SCORE
                ),
            )
        )
    clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
    for phrase in cq.phrases:
        if len(phrase) == 1:
            stem = phrase[0][1]
            parts = [Q.term_query(schema, "title", stem), Q.term_query(schema, "body", stem)]
        else:
            parts = [
                Q.phrase_query(schema, "title", list(phrase)),
                Q.phrase_query(schema, "body", list(phrase)),
            ]
        # The body holds the title, so a title match is always a body match too: require the
        # body phrase and add the title one as optional score. Same matches and scores as
        # "title OR body", but the (small) title postings are only probed on body matches
        # instead of being unioned with them.
        group = [
            (O.Must, Q.boost_query(parts[1], weights.PHRASE_BOOST)),
            (O.Should, Q.boost_query(parts[0], weights.TITLE_BOOST * weights.PHRASE_BOOST)),
        ]
        # Every body match holds the phrase's pairs: a (score-free) filter on them lets the
        # positional check run only on those documents.
        group += [
            (O.Must, Q.const_score_query(Q.term_query(schema, "pairs", token), 0.0))
            for token in phrase_pairs(phrase, pair_stems)
        ]
        clauses.append((O.Must, Q.boolean_query(group)))
    cons = cq.cons
    if cons.paper_ids is not None:
        ids = sorted(cons.paper_ids) or ["\x00none"]  # an empty set matches no paper
        clauses.append((O.Must, Q.const_score_query(Q.term_set_query(schema, "id", ids), 0.0)))
    if cons.categories:
        cat_q = [
            (O.Should, Q.regex_query(schema, "cats", category_regex(p))) for p in cons.categories
        ]
        clauses.append((O.Must, Q.const_score_query(Q.boolean_query(cat_q), 0.0)))
    for kind in cons.has:
        clauses.append((O.Must, Q.const_score_query(Q.term_query(schema, "has", kind), 0.0)))
    for name in cons.authors:
        words = analyzer.words(name)
        if not words:
            continue
        q = (
            Q.term_query(schema, "authors", words[0])
            if len(words) == 1
            else Q.phrase_query(schema, "authors", list(words))
        )
        clauses.append((O.Must, Q.const_score_query(q, 0.0)))
    lo, hi = date_bounds_ts(cons)
    if lo is not None or hi is not None:
        # Score-free like the other filters: a bare range query adds a constant whose value
        # depends on the segment layout (1.0 in some segments, 0 where the whole segment is
        # in range), which reordered date-filtered results by how the index was built.
        clauses.append(
            (
                O.Must,
                Q.const_score_query(
                    Q.range_query(
                        schema,
                        "published",
                        tantivy.FieldType.Integer,
                        lo if lo is not None else -(2**62),
                        hi if hi is not None else 2**62,
                    ),
                    0.0,
                ),
            )
        )
    for term in cons.excluded_terms:
        for stem in analyzer.stems(term):
            clauses.append((O.MustNot, Q.term_query(schema, "title", stem)))
            clauses.append((O.MustNot, Q.term_query(schema, "body", stem)))
        for word in analyzer.words(term):
            clauses.append((O.MustNot, Q.term_query(schema, "authors", word)))
    for text in cons.excluded_phrases:
        rel = phrase_positions(text)
        if len(rel) > 1:
            clauses.append((O.MustNot, Q.phrase_query(schema, "title", list(rel))))
            clauses.append((O.MustNot, Q.phrase_query(schema, "body", list(rel))))
    if should and not any(occ == O.Must for occ, _ in clauses):
        # Words only (maybe with exclusions): their clauses at the top level, where tantivy
        # runs block-max WAND over a union of term queries (nested under a Must, the union is
        # scored document by document). Same matches and scores as Must(words).
        return Q.boolean_query(should + clauses)
    if should:
        clauses.insert(0, (O.Must, Q.boolean_query(should)))
    if not any(occ == O.Must for occ, _ in clauses):
        if not clauses:
            return None
        # Only exclusions: everything except them.
        clauses.append((O.Must, Q.all_query()))
    elif not should and not cq.phrases:
        # Filters only: every paper passing them (scores are all equal).
        clauses.append((O.Must, Q.all_query()))
    return Q.boolean_query(clauses)
