"""The search query language, parsed by ONE pure function: ``parse_query``.

Syntax (case-insensitive field names; whitespace separates parts):

- ``word``                  a term (ranked by BM25; also matches words that start with it)
- ``"two words"``           a phrase (the words next to each other, after stemming)
- ``-word``, ``-"a phrase"``  exclusion: papers containing it are dropped
- ``author:hinton``, ``author:"Geoffrey Hinton"`` (alias ``au:``)   author filter
- ``cat:cs.CL``, ``cat:q-bio.*``, ``cat:cs`` (alias ``category:``)  category filter;
  ``*`` is a wildcard, a bare archive (``cs``) matches all its categories
- ``after:2023``, ``after:2023-05``, ``after:2023-05-10`` published on/after the first day
  of that year/month/day; ``before:...`` published strictly before it
- ``has:code`` (also ``has:model``, ``has:dataset``, ``has:demo``, ``has:project``,
  ``has:video``; ``has:code,dataset`` = both) papers with a visible link of that kind
  (store/links.py: extracted from the abstract or arXiv comment, or added by a member)

Meaning of a query (what every caller gets: the search page, the JSON API, the CLI, the Atom
search feed and the digest topics all call ``SearchService.search``; README "Query language"
says the same in short):

1. **Hard constraints hold in every mode and every sort.** A quoted phrase must appear (its
   stems next to each other, in the title or the abstract; a phrase never spans the end of
   the title and the start of the abstract); ``-word`` / ``-"phrase"`` must not appear (title,
   abstract, or, for a word, an author name); every ``author:`` value must appear as a run
   of whole words inside ONE author's name (a phrase never spans two authors); at least one
   ``cat:`` pattern must match one of the paper's categories; ``after:``/``before:`` bound
   the publication day; every ``has:`` kind must be among the kinds of the paper's visible
   links; the explicit filters of a form or API call (``SearchFilters``) hold
   as well. Hidden papers never appear.
2. **A paper enters the result set by a keyword match or by meaning.**
   - *Keyword match* ("lexical"): the paper passes the constraints and, when the query has
     words that are not stop words, contains at least one of them (its stem in the title or
     abstract, the word in an author name, or, where prefix expansion applies, a
     title/abstract word starting with it). A query of phrases and/or filters only matches
     every paper passing the constraints (filters only: listed newest first). A query whose
     only words are stop words ("the", "of") and that has no phrase matches nothing, with a
     notice.
   - *Prefix expansion*: a word of 3+ characters that is not a stop word also matches words
     starting with it (``seq`` finds seq2seq, scRNA-seq, SeqPE). In a query of two or more
     words, common English words (``COMMON_WORDS`` in search/analyzer.py: how, what, does,
     use, new, ...) are matched as whole words only: "how" in a sentence does not find
     "However". Very common words (in more than max(1000, 0.2 %) of papers) are matched as
     whole words only too (their exact matches outnumber any page anyone reads).
   - *By meaning* ("semantic", hybrid and semantic modes): the paper passes the constraints
     and its similarity to the query is at least the similarity floor
     (``PAPERWIRE_SEMANTIC_FLOOR``, or ``min_similarity=`` per call). The similarity is the
     paper's semantic score clipped to [0, 1]: cosine(query, paper) raised by the paper's
     best-matching abstract sentence (search/sentences.py). Only the ``SEMANTIC_POOL``
     nearest papers (by the approximate nearest-neighbour index) are considered, so at most
     that many papers enter by meaning alone. Nonsense (``zzzqqq``, random letters) is below
     the floor and matches no keyword: its result set is empty.
   - Lexical mode uses keyword matches only; semantic mode uses meaning only (falling back
     to keywords when the semantic index is unavailable, with a notice); hybrid uses both.
3. **Sorting reorders exactly that set.** ``relevance``: fused keyword + meaning score (a
   query of filters only: newest first); ``newest``: publication date, newest first (ties
   in a fixed order); ``upvotes``: most upvoted first, ties and papers without upvotes
   newest first. The Atom search feed is the set, newest first.
4. **Totals and pages.** ``total`` is the size of the set and does not depend on ``limit``
   or ``offset``; when counting exactly would cost a full scan it is an estimate, flagged by
   ``total_is_estimate`` (shown as "about N"). Pages (``offset``/``limit``) partition the
   set: no paper on two pages, none skipped; ``has_more`` says whether a next page exists.
5. **Anything ignored is said.** Each part of the query that was ignored or reinterpreted
   adds a notice; an empty result says so and may suggest a near spelling of a word that
   matched nothing.

Invariants:
- ``parse_query`` never raises: anything it cannot use is either kept as plain words or
  dropped, and each such decision adds a human-readable entry to ``notices``.
- The result is immutable and depends only on the input string.
- Several ``author:`` values must all match; several ``cat:`` values match any of them;
  several ``has:`` kinds must all hold.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

FIELD_ALIASES = {
    "author": "author",
    "authors": "author",
    "au": "author",
    "cat": "cat",
    "category": "cat",
    "categories": "cat",
    "after": "after",
    "since": "after",
    "from": "after",
    "before": "before",
    "until": "before",
    "has": "has",
}
# has: values: the link kinds of records/links.py, and a few words people use for them.
HAS_KINDS = {
    "code": "code",
    "github": "code",
    "repo": "code",
    "model": "model",
    "weights": "model",
    "dataset": "dataset",
    "data": "dataset",
    "demo": "demo",
    "space": "demo",
    "project": "project",
    "page": "project",
    "website": "project",
    "video": "video",
}

_FIELD_RE = re.compile(r"^([A-Za-z][A-Za-z_-]*):(.*)$", re.S)
_CATEGORY_RE = re.compile(r"^[a-z0-9.\-*]+$")
_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")
MAX_QUERY_CHARS = 1000
_WORD_RE = re.compile(r"[^\W_]+")  # the analyzer's token boundaries (letters and digits)


@dataclass(frozen=True)
class ParsedQuery:
    """What the user asked for. Terms and phrases keep the user's spelling (the analyzer
    normalizes them); categories are lowercased patterns; dates are inclusive bounds."""

    raw: str = ""
    terms: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    excluded_terms: tuple[str, ...] = ()
    excluded_phrases: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    notices: tuple[str, ...] = field(default=())
    has: tuple[str, ...] = ()

    @property
    def has_text(self) -> bool:
        """True when there is something to rank by (terms or phrases)."""
        return bool(self.terms or self.phrases)

    @property
    def has_filters(self) -> bool:
        return bool(
            self.authors
            or self.categories
            or self.date_from
            or self.date_to
            or self.excluded_terms
            or self.excluded_phrases
            or self.has
        )

    @property
    def is_empty(self) -> bool:
        return not self.has_text and not self.has_filters

    @property
    def text(self) -> str:
        """The positive words and phrases as plain text (what the semantic side embeds)."""
        return " ".join(list(self.terms) + list(self.phrases))


def plain_query(text: str) -> ParsedQuery:
    """Text taken as plain words, no operators (evaluation claims, "more like this" text)."""
    words = [w for w in (text or "").split() if w]
    return ParsedQuery(raw=text or "", terms=tuple(dict.fromkeys(words)))


def _tokenize(raw: str) -> tuple[list[tuple[str, str, bool]], list[str]]:
    """Split into (prefix, value, quoted) parts. Quotes group words; a field name and/or '-'
    right before a quote is the prefix (``author:"A B"`` -> ("author:", "A B", True))."""
    parts: list[tuple[str, str, bool]] = []
    notices: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        if raw[i].isspace():
            i += 1
            continue
        j = i
        while j < n and not raw[j].isspace() and raw[j] != '"':
            j += 1
        prefix = raw[i:j]
        at_quote = j < n and raw[j] == '"'
        if at_quote and (prefix in ("", "-") or prefix.endswith(":")):
            end = raw.find('"', j + 1)
            if end == -1:
                notices.append(
                    "Unbalanced quote: the words after it were searched as separate words."
                )
                words = raw[j + 1 :].split()
                if prefix and words:
                    parts.append((prefix, words.pop(0), False))
                parts.extend(("", w, False) for w in words)
                break
            parts.append((prefix, raw[j + 1 : end], True))
            i = end + 1
            continue
        if prefix:
            # A word with a quote glued to its end (abc"def...): the quote starts a phrase
            # on the next round.
            parts.append(("", prefix, False))
        i = j
    return parts, notices


def _parse_date(value: str, *, upper: bool) -> dt.date | None:
    """First day of the year/month/day named; for ``before:`` the day before it."""
    m = _DATE_RE.match(value)
    if not m:
        return None
    year, month, day = int(m.group(1)), m.group(2), m.group(3)
    try:
        start = dt.date(year, int(month or 1), int(day or 1))
    except ValueError:
        return None
    if upper:
        if start == dt.date.min:
            return None  # nothing can be published before the first representable day
        return start - dt.timedelta(days=1)
    return start


def _clean_word(word: str) -> str:
    # Trailing '*' means "prefix", which every term gets anyway.
    return word.strip().rstrip("*")


def parse_query(raw: str | None) -> ParsedQuery:
    """Parse a query string; never raises (see module docstring)."""
    raw = raw or ""
    notices: list[str] = []
    if len(raw) > MAX_QUERY_CHARS:
        notices.append(f"The query was cut to its first {MAX_QUERY_CHARS} characters.")
        raw = raw[:MAX_QUERY_CHARS]
    raw = raw.replace("\u201c", '"').replace("\u201d", '"')
    parts, tok_notices = _tokenize(raw)
    notices += tok_notices
    terms: list[str] = []
    phrases: list[str] = []
    ex_terms: list[str] = []
    ex_phrases: list[str] = []
    authors: list[str] = []
    categories: list[str] = []
    has: list[str] = []
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def add_words(text: str, quoted: bool, negative: bool) -> None:
        text = text.strip()
        if not text:
            return
        words = [w for w in (_clean_word(x) for x in text.split()) if w]
        if not words:
            return
        # A quoted word the analyzer splits ("single-cell", "scRNA-seq") is a phrase too:
        # its parts must stand next to each other, as the quotes ask.
        if quoted and (len(words) > 1 or len(_WORD_RE.findall(text)) > 1):
            (ex_phrases if negative else phrases).append(" ".join(words))
        else:
            (ex_terms if negative else terms).extend(words)

    for prefix, value, quoted in parts:
        negative = False
        if not prefix and not quoted:
            # An unquoted word: split "-word" and "field:value" off it.
            if value.startswith("-"):
                negative, value = True, value[1:]
                if not value:
                    continue
            m = _FIELD_RE.match(value)
            if m:
                prefix, value = m.group(1) + ":", m.group(2)
        else:
            if prefix.startswith("-"):
                negative, prefix = True, prefix[1:]
        if not prefix:
            add_words(value, quoted, negative)
            continue
        name = prefix[:-1]
        canonical = FIELD_ALIASES.get(name.lower())
        value = value.strip()
        if canonical is None:
            notices.append(
                f"Unknown field '{name}:' \u2014 searched '{name} {value}'".rstrip()
                + " as words. Fields: author:, cat:, after:, before:, has:."
            )
            add_words(name, False, negative)
            add_words(value, quoted, negative)
            continue
        if negative:
            notices.append(f"'-{name}:' (excluding by a field) is not supported; ignored.")
            continue
        if not value:
            example = {"author": "hinton", "cat": "cs.CL", "has": "code"}.get(canonical, "2024-05")
            notices.append(f"'{name}:' needs a value (e.g. {name}:{example}); ignored.")
            continue
        if canonical == "author":
            authors.append(" ".join(value.split()))
        elif canonical == "has":
            for kind in value.lower().split(","):
                kind = kind.strip()
                if not kind:
                    continue
                if kind in HAS_KINDS:
                    has.append(HAS_KINDS[kind])
                else:
                    notices.append(
                        f"'has:{kind[:40]}' is not a kind of link (use code, model, "
                        "dataset, demo, project or video); ignored."
                    )
        elif canonical == "cat":
            for cat in value.lower().split(","):
                cat = cat.strip()
                if not cat:
                    continue
                if _CATEGORY_RE.match(cat):
                    categories.append(cat)
                else:
                    notices.append(
                        f"'{cat}' is not a category name (e.g. cs.CL, q-bio.*); ignored."
                    )
        else:
            date = _parse_date(value, upper=canonical == "before")
            if (
                date is None
                and canonical == "before"
                and _DATE_RE.match(value)
                and _parse_date(value, upper=False) == dt.date.min
            ):
                notices.append(f"'{name}:{value}' is before any date; ignored.")
            elif date is None:
                notices.append(
                    f"'{name}:{value}' is not a date (use YYYY, YYYY-MM or YYYY-MM-DD); ignored."
                )
            elif canonical == "after":
                date_from = date if date_from is None else max(date_from, date)
            else:
                date_to = date if date_to is None else min(date_to, date)

    if date_from and date_to and date_from > date_to:
        notices.append("The date range is empty (after: is later than before:).")
    return ParsedQuery(
        raw=raw,
        terms=tuple(dict.fromkeys(terms)),
        phrases=tuple(dict.fromkeys(phrases)),
        excluded_terms=tuple(dict.fromkeys(ex_terms)),
        excluded_phrases=tuple(dict.fromkeys(ex_phrases)),
        authors=tuple(dict.fromkeys(authors)),
        categories=tuple(dict.fromkeys(categories)),
        date_from=date_from,
        date_to=date_to,
        notices=tuple(notices),
        has=tuple(dict.fromkeys(has)),
    )
