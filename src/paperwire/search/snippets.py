"""Highlighted titles and abstract snippets.

Invariant: the output is HTML-escaped text in which only ``<mark>`` / ``</mark>`` are markup,
so it is safe to embed in a page as is. A word is marked when its stem is a query stem, or
when it starts with a query word used as a prefix (as the lexical matcher decides).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from paperwire.search import analyzer

SNIPPET_CHARS = 280


@dataclass(frozen=True)
class Highlighter:
    stems: frozenset[str]
    prefixes: tuple[str, ...]

    @classmethod
    def for_query(cls, stems, prefixes) -> "Highlighter":  # noqa: D102
        return cls(frozenset(stems), tuple(prefixes))

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Sorted, non-overlapping character spans of matched words."""
        if not text or (not self.stems and not self.prefixes):
            return []
        found: set[tuple[int, int]] = set()
        for stem, start, end in analyzer.stem_spans(text):
            if stem in self.stems:
                found.add((start, end))
        if self.prefixes:
            prefixes = self.prefixes
            for word, start, end in analyzer.word_spans(text):
                if word.startswith(prefixes):
                    found.add((start, end))
        out: list[tuple[int, int]] = []
        for start, end in sorted(found):
            if out and start < out[-1][1]:
                continue
            out.append((start, end))
        return out


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


def title_html(text: str, hl: Highlighter, spans=None) -> str:
    text = text or ""
    return mark(text, hl.spans(text) if spans is None else spans)


def snippet_html(text: str, hl: Highlighter, max_chars: int = SNIPPET_CHARS,
                 spans=None) -> str:
    """The window of ``text`` (about ``max_chars``) with the most distinct matched words.
    ``spans``: precomputed ``hl.spans(text)`` of the whitespace-collapsed text."""
    text = " ".join((text or "").split())
    spans = hl.spans(text) if spans is None else spans
    if len(text) <= max_chars:
        return mark(text, spans)
    best_start, best_score = 0, -1
    for i, (s, _e) in enumerate(spans):
        window_end = s + max_chars
        words = {text[a:b].lower() for a, b in spans[i:] if b <= window_end}
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


def matched_words(texts: list[str], hl: Highlighter, spans_list=None) -> list[str]:
    """Distinct matched words (lowercased), in order of first appearance."""
    seen: dict[str, None] = {}
    for i, text in enumerate(texts):
        text = text or ""
        spans = hl.spans(text) if spans_list is None else spans_list[i]
        for s, e in spans:
            seen.setdefault(text[s:e].lower(), None)
    return list(seen)
