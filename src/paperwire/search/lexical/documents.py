"""The tantivy schema and the document of a paper (row -> document).

Invariants:
- ``SCHEMA_VERSION`` names the schema and the analysis below; a generation written with
  another version is not opened (the index rebuilds it). Change it with either.
- ``make_document`` and the Python scorer (delta.py, scoring.py) analyze a paper the same
  way (``body_text``, the shared analyzers), so a not-yet-indexed paper scores as its index
  copy will.
- The ``pairs`` field holds every two stems that stand next to each other in the body (no
  stop word between) when both are frequent, i.e. in at least PAIR_MIN_DF_FRACTION of a
  random sample of PAIR_SAMPLE papers taken at rebuild (kept in state.json as
  "pair_stems"). A phrase of frequent words is costly for a positional query alone (two long
  posting lists intersected, positions read for every common document); with the pair as a
  required filter only the documents holding the pair are checked. Pairs of rarer words are
  not indexed: their posting lists are short anyway, and the field stays small.
"""

from __future__ import annotations

import datetime as dt
import functools

import tantivy

from paperwire.search import analyzer
from paperwire.store import search as store

SCHEMA_VERSION = 5  # 4: one ``authors`` value per author (phrases never span two); 5: ``has``
PAIR_SAMPLE = 5000
PAIR_MIN_DF_FRACTION = 0.01
PAIRS = "pw_pairs"


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    sb.add_text_field("title", tokenizer_name=analyzer.STEM)
    sb.add_text_field("body", tokenizer_name=analyzer.STEM)
    sb.add_text_field("authors", tokenizer_name=analyzer.WORD)
    sb.add_text_field("words", tokenizer_name=analyzer.WORD, index_option="basic")
    sb.add_text_field("cats", tokenizer_name=analyzer.RAW, index_option="basic")
    # Kinds of the paper's visible links (has:code); store/links.py bumps modified_at when
    # they change, so the index follows them like any other change.
    sb.add_text_field("has", tokenizer_name=analyzer.RAW, index_option="basic")
    sb.add_text_field("pairs", tokenizer_name=PAIRS, index_option="basic")
    sb.add_integer_field("published", indexed=True, fast=True)
    return sb.build()


def register(index: tantivy.Index) -> None:
    """The analyzers every index handle needs (the shared ones plus the pairs tokenizer)."""
    analyzer.register(index)
    index.register_tokenizer(PAIRS, _pairs_analyzer())


@functools.lru_cache(maxsize=1)
def _pairs_analyzer() -> tantivy.TextAnalyzer:
    # Pair tokens are built here ("stem_stem", alphanumeric stems only): split on whitespace.
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


def pair_token(first: str, second: str) -> str:
    return f"{first}_{second}"


def _pairable(stem: str, pair_stems: frozenset[str]) -> bool:
    # isalnum: a stem never holds whitespace or "_" then, so each pair is exactly one token.
    return stem in pair_stems and stem.isalnum()


def doc_pairs(stem_pos: list[tuple[int, str]], pair_stems: frozenset[str]) -> set[str]:
    """Pair tokens of a text's (position, stem) list: adjacent positions, both stems frequent."""
    if not pair_stems:
        return set()
    out = set()
    for (p1, s1), (p2, s2) in zip(stem_pos, stem_pos[1:]):
        if p2 == p1 + 1 and _pairable(s1, pair_stems) and _pairable(s2, pair_stems):
            out.add(pair_token(s1, s2))
    return out


def phrase_pairs(phrase: list[tuple[int, str]], pair_stems: frozenset[str]) -> list[str]:
    """The pair tokens every match of a phrase (relative positions) must hold in ``pairs``."""
    return sorted(doc_pairs(phrase, pair_stems))


def frequent_stems(texts: list[tuple[str, str]]) -> list[str]:
    """Stems in at least PAIR_MIN_DF_FRACTION of the sampled (title, abstract) texts."""
    df: dict[str, int] = {}
    for title, abstract in texts:
        for stem in set(analyzer.stems(body_text(title, abstract))):
            df[stem] = df.get(stem, 0) + 1
    floor = max(1.0, PAIR_MIN_DF_FRACTION * len(texts))
    return sorted(s for s, n in df.items() if n >= floor and s.isalnum())


def timestamp(value: dt.datetime | None) -> int:
    """The ``published`` field's value: seconds since the epoch (a naive value is UTC)."""
    if value is None:
        return -(2**62)
    return int(value.replace(tzinfo=dt.UTC).timestamp())


def body_text(title: str, abstract: str) -> str:
    """The body field: title and abstract together (so a title word counts in the body and,
    with TITLE_BOOST, once more in the title: titles are boosted on top of plain BM25)."""
    # The stop words between are dropped by the analyzer but keep their positions: a gap, so a
    # phrase cannot match across the end of the title and the start of the abstract.
    return f"{title}\n the the the \n{abstract}"


def make_document(
    row: store.IndexRow, pair_stems: frozenset[str] = frozenset()
) -> tantivy.Document:
    doc = tantivy.Document()
    doc.add_text("id", row.id)
    doc.add_text("title", row.title)
    body = body_text(row.title, row.abstract)
    doc.add_text("body", body)
    if pair_stems:
        pairs = doc_pairs(analyzer.stem_positions(body), pair_stems)
        if pairs:
            doc.add_text("pairs", " ".join(pairs))
    # One value per author: tantivy leaves a position gap between values, so an author
    # phrase ("Lovelace Alan") never matches across two neighbouring authors.
    for name in analyzer.author_names(row.authors):
        doc.add_text("authors", name)
    doc.add_text("words", f"{row.title}\n{row.abstract}")
    for cat in row.categories:
        doc.add_text("cats", cat)
    for kind in row.links:
        doc.add_text("has", kind)
    doc.add_integer("published", timestamp(row.published_at))
    return doc
