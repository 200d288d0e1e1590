"""Highlighted titles and abstract snippets.

Invariant: the output is HTML-escaped text in which only ``<mark>`` / ``</mark>`` are markup,
so it is safe to embed in a page as is. A word is marked when its stem is a query stem, or
when it starts with a query word used as a prefix (as the lexical matcher decides).
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from paperwire.search import analyzer

SNIPPET_CHARS = 280


@dataclass(frozen=True)
class Highlighter:
    stems: frozenset[str]
    prefixes: tuple[str, ...]
    # First letters of the stems and prefixes: a word can only match when it starts with one
    # (the Snowball English stemmer rewrites suffixes only, so a stem keeps its word's first
    # letter). Most words of a text are rejected by this one set lookup.
    firsts: frozenset[str] = field(default=frozenset(), compare=False)
    # Word -> matched, for this query: a page's texts share most of their words.
    _memo: dict[str, bool] = field(default_factory=dict, compare=False, hash=False, repr=False)
    # The ASCII words that start with one of ``firsts`` (whole [a-z0-9] runs): the regex
    # engine skips the other words, instead of a Python loop over every distinct word.
    _ascii_candidates: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def for_query(cls, stems: Iterable[str], prefixes: Iterable[str]) -> Highlighter:
        """The highlighter of these stems and prefixes, shared by every search that has them
        (its memo of decided words then serves them all: results pages repeat queries)."""
        return _highlighter(frozenset(stems), tuple(prefixes))

    @classmethod
    def _make(cls, stem_set: frozenset[str], prefix_tuple: tuple[str, ...]) -> Highlighter:
        firsts = frozenset(w[0] for w in (*stem_set, *prefix_tuple) if w)
        ascii_firsts = "".join(sorted(c for c in firsts if c in _ASCII_ALNUM))
        # The first letter before the lookbehind: the regex engine then scans for the letter
        # and tries the lookbehind only there (2-10x faster over an abstract than the same
        # match with the lookbehind first, which is tried at every position).
        candidates = (
            re.compile("[" + ascii_firsts + r"](?<![a-z0-9].)[a-z0-9]*") if ascii_firsts else None
        )
        return cls(stem_set, prefix_tuple, firsts, _ascii_candidates=candidates)

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Sorted, non-overlapping character spans of matched words."""
        if not text or (not self.stems and not self.prefixes):
            return []
        if text.isascii():
            return self._ascii_spans(text)
        # One pass over the words; a word's stem comes from a per-word cache (stemming is a
        # per-token filter, so this equals analyzing the text with the stem chain).
        stems, prefixes = self.stems, self.prefixes
        stem_of = analyzer.stem_of_word
        return [
            (start, end)
            for word, start, end in analyzer.word_spans(text)
            if (prefixes and word.startswith(prefixes)) or (stems and stem_of(word) in stems)
        ]

    def words(self, text: str) -> list[str]:
        """The distinct matched words of ``text`` (lowercased), in order of first appearance:
        the words of ``spans(text)`` without locating every occurrence."""
        if not text or (not self.stems and not self.prefixes):
            return []
        if not text.isascii():
            return list(dict.fromkeys(text[s:e].lower() for s, e in self.spans(text)))
        if self._ascii_candidates is None:
            return []
        out: dict[str, None] = {}
        for w in self._ascii_candidates.findall(text.lower()):
            if w not in out and self._decided(w):
                out[w] = None
        self._bound_memo()
        return list(out)

    def _decided(self, word: str) -> bool:
        """``_matches(word)``, remembered for this highlighter's life."""
        hit = self._memo.get(word)
        if hit is None:
            hit = self._memo[word] = self._matches(word)
        return hit

    def _bound_memo(self) -> None:
        if len(self._memo) > MEMO_WORDS:
            self._memo.clear()  # shared by every search with these terms: bounded

    def _matches(self, word: str) -> bool:
        if len(word) >= analyzer.MAX_TOKEN_CHARS:
            return False  # dropped by the analyzers
        if self.prefixes and word.startswith(self.prefixes):
            return True
        return bool(self.stems) and analyzer.stem_of_word(word) in self.stems

    def _ascii_spans(self, text: str) -> list[tuple[int, int]]:
        # Same tokens as the analyzers (see analyzer.word_spans), but decided per distinct word
        # and located with str.find: most of a text's words are repeats or non-matches, and
        # this avoids Python work per token (the snippet step runs for every hit of a page).
        if self._ascii_candidates is None:
            return []  # no query word starts with an ASCII letter or digit
        low = text.lower()  # ASCII: same length, so offsets carry over
        matched = [w for w in set(self._ascii_candidates.findall(low)) if self._decided(w)]
        self._bound_memo()
        if not matched:
            return []
        n = len(low)
        out = []
        for w in matched:
            size = len(w)
            i = low.find(w)
            while i >= 0:
                j = i + size
                # Whole tokens only: a matched word is a maximal run of letters/digits.
                if (i == 0 or not low[i - 1].isalnum()) and (j == n or not low[j].isalnum()):
                    out.append((i, j))
                i = low.find(w, j)
        out.sort()
        return out


_ASCII_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
# Decided words one highlighter remembers (a few MB at most).
MEMO_WORDS = 20_000


@functools.lru_cache(maxsize=512)
def _highlighter(stems: frozenset[str], prefixes: tuple[str, ...]) -> Highlighter:
    return Highlighter._make(stems, prefixes)


def mark(text: str, spans: list[tuple[int, int]], start: int = 0, end: int | None = None) -> str:
    end = len(text) if end is None else end
    parts: list[str] = []
    pos = start
    for s, e in spans:
        if e <= start or s >= end:
            continue
        s, e = max(s, start), min(e, end)
        parts.append(html.escape(text[pos:s]))
        parts.append("<mark>" + html.escape(text[s:e]) + "</mark>")
        pos = e
    parts.append(html.escape(text[pos:end]))
    return "".join(parts)


def title_html(text: str, hl: Highlighter) -> str:
    text = text or ""
    return mark(text, hl.spans(text))


def snippet_html(text: str, hl: Highlighter, max_chars: int = SNIPPET_CHARS) -> str:
    """The window of ``text`` (about ``max_chars``, whitespace collapsed) with the most
    distinct matched words."""
    text = " ".join((text or "").split())
    spans = hl.spans(text)
    if len(text) <= max_chars:
        return mark(text, spans)
    best_start, best_score = 0, -1
    for i, (s, _e) in enumerate(spans):
        window_end = s + max_chars
        words = set()
        # Spans are sorted and disjoint, so their ends increase: stop at the first one past
        # the window.
        for a, b in spans[i:]:
            if b > window_end:
                break
            words.add(text[a:b].lower())
        if len(words) > best_score:
            best_score, best_start = len(words), s
    # Start a little before the first match, on a word boundary.
    start = max(0, best_start - 40)
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < best_start else start
    end = min(len(text), start + max_chars)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    body = mark(text, spans, start, end)
    return ("\u2026" if start > 0 else "") + body + ("\u2026" if end < len(text) else "")


def matched_words(texts: list[str], hl: Highlighter) -> list[str]:
    """Distinct matched words (lowercased) of the texts, in order of first appearance."""
    seen: dict[str, None] = {}
    for text in texts:
        seen.update(dict.fromkeys(hl.words(text or "")))
    return list(seen)
