"""The one schema every imported paper passes before it reaches the store.

Every parser (arXiv snapshot, Daily Papers, Paperwire export, BEIR, demo seed, arXiv Atom,
OAI-PMH) ends with ``checked(item)``; a record that fails raises ``RecordError`` with
``field: reason`` (the importer adds ``FILE:LINE:``), and the rest of the file imports.

Invariants of a record that passed (what pages, feeds, mails and indexes may rely on):
- Every string is Unicode text without C0 control characters (NUL included), lone
  surrogates or the non-characters U+FFFE/U+FFFF, i.e. text that is valid in XML 1.0, JSON,
  e-mail and PostgreSQL. Parsers collapse whitespace first, so a hard-wrapped abstract
  passes. DEL and the C1 controls (U+007F-U+009F) are allowed: XML 1.0 accepts them, and real
  arXiv metadata carries them (mis-decoded UTF-8 in 7 of 100 API entries of our fixture), so
  rejecting them would lose real papers.
- ``authors`` is a list of ``{"name": str, "affiliations": [str, ...]}`` (nothing else);
  ``categories`` a list of category strings such as ``cs.CL`` or ``cond-mat.mes-hall``.
- ``abs_url`` / ``pdf_url`` are absent or ``http(s)://host/...`` (never ``javascript:``,
  ``data:`` or a relative URL), at most 255 characters (the column's size).
- Dates are naive UTC between 1900-01-01 and 2100-01-01; integers fit PostgreSQL's 32-bit
  INTEGER; every size is bounded (limits below), so one record cannot exhaust a page, a mail
  or the index, nor overflow a column.

The checks run in pydantic-core (strict mode: no coercion; patterns in Rust), which keeps a
snapshot import of millions of records affordable. Rendering still escapes everything and
guards against rows stored before this schema existed (``paperwire.stored``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    with_config,
)
from typing_extensions import TypedDict

from paperwire.ingest.items import FeedInfo, Item, RecordError
from paperwire.records import PaperRecord

MIN_DATE = dt.datetime(1900, 1, 1)
MAX_DATE = dt.datetime(2100, 1, 1)
# 32-bit INTEGER columns on PostgreSQL; counts beyond these are absurd anyway.
MAX_COUNT = 1_000_000_000

# Characters no stored text may contain: C0 controls (NUL included) and the XML 1.0
# non-characters U+FFFE/U+FFFF. (Lone surrogates cannot reach the Rust regex: pydantic rejects
# them as invalid Unicode first.)
_BAD = r"\x00-\x1f\ufffe\uffff"
_BAD_CHAR = re.compile(f"[{_BAD}\ud800-\udfff]")
_TEXT = f"^[^{_BAD}]*$"


def _text(max_length: int, min_length: int = 0, pattern: str = _TEXT) -> Any:
    return Annotated[
        str, StringConstraints(min_length=min_length, max_length=max_length, pattern=pattern)
    ]


def _date(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        raise ValueError("must be naive UTC")
    if not MIN_DATE <= value < MAX_DATE:
        raise ValueError(f"date {value.isoformat()} outside {MIN_DATE.year}-{MAX_DATE.year - 1}")
    return value


def _day(value: dt.date) -> dt.date:
    if not MIN_DATE.date() <= value < MAX_DATE.date():
        raise ValueError(f"date {value.isoformat()} outside {MIN_DATE.year}-{MAX_DATE.year - 1}")
    return value


Date = Annotated[dt.datetime, AfterValidator(_date)]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]
# Printable, no whitespace, nothing that would cut a URL path (ids appear in /papers/{id}).
PAPER_ID = r"^[^\s" + _BAD + r"?#%\\]+$"
CATEGORY = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$"
HTTP_URL = r"^https?://[^\s/?#" + _BAD + r"]+(?:[/?#][^\s" + _BAD + r"]*)?$"
ISO_DATETIME = r"^(?:19|20)\d\d-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?$"

# Shapes whose pattern failure deserves a better reason than "should match pattern".
_PATTERN_REASONS = {
    PAPER_ID: "not a usable id (no spaces, control characters, ?, #, % or \\)",
    CATEGORY: "not a category such as cs.CL",
    HTTP_URL: "not an http(s) URL",
    ISO_DATETIME: "not an ISO date-time between 1900 and 2099",
    r"^[a-z][a-z0-9-]{0,15}$": "not a source name (lower-case letters, digits, -)",
}


class Author(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid", strict=True)  # type: ignore[misc]
    name: _text(500, 1)  # type: ignore[valid-type]
    affiliations: Annotated[list[_text(1000, 1)], Field(max_length=50)]  # type: ignore


class Version(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid", strict=True)  # type: ignore[misc]
    version: Annotated[int, Field(ge=1, le=100_000)]
    created: _text(40, pattern=ISO_DATETIME)  # type: ignore[valid-type]


class RecordFields(TypedDict):
    """``PaperRecord``'s fields as the schema sees them (every field, nothing more)."""

    __pydantic_config__ = ConfigDict(extra="forbid", strict=True)  # type: ignore[misc]
    id: _text(64, 1, PAPER_ID)  # type: ignore[valid-type]
    title: _text(5_000)  # type: ignore[valid-type]
    abstract: _text(100_000)  # type: ignore[valid-type]
    source: _text(16, 1, r"^[a-z][a-z0-9-]{0,15}$")  # type: ignore[valid-type]
    version: Annotated[int, Field(ge=1, le=100_000)] | None
    authors: Annotated[list[Author], Field(max_length=20_000)]
    author_count: Count | None
    primary_category: _text(32, 1, CATEGORY) | None  # type: ignore[valid-type]
    categories: Annotated[list[_text(32, 1, CATEGORY)], Field(max_length=100)]  # type: ignore
    published_at: Date | None
    updated_at: Date | None
    versions: Annotated[list[Version], Field(max_length=1_000)]
    comments: _text(10_000) | None  # type: ignore[valid-type]
    journal_ref: _text(2_000) | None  # type: ignore[valid-type]
    doi: _text(255) | None  # type: ignore[valid-type]
    license: _text(255) | None  # type: ignore[valid-type]
    abs_url: _text(255, 1, HTTP_URL) | None  # type: ignore[valid-type]
    pdf_url: _text(255, 1, HTTP_URL) | None  # type: ignore[valid-type]
    imported_upvotes: Count | None


class FeedFields(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid", strict=True)  # type: ignore[misc]
    day: Annotated[dt.date, AfterValidator(_day)]
    submitted_by_name: _text(128, 1) | None  # type: ignore[valid-type]
    submitted_at: Date | None


_RECORD = TypeAdapter(RecordFields)
_FEED = TypeAdapter(FeedFields)


def checked(item: Item) -> Item:
    """The item itself when its record (and feed entry) pass the schema; else RecordError."""
    check_record(item.record)
    if item.feed is not None:
        try:
            _FEED.validate_python(vars(item.feed))
        except ValidationError as exc:
            raise RecordError(describe(exc, prefix="feed.")) from None
    return item


def check_record(record: PaperRecord) -> PaperRecord:
    try:
        _RECORD.validate_python(vars(record))
    except ValidationError as exc:
        raise RecordError(describe(exc)) from None
    return record


_SHAPE_NAMES: set[str] = set()


def shape(name: str, fields: dict[str, Any]) -> Any:
    """A JSON object shape a parser reads: the types of the keys it uses (all optional;
    unknown keys are ignored). Strict: a number where a string belongs is an error, not
    converted. Shapes nest (a field's type may be another shape)."""
    _SHAPE_NAMES.add(name)
    typed = TypedDict(name, fields, total=False)  # type: ignore[misc]  # built at run time
    return with_config(ConfigDict(extra="allow", strict=True))(typed)


def input_shape(name: str, fields: dict[str, Any]) -> TypeAdapter:
    """The validator of a parser's whole input record (see ``shape``)."""
    return TypeAdapter(shape(name, fields))


def validate_input(adapter: TypeAdapter, obj: Any) -> Any:
    """Check a raw input value against a parser's input shape (see the parsers); the
    validated copy, or RecordError naming the field."""
    try:
        return adapter.validate_python(obj)
    except ValidationError as exc:
        raise RecordError(describe(exc)) from None


def describe(exc: ValidationError, prefix: str = "") -> str:
    """``field: reason`` for the first error (and how many more there were)."""
    errors = exc.errors(include_url=False)
    # A value matching no member of a union gives one error per member; the deepest one
    # names the actual problem (``authors[0].name``, not "authors[0] is not a string").
    field = errors[0]["loc"][:1]
    first = max((e for e in errors if e["loc"][:1] == field), key=lambda e: len(e["loc"]))
    others = len({e["loc"][:1] for e in errors} - {first["loc"][:1]})
    text = f"{prefix}{_where(first['loc'])}: {_reason(first)}"
    if others > 0:
        text += f" (and {others} more)"
    return text


def _where(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not _is_union_tag(part):
            out += f".{part}" if out else str(part)
    return out or "record"


def _is_union_tag(part: str) -> bool:
    # pydantic names the union member it tried ("str", "list[...]", "function-after[...]").
    return (
        "[" in part
        or part in _SHAPE_NAMES
        or part in ("str", "int", "bool", "float", "dict", "list", "none", "typed-dict")
    )


def _reason(error: Mapping[str, Any]) -> str:
    kind, value = error["type"], error.get("input")
    if isinstance(value, str) and kind in ("string_pattern_mismatch", "string_unicode"):
        bad = _BAD_CHAR.search(value)
        if bad:
            char = bad.group()
            what = (
                "NUL"
                if char == "\x00"
                else "lone surrogate"
                if "\ud800" <= char <= "\udfff"
                else "non-character"
                if char in "\ufffe\uffff"
                else "control character"
            )
            return f"{what} U+{ord(char):04X} at position {bad.start()}"
        pattern = (error.get("ctx") or {}).get("pattern")
        if pattern in _PATTERN_REASONS:
            return f"{_PATTERN_REASONS[pattern]}: {_short(value)}"
    if kind == "string_too_long":
        return f"too long ({len(value or '')} characters, at most {error['ctx']['max_length']})"
    if kind in ("value_error", "assertion_error"):
        return str(error.get("ctx", {}).get("error") or error["msg"])
    message = error["msg"]
    message = message[0].lower() + message[1:]
    if kind.endswith("_type") or kind in ("greater_than_equal", "less_than_equal"):
        message += f", got {_short(value)}"
    return message


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = [
    "MAX_DATE",
    "MIN_DATE",
    "FeedInfo",
    "RecordError",
    "check_record",
    "checked",
    "describe",
    "validate_input",
]
