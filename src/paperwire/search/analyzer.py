"""Text analysis shared by indexing, query building, delta scoring and snippets.

Invariant: the index, the query builder and the in-Python scorer of not-yet-indexed papers all
use these exact analyzers, so a word normalizes the same way everywhere.

- ``stem``: words (letters+digits runs) -> lowercase -> ASCII folding -> English stop words
  removed -> Snowball English stemmer. Used for title and abstract (BM25 fields).
- ``word``: the same without stop words and stemming. Used for prefix matching (``seq`` must
  find ``seq2seq``, ``sequencing``) and author names.
- ``lower_raw``: the whole value lowercased (categories).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable

import tantivy

STEM = "pw_stem"
WORD = "pw_word"
RAW = "pw_raw"
MAX_TOKEN_CHARS = 40
MIN_PREFIX_CHARS = 3


_local = threading.local()


def analyzers() -> dict[str, tantivy.TextAnalyzer]:
    """This thread's analyzers. Per thread because tantivy's ``TextAnalyzer.analyze`` and
    ``pre_tokenize`` borrow the analyzer mutably: two threads inside one analyzer at once
    (a switch while it builds its Python result) fail with ``RuntimeError: Already
    borrowed`` (seen in CI: searching threads scoring the live delta)."""
    found = getattr(_local, "analyzers", None)
    if found is None:
        found = _local.analyzers = _build_analyzers()
    return found


def _build_analyzers() -> dict[str, tantivy.TextAnalyzer]:
    def base() -> tantivy.TextAnalyzerBuilder:
        return (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(MAX_TOKEN_CHARS))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
        )

    return {
        STEM: base()
        .filter(tantivy.Filter.stopword("english"))
        .filter(tantivy.Filter.stemmer("english"))
        .build(),
        WORD: base().build(),
        RAW: (
            tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.raw())
            .filter(tantivy.Filter.lowercase())
            .build()
        ),
    }


def register(index: tantivy.Index) -> None:
    for name, analyzer in analyzers().items():
        index.register_tokenizer(name, analyzer)


def stems(text: str) -> list[str]:
    return analyzers()[STEM].analyze(text or "")


def words(text: str) -> list[str]:
    return analyzers()[WORD].analyze(text or "")


def stem_positions(text: str) -> list[tuple[int, str]]:
    """(position, stem) pairs; positions keep the gaps left by stop words, as in the index."""
    return [(t.position, t.text) for t in analyzers()[STEM].pre_tokenize(text or "").tokens]


def stem_spans(text: str) -> list[tuple[str, int, int]]:
    """(stem, start, end) character spans in ``text`` (for highlighting)."""
    return [
        (t.text, t.char_offset_from, t.char_offset_to)
        for t in analyzers()[STEM].pre_tokenize(text or "").tokens
    ]


# tantivy's simple tokenizer splits on every char that is not alphanumeric; for ASCII text that
# is exactly this pattern, and lowercasing is the whole of the rest of the ``word`` chain
# (ASCII folding is a no-op). Far cheaper than building tantivy Token objects per word.
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """(word, start, end) character spans of the ``word`` analyzer's tokens."""
    text = text or ""
    if text.isascii():
        return [
            (m.group().lower(), m.start(), m.end())
            for m in _ASCII_WORD.finditer(text)
            if m.end() - m.start() < MAX_TOKEN_CHARS
        ]
    return [
        (t.text, t.char_offset_from, t.char_offset_to)
        for t in analyzers()[WORD].pre_tokenize(text).tokens
    ]


@functools.lru_cache(maxsize=100_000)
def stem_of_word(word: str) -> str | None:
    """The stem of one ``word``-analyzer token (None for a stop word). The ``stem`` chain is
    the ``word`` chain plus per-token filters, so a text's stems are its words' stems."""
    out = analyzers()[STEM].analyze(word)
    return out[0] if out else None


# Common English words of natural-language queries ("how do transformers use attention"):
# in a query of two or more words they are matched as whole words only, never as prefixes
# ("how" must not find "However", "use" not "user"). Alone, a word is still a prefix.
COMMON_WORDS = frozenset(
    """
    about above after again against all also am among any are around because been before
    being below between both can cannot could did do does doing done down during each either
    few from get gets got had has have having he her here hers him his how however i its
    just less like made make makes many may me might more most much must my near neither
    new nor now off once one only other our ours out over own per same shall she should show
    shows shown since so some than them those though through thus too two under until up
    upon us use used uses using very via was we well were what when where whether which
    while who whom whose why would yet you your
""".split()
)


def prefix_words(term: str, *, multiword: bool = False) -> list[str]:
    """The words of a query term that are matched as prefixes too: 3+ characters, not a stop
    word and, in a query of several words (``multiword``), not a ``COMMON_WORDS`` word."""
    stop = _stopwords()
    return [
        w
        for w in words(term)
        if len(w) >= MIN_PREFIX_CHARS and w not in stop and not (multiword and w in COMMON_WORDS)
    ]


def stopwords() -> frozenset[str]:
    return _stopwords()


@functools.lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    # Whatever tantivy's English list drops is a stop word; probe a generous word list.
    probe = (
        "a an and are as at be but by for if in into is it no not of on or such that the "
        "their then there these they this to was will with"
    ).split()
    return frozenset(w for w in probe if not stems(w))


def author_names(authors: Iterable[object] | None) -> list[str]:
    """Authors column (list of {"name": ...} or strings) as a list of names."""
    names: list[str] = []
    for a in authors or []:
        name = a.get("name") if isinstance(a, dict) else a
        if name:
            names.append(str(name))
    return names


def author_text(authors: Iterable[object] | None) -> str:
    """Authors column as one string (for display-like uses; the index keeps each name as a
    separate value of the ``authors`` field, so a phrase never spans two authors)."""
    return " ; ".join(author_names(authors))
