"""Lexical (BM25) search: a tantivy index on disk plus the not-yet-indexed papers from the DB.

Layout under ``DATA_DIR/index/lexical/``::

    CURRENT          name of the live generation directory (replaced atomically)
    gen-<stamp>/     tantivy files + state.json {"watermark", "avg_len", "pair_stems", ...}
    .lock            flock: one writer (rebuild or refresh) per data dir at a time

Invariants:
- The index holds every visible paper whose ``modified_at`` <= ``watermark`` as of that
  paper's last change. Papers modified after the watermark (the "delta") are read from the
  database on every search and scored in Python with the same analyzers and BM25 formula, and
  they replace any index copy of the same paper. So a committed paper is searchable at once,
  from any process, and hidden papers never show.
- The watermark trails the refresh time by ``OVERLAP`` so that a transaction that stamped
  ``modified_at`` before a refresh but committed after it is still picked up.
- Writers: a rebuild writes a new generation and flips CURRENT only when complete; a refresh
  commits to the live generation and then rewrites state.json (tantivy commits are atomic,
  refreshes idempotent). A ``kill -9`` at any point leaves either the old or the new state, and
  the next refresh/rebuild converges to the database.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import functools
import json
import logging
import math
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import tantivy

from paperwire.search import analyzer
from paperwire.search.filters import (
    Constraints,
    category_regex,
    date_bounds_ts,
    phrase_in,
    phrase_positions,
    row_matches,
)
from paperwire.search.query import ParsedQuery
from paperwire.store import search as store
from paperwire.store.models import utcnow

log = logging.getLogger(__name__)

SCHEMA_VERSION = 5  # 4: one ``authors`` value per author (phrases never span two); 5: ``has``
OVERLAP = dt.timedelta(seconds=120)
# Field weights of the BM25 sum (tantivy scores each field with k1=1.2, b=0.75).
TITLE_BOOST = 0.25  # extra weight of title matches on top of the body (tuned, SciFact train)
BODY_BOOST = 1.0
AUTHOR_BOOST = 1.0
PHRASE_BOOST = 1.0
# Constant score of a prefix-only match (the word starts with the query word): small, so
# exact (stemmed) matches always rank above papers matched only through a prefix.
PREFIX_SCORE = 0.3
K1, B = 1.2, 0.75
# Prefix expansion is skipped for words that are common as whole words (in more than
# max(PREFIX_MAX_DF, PREFIX_MAX_DF_FRACTION x papers) papers): their exact matches already
# outnumber any page anyone reads, and expanding them costs the BM25 top-k pruning.
PREFIX_MAX_DF = 1000
PREFIX_MAX_DF_FRACTION = 0.002
# Totals of ranked word queries are counted exactly in an index of at most this many papers
# (counting visits every match, which top-k pruning avoids); above, they are estimates.
EXACT_COUNT_MAX_DOCS = 200_000
# Words with only date bounds: the top DATE_PREFILTER_FACTOR x k papers of the words alone
# (block-max WAND, fast) are filtered by their publication date; the full intersection runs
# only when fewer than k of them pass.
DATE_PREFILTER_FACTOR = 8
DATE_PREFILTER_MIN = 200
# A delta bigger than this is folded into the index before searching (when we can get the lock).
MAX_DELTA = 20_000
LENGTH_SAMPLE = 5000
WRITER_HEAP_BYTES = 1_000_000_000
# Phrases: the ``pairs`` field holds every two stems that stand next to each other in the body
# (no stop word between) when both are frequent, i.e. in at least PAIR_MIN_DF_FRACTION of a
# random sample of PAIR_SAMPLE papers taken at rebuild (kept in state.json as "pair_stems").
# A phrase of frequent words is costly for a positional query alone (two long posting lists
# intersected, positions read for every common document); with the pair as a required filter
# only the documents holding the pair are checked. Pairs of rarer words are not indexed:
# their posting lists are short anyway, and the field stays small.
PAIR_SAMPLE = 5000
PAIR_MIN_DF_FRACTION = 0.01
PAIRS = "pw_pairs"


class Unavailable(Exception):
    """The lexical index cannot be opened (missing, corrupt, wrong schema)."""


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


def _ts(value: dt.datetime | None) -> int:
    if value is None:
        return -(2**62)
    return int(value.replace(tzinfo=dt.UTC).timestamp())


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _from_iso(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


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
    doc.add_integer("published", _ts(row.published_at))
    return doc


# --------------------------------------------------------------------------------------------
# Query compilation
# --------------------------------------------------------------------------------------------


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
        should.append((O.Should, Q.boost_query(Q.term_query(schema, "title", stem), TITLE_BOOST)))
        should.append((O.Should, Q.boost_query(Q.term_query(schema, "body", stem), BODY_BOOST)))
    for word in cq.author_words:
        should.append(
            (O.Should, Q.boost_query(Q.term_query(schema, "authors", word), AUTHOR_BOOST))
        )
    for word in cq.prefixes:
        # A one-word phrase-prefix query is a prefix range over the term dictionary: as
        # exact as a regex but ~100x cheaper to build.
        should.append(
            (
                O.Should,
                Q.const_score_query(Q.phrase_prefix_query(schema, "words", [word]), PREFIX_SCORE),
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
            (O.Must, Q.boost_query(parts[1], PHRASE_BOOST)),
            (O.Should, Q.boost_query(parts[0], TITLE_BOOST * PHRASE_BOOST)),
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
            else Q.phrase_query(schema, "authors", words)
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
            clauses.append((O.MustNot, Q.phrase_query(schema, "title", rel)))
            clauses.append((O.MustNot, Q.phrase_query(schema, "body", rel)))
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


# --------------------------------------------------------------------------------------------
# Python scoring of not-yet-indexed papers
# --------------------------------------------------------------------------------------------


@dataclass
class DeltaDoc:
    row: store.IndexRow
    title: list[tuple[int, str]]
    body: list[tuple[int, str]]
    authors: list[str]
    words: set[str]
    title_tf: dict[str, int] = field(default_factory=dict)
    body_tf: dict[str, int] = field(default_factory=dict)
    authors_tf: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, row: store.IndexRow) -> DeltaDoc:
        title = analyzer.stem_positions(row.title)
        body = analyzer.stem_positions(body_text(row.title, row.abstract))
        authors = analyzer.words(analyzer.author_text(row.authors))
        words = set(analyzer.words(row.title)) | set(analyzer.words(row.abstract))
        d = cls(row, title, body, authors, words)
        for _, s in title:
            d.title_tf[s] = d.title_tf.get(s, 0) + 1
        for _, s in body:
            d.body_tf[s] = d.body_tf.get(s, 0) + 1
        for w in authors:
            d.authors_tf[w] = d.authors_tf.get(w, 0) + 1
        return d


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
            (doc.title_tf, doc.title, "title", TITLE_BOOST),
            (doc.body_tf, doc.body, "body", BODY_BOOST),
        ):
            tf = tf_map.get(stem, 0)
            if tf:
                matched = True
                score += boost * _bm25(tf, len(toks), stats.avg_len[name], stats.idf(name, stem))
    for word in cq.author_words:
        tf = doc.authors_tf.get(word, 0)
        if tf:
            matched = True
            score += AUTHOR_BOOST * _bm25(
                tf, len(doc.authors), stats.avg_len["authors"], stats.idf("authors", word)
            )
    for prefix in cq.prefixes:
        if any(w.startswith(prefix) for w in doc.words):
            matched = True
            score += PREFIX_SCORE
    for phrase in cq.phrases:
        hit = False
        for toks, name, boost in (
            (doc.title, "title", TITLE_BOOST * PHRASE_BOOST),
            (doc.body, "body", PHRASE_BOOST),
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
    _cache: dict = field(default_factory=dict)

    def idf(self, fieldname: str, term: str) -> float:
        key = (fieldname, term)
        if key not in self._cache:
            n = max(self.searcher.num_docs, 1)
            self._cache[key] = _idf(n, self.searcher.doc_freq(fieldname, term))
        return self._cache[key]


# --------------------------------------------------------------------------------------------
# The index
# --------------------------------------------------------------------------------------------


@dataclass
class LexicalResult:
    hits: list[tuple[str, float]]
    total: int
    exact: bool = True  # False: ``total`` is an estimate (counting would cost a full scan)


def _pair_stems(state: dict) -> frozenset[str]:
    cached = state.get("_pair_stems")
    if cached is None:
        cached = state["_pair_stems"] = frozenset(state.get("pair_stems") or ())
    return cached


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w") as fh:
        json.dump(data, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class LexicalIndex:
    """One process's handle on the lexical index of a data dir (thread-safe)."""

    def __init__(self, settings, db) -> None:
        self.settings = settings
        self.db = db
        self.root = Path(settings.data_dir) / "index" / "lexical"
        self._mutex = threading.RLock()
        self._index: tantivy.Index | None = None
        self._gen: str | None = None
        self._state: dict = {}
        self._state_mtime: int | None = None
        self._current_mtime: int | None = None
        self._delta_cache: dict[str, tuple[dt.datetime, DeltaDoc]] = {}
        # Guards _delta_cache (searches on many threads read and prune it).
        self._delta_lock = threading.Lock()
        self._local = threading.local()
        self.schema = build_schema()

    # ---- opening ---------------------------------------------------------------------------
    def _read_current(self) -> str | None:
        try:
            return (self.root / "CURRENT").read_text().strip() or None
        except FileNotFoundError:
            return None

    def _open_generation(self, gen: str) -> None:
        path = self.root / gen
        state_path = path / "state.json"
        try:
            state = json.loads(state_path.read_text())
        except (OSError, ValueError) as exc:
            raise Unavailable(f"state of {path} unreadable: {exc}") from exc
        if state.get("schema_version") != SCHEMA_VERSION:
            raise Unavailable(
                f"{path} has schema version {state.get('schema_version')}, need {SCHEMA_VERSION}"
            )
        try:
            index = tantivy.Index.open(str(path))
            register(index)
            _ = index.searcher().num_docs  # touch: fails fast on corrupt files
        except Exception as exc:  # noqa: BLE001 - tantivy raises plain ValueError/OSError
            raise Unavailable(f"cannot open {path}: {exc}") from exc
        self._index, self._gen, self._state = index, gen, state
        self._state_mtime = state_path.stat().st_mtime_ns

    def ensure_open(self) -> None:
        """Open the live generation, (re)loading when another process changed it; rebuild
        when missing or corrupt.

        Inside ``shared_delta`` the files are checked once per block: the searches of one
        request use one generation (as they use one delta), and the block does not pay the
        stat/read calls once per index call."""
        local = self._local
        if (
            getattr(local, "pinned", False)
            and getattr(local, "opened", False)
            and self._index is not None
        ):
            return
        self._ensure_open()
        if getattr(local, "pinned", False):
            local.opened = True

    def _ensure_open(self) -> None:
        with self._mutex:
            try:
                cur_mtime = (self.root / "CURRENT").stat().st_mtime_ns
            except FileNotFoundError:
                cur_mtime = None
            gen = self._read_current() if cur_mtime is not None else None
            if self._index is not None and gen == self._gen and cur_mtime == self._current_mtime:
                self._maybe_reload()
                return
            if gen is None:
                # A fresh install (or a removed index): expected, hence INFO, not a warning.
                log.info("building the lexical index in %s from the database", self.root)
                started = time.monotonic()
                n = self.rebuild(progress=False)
                log.info("lexical index built: %d papers in %.1f s", n, time.monotonic() - started)
                return
            try:
                self._open_generation(gen)
                self._current_mtime = cur_mtime
                with self._delta_lock:
                    self._delta_cache.clear()
            except Unavailable as exc:
                log.warning("lexical index unusable (%s); rebuilding it from the database", exc)
                self.rebuild(progress=False)

    def _maybe_reload(self) -> None:
        """Another process refreshed the live generation: read its watermark, then reload
        tantivy (in this order, so the index is never older than the watermark we use)."""
        state_path = self.root / self._gen / "state.json"
        try:
            mtime = state_path.stat().st_mtime_ns
        except FileNotFoundError:
            return
        if mtime == self._state_mtime:
            return
        try:
            self._state = json.loads(state_path.read_text())
        except (OSError, ValueError):
            return
        self._state_mtime = mtime
        self._index.reload()

    @property
    def pair_stems(self) -> frozenset[str]:
        """The live generation's frequent stems (whose adjacent pairs ``pairs`` holds)."""
        return _pair_stems(self._state)

    @property
    def watermark(self) -> dt.datetime | None:
        return _from_iso(self._state.get("watermark"))

    # ---- writing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _writer_lock(self, block: bool):
        self.root.mkdir(parents=True, exist_ok=True)
        fh = open(self.root / ".lock", "a+")
        try:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            fh.close()  # releases the flock (also released by the OS if we are killed)

    def rebuild(self, progress: bool | Callable = False) -> int:
        """Build a fresh generation from the database and make it live. Returns doc count."""
        from tqdm import tqdm

        with self._writer_lock(block=True), self._mutex:
            started = utcnow()
            gen = f"gen-{started.strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"
            path = self.root / gen
            self._remove_stale_generations(keep=self._read_current())
            path.mkdir(parents=True)
            index = tantivy.Index(self.schema, path=str(path), reuse=False)
            register(index)
            # One indexing thread with a large memory budget: documents are made in Python on
            # this thread (the bottleneck), and every flush of the budget is a segment; few
            # big segments search faster than many small ones (each segment runs its own
            # top-k) and tantivy only merges once 8 segments of a size class exist.
            writer = index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
            lengths = {"title": 0, "body": 0, "authors": 0}
            watermark = started - OVERLAP
            recent: dict[str, str] = {}
            n = n_sampled = 0
            with self.db.session() as session:
                total = store.visible_count(session)
                pair_list = frequent_stems(store.sample_texts(session, PAIR_SAMPLE))
                pair_stems = frozenset(pair_list)
                bar = tqdm(
                    total=total, desc="lexical index", unit="paper", disable=not progress, file=None
                )
                for batch in store.iter_index_rows(session):
                    for row in batch:
                        writer.add_document(make_document(row, pair_stems))
                        if n_sampled < LENGTH_SAMPLE:
                            # Average field lengths (in index tokens) for the Python scorer,
                            # from a sample: analyzing every paper twice would double the
                            # build time.
                            n_sampled += 1
                            lengths["title"] += len(analyzer.stems(row.title))
                            lengths["body"] += len(
                                analyzer.stems(body_text(row.title, row.abstract))
                            )
                            lengths["authors"] += len(
                                analyzer.words(analyzer.author_text(row.authors))
                            )
                        if row.modified_at > watermark:
                            recent[row.id] = _iso(row.modified_at)
                    n += len(batch)
                    bar.update(len(batch))
                bar.close()
            writer.commit()
            writer.wait_merging_threads()
            state = {
                "schema_version": SCHEMA_VERSION,
                "watermark": _iso(watermark),
                "recent": recent,
                "built_at": _iso(started),
                "docs": n,
                "avg_len": {
                    k: (max(v / n_sampled, 1.0) if n_sampled else 1.0) for k, v in lengths.items()
                },
                "pair_stems": pair_list,
            }
            _write_json(path / "state.json", state)
            tmp = self.root / f".CURRENT.{os.getpid()}.tmp"
            tmp.write_text(gen)
            os.replace(tmp, self.root / "CURRENT")
            self._remove_stale_generations(keep=gen)
            self._open_generation(gen)
            self._current_mtime = (self.root / "CURRENT").stat().st_mtime_ns
            with self._delta_lock:
                self._delta_cache.clear()
        # Papers changed while we were reading are after the watermark: fold them now.
        self.refresh(block=True)
        return n

    def _remove_stale_generations(self, keep: str | None) -> None:
        if not self.root.exists():
            return
        for child in self.root.iterdir():
            if child.is_dir() and child.name.startswith("gen-") and child.name != keep:
                shutil.rmtree(child, ignore_errors=True)

    def refresh(self, *, block: bool = False) -> int | None:
        """Fold papers changed since the watermark into the index. Returns the number of
        papers looked at, or None when another process holds the writer lock."""
        self.ensure_open()
        with self._writer_lock(block=block) as locked:
            if not locked:
                return None
            with self._mutex:
                # Re-read: another process may have moved the watermark or the generation.
                self.ensure_open()
                now = utcnow()
                wm = self.watermark
                changed = 0
                index = self._index
                writer = None
                folded: dict[str, str] = {}
                pair_stems = self.pair_stems
                with self.db.session() as session:
                    ids = [pid for pid, _ in store.modified_since(session, wm)]
                    for start in range(0, len(ids), 2000):
                        rows = store.index_rows(session, ids[start : start + 2000])
                        if writer is None:
                            writer = index.writer(heap_size=50_000_000, num_threads=1)
                        seen = set()
                        for row in rows:
                            seen.add(row.id)
                            folded[row.id] = _iso(row.modified_at)
                            writer.delete_documents_by_term("id", row.id)
                            if not row.hidden:
                                writer.add_document(make_document(row, pair_stems))
                        # Deleted rows (gone from the DB) disappear from the index too.
                        for pid in set(ids[start : start + 2000]) - seen:
                            writer.delete_documents_by_term("id", pid)
                        changed += len(rows)
                if writer is not None:
                    writer.commit()
                    writer.wait_merging_threads()
                new_wm = now - OVERLAP
                if wm is None or new_wm > wm or writer is not None:
                    state = dict(self._state)
                    # In-memory caches, not part of the file.
                    state.pop("_recent_max", None)
                    state.pop("_pair_stems", None)
                    final_wm = max(new_wm, wm) if wm else new_wm
                    state["watermark"] = _iso(final_wm)
                    state["docs"] = None
                    # Papers already folded at their current version need no delta scoring.
                    cutoff = _iso(final_wm)
                    recent = {
                        pid: mt for pid, mt in (state.get("recent") or {}).items() if mt > cutoff
                    }
                    recent.update({pid: mt for pid, mt in folded.items() if mt > cutoff})
                    state["recent"] = recent
                    _write_json(self.root / self._gen / "state.json", state)
                    self._maybe_reload()
                    self._index.reload()
                return changed

    # ---- searching -------------------------------------------------------------------------
    def _changed_since_watermark(self, session) -> list[tuple[str, dt.datetime]]:
        """(id, modified_at) of papers the index may not hold at their current version.

        Papers folded recently (``recent`` in the state, all within the overlap window) are
        known to be in the index; rather than listing the whole window on every search, count
        it: when the count matches, only papers after the newest folded one need listing."""
        wm = self.watermark
        recent = self._state.get("recent") or {}
        if not recent:
            return store.modified_since(session, wm)
        recent_max = self._state.get("_recent_max")
        if recent_max is None:
            recent_max = _from_iso(max(recent.values()))
            self._state["_recent_max"] = recent_max
        changed = store.modified_since(session, recent_max)
        if store.count_modified_between(session, wm, recent_max) != len(recent):
            # A late commit inside the window (or a deletion): list the window.
            window = store.modified_since(session, wm)
            changed = [(pid, mt) for pid, mt in window if recent.get(pid) != _iso(mt)]
        return changed

    @contextlib.contextmanager
    def shared_delta(self):
        """Within the block, this thread's searches share one read of the not-yet-indexed
        papers (the first search reads it): the searches of one request (candidates,
        filters, counts) see the same database snapshot and pay for the read once."""
        if getattr(self._local, "pinned", False):
            yield  # nested: the outer block owns the snapshot
            return
        self._local.pinned, self._local.delta, self._local.opened = True, None, False
        try:
            yield
        finally:
            self._local.pinned, self._local.delta, self._local.opened = False, None, False

    def _delta(self) -> dict[str, DeltaDoc]:
        """Papers modified after the watermark, analyzed (cached by modified_at)."""
        local = self._local
        if getattr(local, "pinned", False):
            if local.delta is None:
                local.delta = self._read_delta()
            return local.delta
        return self._read_delta()

    def _read_delta(self) -> dict[str, DeltaDoc]:
        """Analyzed not-yet-indexed papers. The shared cache is read and changed only under
        ``_delta_lock`` (searches run on many threads); the answer is built from this call's
        own snapshot, so another thread pruning the cache meanwhile cannot lose an entry."""
        # A Core connection, not an ORM session: these are plain column reads, and this runs
        # on every search (the session's set-up and ORM execution path cost more than the
        # queries). One transaction: the list and the rows are one snapshot.
        with self.db.engine.connect() as session:
            changed = self._changed_since_watermark(session)
            if len(changed) > MAX_DELTA:
                # Too many to score per search: fold them first (or let the writer do it).
                session.rollback()
                if self.refresh(block=False) is not None:
                    changed = self._changed_since_watermark(session)
            known: dict[str, DeltaDoc] = {}
            with self._delta_lock:
                for pid, mt in changed:
                    entry = self._delta_cache.get(pid)
                    if entry is not None and entry[0] == mt:
                        known[pid] = entry[1]
            need = [pid for pid, _ in changed if pid not in known]
            loaded = (
                {
                    row.id: (row.modified_at, DeltaDoc.of(row))
                    for row in store.index_rows(session, need)
                }
                if need
                else {}
            )
        live = {pid for pid, _ in changed}
        with self._delta_lock:
            self._delta_cache.update(loaded)
            for pid in [p for p in self._delta_cache if p not in live]:
                self._delta_cache.pop(pid, None)
        out: dict[str, DeltaDoc] = {}
        for pid, _ in changed:
            if pid in known:
                out[pid] = known[pid]
            elif pid in loaded:
                out[pid] = loaded[pid][1]
            else:
                # Deleted from the DB after we listed it: shadow the index copy, match nothing.
                out[pid] = None  # type: ignore[assignment]
        return out

    def _expander(self, searcher: tantivy.Searcher) -> Callable[[str], bool]:
        limit = max(PREFIX_MAX_DF, PREFIX_MAX_DF_FRACTION * searcher.num_docs)
        return lambda word: searcher.doc_freq("words", word) <= limit

    def search(
        self,
        pq: ParsedQuery,
        cons: Constraints,
        *,
        limit: int,
        offset: int = 0,
        order: str = "relevance",
        prefix: bool = True,
    ) -> LexicalResult:
        """Top ``limit`` papers after ``offset``; ``order`` is "relevance" or "newest"."""
        self.ensure_open()
        with self._mutex:
            index = self._index
            state = self._state
        # The delta first: reading it may fold a large delta into the index (a refresh), and
        # the searcher must then be the refreshed one.
        delta = self._delta()
        searcher = index.searcher()
        cq = compile_query(pq, cons, prefix=prefix, expand=self._expander(searcher))
        query = tantivy_query(self.schema, cq, _pair_stems(state))
        if query is None:
            return LexicalResult([], 0)
        want = offset + limit
        kwargs = {}
        if order == "newest" or not cq.has_text:
            kwargs = {"order_by_field": "published", "order": tantivy.Order.Desc}
        # Counting every match defeats top-k pruning (a common word matches most papers), so
        # in a large index ranked text queries estimate the total unless the results run out
        # on this page; up to EXACT_COUNT_MAX_DOCS papers counting is cheap and exact.
        counting = not cq.has_text or searcher.num_docs <= EXACT_COUNT_MAX_DOCS
        top = None
        if (
            not counting
            and not kwargs
            and not cq.phrases
            and not cons.categories
            and not cons.authors
            and not cons.has
            and (cons.date_from or cons.date_to)
        ):
            top = self._words_then_dates(searcher, cq, _pair_stems(state), want + len(delta))
        if top is None:
            result = searcher.search(query, limit=want + len(delta), count=counting, **kwargs)
            top = result.hits
        hits: list[tuple[str, float, int]] = []
        shadowed = 0
        for score, addr in top:
            pid = searcher.doc(addr)["id"][0]
            if pid in delta:
                shadowed += 1
                continue
            hits.append((pid, float(score), 0))
        stats = Stats(searcher, state.get("avg_len") or {"title": 10, "body": 160, "authors": 8})
        added = 0
        for pid, doc in delta.items():
            if doc is None:
                continue
            s = score_delta(doc, cq, stats)
            if s is None:
                continue
            added += 1
            hits.append((pid, s if not kwargs else float(_ts(doc.row.published_at)), 0))
        if kwargs:
            hits.sort(key=lambda h: -h[1])
            # Scores were publication timestamps; report them as relevance-free zeros.
            hits = [(pid, 0.0, 0) for pid, _, _ in hits]
        else:
            # Stable sort on score alone: ties keep tantivy's order (by document address),
            # which is the same whatever the page size, so pages never overlap or skip.
            hits.sort(key=lambda h: -h[1])
        exact = True
        if counting:
            if delta:
                # Index copies of not-yet-indexed papers that match: replaced by the delta.
                shadowed = searcher.search(
                    tantivy.Query.boolean_query(
                        [
                            (tantivy.Occur.Must, query),
                            (
                                tantivy.Occur.Must,
                                tantivy.Query.term_set_query(self.schema, "id", list(delta)),
                            ),
                        ]
                    ),
                    limit=1,
                    count=True,
                ).count
            total = max(result.count - shadowed, 0) + added
        elif len(top) < want + len(delta):
            total = len(hits)  # every match is in hand
        else:
            # An estimate that does not depend on the page: the most papers one word is in
            # (papers matched by a prefix only are not counted; the fetched hits bound it
            # from below only when no exact word occurs at all).
            exact = False
            dfs = [searcher.doc_freq(f, s) for s in cq.stems for f in ("title", "body")]
            total = max(dfs) if dfs and max(dfs) else len(hits)
        return LexicalResult([(pid, s) for pid, s, _ in hits[offset:want]], total, exact)

    def _words_then_dates(
        self, searcher: tantivy.Searcher, cq: CompiledQuery, pair_stems: frozenset[str], k: int
    ) -> list | None:
        """Top ``k`` (score, address) of a words query with date bounds, taken from the top
        hits of the words alone: when at least ``k`` of those pass the dates (or they are all
        the word matches), they are exactly the top ``k`` of words AND dates (the date clause
        adds no score). None: too few passed, run the full query."""
        lo, hi = date_bounds_ts(cq.cons)
        lo = -(2**62) if lo is None else lo
        hi = 2**62 if hi is None else hi
        words = dataclasses.replace(
            cq, cons=dataclasses.replace(cq.cons, date_from=None, date_to=None)
        )
        query = tantivy_query(self.schema, words, pair_stems)
        n = max(DATE_PREFILTER_MIN, DATE_PREFILTER_FACTOR * k)
        res = searcher.search(query, limit=n, count=False)
        if not res.hits:
            return []
        published = searcher.fast_field_values("published", [addr for _, addr in res.hits])
        kept = [hit for hit, ts in zip(res.hits, published) if ts is not None and lo <= ts <= hi]
        if len(kept) >= k or len(res.hits) < n:
            return kept[:k]
        return None

    def count(self, cons: Constraints) -> int:
        """How many visible papers pass the filters (exact up to not-yet-indexed papers)."""
        return self.search(ParsedQuery(), cons, limit=1).total

    def filter_ids(
        self, cons: Constraints, ids: list[str], phrases: tuple[str, ...] = ()
    ) -> set[str]:
        """The given papers that are visible and pass the constraints (filters, the query's
        exclusions and its required ``phrases``), decided by the index, or by the Python
        scorer for papers not indexed yet. Cheaper than loading rows: only survivors' ids
        are read."""
        if not ids:
            return set()
        self.ensure_open()
        with self._mutex:
            index = self._index
            state = self._state
        delta = self._delta()
        cq = compile_query(ParsedQuery(phrases=tuple(phrases)), cons)
        base = tantivy_query(self.schema, cq, _pair_stems(state))
        id_set = tantivy.Query.term_set_query(self.schema, "id", list(ids))
        query = (
            id_set
            if base is None
            else tantivy.Query.boolean_query(
                [(tantivy.Occur.Must, base), (tantivy.Occur.Must, id_set)]
            )
        )
        searcher = index.searcher()
        keep = set()
        for _score, addr in searcher.search(query, limit=len(ids), count=False).hits:
            pid = searcher.doc(addr)["id"][0]
            if pid not in delta:
                keep.add(pid)
        stats = None
        for pid in ids:
            doc = delta.get(pid, False)
            if doc is False or doc is None:
                continue
            if cq.phrases:
                stats = stats or Stats(
                    searcher, state.get("avg_len") or {"title": 10, "body": 160, "authors": 8}
                )
                if score_delta(doc, cq, stats) is not None:
                    keep.add(pid)
            elif not doc.row.hidden and row_matches(doc.row, cons):
                keep.add(pid)
        return keep

    def members(
        self, pq: ParsedQuery, cons: Constraints, ids: list[str], *, prefix: bool = True
    ) -> tuple[set[str], set[str]]:
        """``(passing, matching)`` of the given papers in one index pass: ``passing`` =
        ``filter_ids(cons, ids, phrases=pq.phrases)`` (visible, constraints and phrases hold),
        ``matching`` = the keys of ``score_ids(pq, cons, ids)`` (in the query's keyword set;
        a subset of ``passing``).

        One search of "constraints and phrases" (score-free) with the query's words as
        optional clauses, restricted to ``ids``: every word clause scores > 0 where it
        matches (BM25 with positive idf, boosts and prefix score > 0), so a passing paper
        matches the words exactly when its score is > 0 (the hybrid pool needed both answers
        and paid two searches for them)."""
        if not ids:
            return set(), set()
        self.ensure_open()
        with self._mutex:
            index = self._index
            state = self._state
        delta = self._delta()  # before the searcher (see ``search``)
        assert index is not None  # ensure_open opened it
        searcher = index.searcher()
        cq = compile_query(pq, cons, prefix=prefix, expand=self._expander(searcher))
        pair_stems = _pair_stems(state)
        words = dataclasses.replace(cq, phrases=[], cons=Constraints())
        words_q = (
            tantivy_query(self.schema, words)
            if (cq.stems or cq.author_words or cq.prefixes)
            else None
        )
        filt = dataclasses.replace(cq, stems=[], author_words=[], prefixes=[])
        base = tantivy_query(self.schema, filt, pair_stems)
        O, Q = tantivy.Occur, tantivy.Query  # noqa: E741 - as in tantivy_query
        # Score-free (a bare term set scores every match): only the word clauses score.
        clauses = [
            (O.Must, Q.const_score_query(Q.term_set_query(self.schema, "id", list(ids)), 0.0))
        ]
        if base is not None:
            clauses.append((O.Must, Q.const_score_query(base, 0.0)))
        if words_q is not None:
            clauses.append((O.Should, words_q))
        passing: set[str] = set()
        matching: set[str] = set()
        for score, addr in searcher.search(
            Q.boolean_query(clauses), limit=len(ids), count=False
        ).hits:
            pid = searcher.doc(addr)["id"][0]
            if pid in delta:
                continue
            passing.add(pid)
            if words_q is None or score > 0:
                matching.add(pid)
        stats = None
        for pid in ids:
            doc = delta.get(pid)
            if doc is None:
                continue
            stats = stats or Stats(
                searcher, state.get("avg_len") or {"title": 10, "body": 160, "authors": 8}
            )
            if cq.phrases:
                if score_delta(doc, filt, stats) is not None:
                    passing.add(pid)
            elif not doc.row.hidden and row_matches(doc.row, cons):
                passing.add(pid)
            if score_delta(doc, cq, stats) is not None:
                matching.add(pid)
        return passing, matching

    def score_ids(
        self, pq: ParsedQuery, cons: Constraints, ids: list[str], *, prefix: bool = True
    ) -> dict[str, float]:
        """BM25 scores of the given papers for the query (papers that do not match are
        absent). Used to complete fusion: semantic candidates get their real lexical score."""
        if not ids:
            return {}
        self.ensure_open()
        with self._mutex:
            index = self._index
            state = self._state
        cq = compile_query(pq, cons, prefix=prefix, expand=self._expander(index.searcher()))
        query = tantivy_query(self.schema, cq, _pair_stems(state))
        if query is None:
            return {}
        delta = self._delta()
        searcher = index.searcher()
        restricted = tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Must, query),
                (
                    tantivy.Occur.Must,
                    tantivy.Query.const_score_query(
                        tantivy.Query.term_set_query(self.schema, "id", list(ids)), 0.0
                    ),
                ),
            ]
        )
        out: dict[str, float] = {}
        for score, addr in searcher.search(restricted, limit=len(ids), count=False).hits:
            pid = searcher.doc(addr)["id"][0]
            if pid not in delta:
                out[pid] = float(score)
        stats = Stats(searcher, state.get("avg_len") or {"title": 10, "body": 160, "authors": 8})
        for pid in ids:
            doc = delta.get(pid)
            if doc is not None:
                s = score_delta(doc, cq, stats)
                if s is not None:
                    out[pid] = s
        return out

    def doc_count(self) -> int:
        self.ensure_open()
        return self._index.searcher().num_docs

    def close(self) -> None:
        with self._mutex:
            self._index = None
            self._gen = None
