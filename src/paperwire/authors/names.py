"""Author-name normalisation for matching. Pure.

Two keys, on purpose of different strength:

- ``strict_key(name)``: the name after normalisation, exactly. Case, accents (NFKD plus a few
  letters NFKD does not decompose: ``Ø Ł Đ ß Æ Œ Þ``), punctuation (periods, hyphens,
  apostrophes, extra spaces), a "Last, First" order and trailing suffixes (Jr., Sr., II, III,
  IV) do not matter: ``"Balázs, C."``, ``"C. Balazs"`` and ``"c balazs"`` share ``"c balazs"``;
  ``"C.-P. Yuan"`` and ``"C. -P. Yuan"`` share ``"c p yuan"``. Anything else does:
  ``"J. Smith"`` and ``"John Smith"`` have different strict keys. An author page shows the
  papers of ONE strict key, so two people are never merged silently.
- ``loose_key(name)``: the family name (last token) plus the first initial
  (``"smith j"``). It groups the spellings that *may* be one person (``"J. Smith"``,
  ``"John Smith"``, ``"Jane Smith"``); an author page lists the other strict names under its
  loose key as "also listed as" (``compatible``: every given name agrees with the other's
  initial) or "did you mean" (the rest) instead of merging them.

Invariants (tested with hypothesis): ``strict_key`` is idempotent (a key is its own key) and
``loose_key(strict_key(n)) == loose_key(n)``; both are accent- and case-insensitive, and
``"Last, First"`` gives the key of ``"First Last"``. A name with no
letters or digits (``","``, ``"."``) has the empty key: it is no author.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters NFKD leaves whole (they are not "letter + combining mark").
_FOLD = str.maketrans(
    {
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "þ": "th",
        "Þ": "th",
        "ı": "i",
    }
)
SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
# Apostrophes join (O'Brien -> obrien); every other non-word character separates.
_APOSTROPHES = re.compile(r"['’`´]")
_SEPARATORS = re.compile(r"[\W_]+")


def _strip_marks(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def _fold_once(text: str) -> str:
    # Marks go before case folding too: some fold to letters (U+0345 -> iota).
    return _strip_marks(_strip_marks(text).casefold().translate(_FOLD))


def _fold(text: str) -> str:
    # Case folding can yield decomposable letters and decomposition uppercase ones (rare,
    # e.g. U+0130, U+210C): repeat to the fixed point, so a key is its own key.
    for _ in range(4):
        folded = _fold_once(text)
        if folded == text:
            break
        text = folded
    return text


def _tokens(text: str) -> list[str]:
    text = _APOSTROPHES.sub("", _fold(text))
    return [t for t in _SEPARATORS.split(text) if t]


def _reorder(name: str) -> str:
    """ "Last, First" (and "Last, First, Jr." / "Last, Jr., First") as "First Last"."""
    parts = [p.strip() for p in name.split(",")]
    parts = [p for p in parts if _tokens(p)]
    if len(parts) < 2:
        return " ".join(parts) if parts else ""
    kept = parts
    if len(parts) >= 3:
        # "Last, First, Jr." or BibTeX's "Last, Jr., First": a part that is only a suffix is
        # dropped. With two parts ("Smith, Jr") the second is the given name, as written.
        kept = [p for p in parts if not (len(_tokens(p)) == 1 and _tokens(p)[0] in SUFFIXES)]
        if len(kept) < 2:
            kept = parts[:2]
    last, first = kept[0], " ".join(kept[1:])
    return f"{first} {last}"


def name_tokens(name: str) -> list[str]:
    """Normalised tokens of a name in "given names ... family name" order, suffixes dropped."""
    # Compatibility forms first, so a fullwidth or vertical comma is a comma.
    name = unicodedata.normalize("NFKD", name)
    tokens = _tokens(_reorder(name) if "," in name else name)
    # Only a third (or later) token can be a suffix: "Smith Jr" alone stays as written.
    while len(tokens) > 2 and tokens[-1] in SUFFIXES:
        tokens.pop()
    return tokens


@lru_cache(maxsize=65536)
def strict_key(name: str) -> str:
    """The exact-after-normalisation key (see the module docstring); "" for no name."""
    return " ".join(name_tokens(name))


def loose_key(name: str) -> str:
    """Family name + first initial (``"smith j"``); the family name alone for a one-word
    name; "" for no name."""
    tokens = name_tokens(name)
    if not tokens:
        return ""
    if len(tokens) == 1:
        return tokens[0]
    return f"{tokens[-1]} {tokens[0][0]}"


def compatible(a: str, b: str) -> bool:
    """May names ``a`` and ``b`` be the same person? Same family name and the given names
    agree pairwise, an initial agreeing with any name it starts (``"J. Smith"`` ~ ``"John
    Smith"``, ``"J. R. Smith"`` ~ ``"John Smith"``, not ``"Jane Smith"`` ~ ``"John Smith"``).
    Symmetric; a name is compatible with itself."""
    ta, tb = name_tokens(a), name_tokens(b)
    if not ta or not tb or ta[-1] != tb[-1]:
        return False
    for x, y in zip(ta[:-1], tb[:-1]):
        if x == y:
            continue
        if len(x) == 1 and y.startswith(x):
            continue
        if len(y) == 1 and x.startswith(y):
            continue
        return False
    return True


def slug(name: str) -> str:
    """The name as it appears in an author page's URL: the display name itself, spaces
    kept (the router decodes %20); only surrounding whitespace is dropped."""
    return " ".join(name.split())
