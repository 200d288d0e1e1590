"""Pure parsers for list imports: pasted ids/URLs, BibTeX files and Paperwire's JSON export.

Each parser returns one ``Line`` per thing it read, in input order: either a paper id (an arXiv
id without version, or a Paperwire paper id for non-arXiv papers) or an error saying which
line and why. Nothing is dropped silently: blank lines and ``#`` comments are the only
things skipped. Duplicates are kept (the import adds each paper once).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

from paperwire.errors import BadInput
from paperwire.ingest.arxiv_ids import normalize_arxiv_id

# A Paperwire id of a non-arXiv paper (``seed:...``, ``beir:...``): source prefix + id.
_LOCAL_ID = re.compile(r"^[a-z][a-z0-9_-]{1,15}:[A-Za-z0-9][A-Za-z0-9._:/\-]{0,47}$")
_ARXIV_IN_TEXT = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|arxiv:\s*)"
    r"([a-z\-]+(?:\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5})(v\d+)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Line:
    line: int  # 1-based line number in the input (entry start for BibTeX)
    text: str  # what was read (shortened), for messages
    paper_id: str | None  # the id to add, or None with ``error``
    error: str | None = None

    @property
    def message(self) -> str:
        return f"line {self.line} ({self.text}): {self.error}"


def _short(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


def id_of(raw: str) -> str:
    """The paper id one pasted token stands for: an arXiv id/URL, or a Paperwire id of a
    non-arXiv paper (``seed:...``). BadInput names what was wrong."""
    raw = raw.strip()
    if _LOCAL_ID.match(raw) and not raw.lower().startswith(("arxiv:", "http:", "https:")):
        return raw
    pid, _version = normalize_arxiv_id(raw)
    return pid


def parse_pasted(text: str) -> list[Line]:
    """One id or URL per line (commas, semicolons and spaces also separate ids)."""
    out: list[Line] = []
    for number, raw_line in enumerate(text.splitlines(), 1):
        # A comment starts at a "#" that begins the line or follows a space (a URL's own
        # "#fragment" stays).
        content = re.sub(r"(^|\s)#.*$", "", raw_line)
        for token in re.split(r"[\s,;]+", content.strip()):
            if not token:
                continue
            try:
                out.append(Line(number, _short(token), id_of(token)))
            except BadInput as exc:
                out.append(Line(number, _short(token), None, _reason(exc)))
    return out


def _reason(exc: BadInput) -> str:
    message = str(exc)
    # normalize_arxiv_id's message repeats the input (the Line carries it already) and lists
    # every accepted form; keep only the reason.
    match = re.match(r"not an arXiv (id|URL)\b[^(;]*(\([^)]*\))?", message)
    if match:
        what = match.group(1)
        if match.group(2):
            return f"not an arXiv {what} {match.group(2)}"
        return "not an arXiv id or arxiv.org URL"
    return message.split("; expected", 1)[0]


# --- BibTeX ------------------------------------------------------------------------------------


def _entries(text: str) -> Iterator[tuple[int, str, str | None]]:
    """(start line, entry type, body) for each ``@type{...}`` / ``@type(...)`` entry, with
    braces matched; an unterminated entry yields body None."""
    i, n = 0, len(text)
    while True:
        at = text.find("@", i)
        if at < 0:
            return
        match = re.match(r"@\s*([A-Za-z]+)\s*([{(])", text[at:])
        if not match:
            i = at + 1
            continue
        kind, opener = match.group(1).lower(), match.group(2)
        start = at + match.end()
        # Braces nest inside either form; a "(" entry ends at ")" outside braces.
        braces, j, end = 0, start, None
        while j < n:
            ch = text[j]
            if ch == "\\":
                j += 2
                continue
            if ch == "{":
                braces += 1
            elif ch == "}":
                if braces == 0 and opener == "{":
                    end = j
                    break
                braces -= 1
            elif ch == ")" and opener == "(" and braces == 0:
                end = j
                break
            j += 1
        line = text.count("\n", 0, at) + 1
        if end is None:
            yield line, kind, None
            return
        yield line, kind, text[start:end]
        i = end + 1


def _fields(body: str) -> tuple[str, dict[str, str]]:
    """The citation key and the fields (names lower-cased, outer braces/quotes removed).

    Read left to right: a field's value (braced, quoted, or bare up to the next comma) is
    skipped whole, so ``name = ...`` text inside a value is never taken for a field."""
    key, _, rest = body.partition(",")
    fields: dict[str, str] = {}
    pos, n = 0, len(rest)
    name_re = re.compile(r"\s*,?\s*([A-Za-z][\w\-]*)\s*=\s*")
    while pos < n:
        match = name_re.match(rest, pos)
        if not match:
            break
        name, pos = match.group(1).lower(), match.end()
        value, depth = [], 0
        quoted = pos < n and rest[pos] == '"'
        if quoted:
            pos += 1
        while pos < n:
            ch = rest[pos]
            if ch == "\\" and pos + 1 < n:
                value.append(rest[pos : pos + 2])
                pos += 2
                continue
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif depth == 0 and ((quoted and ch == '"') or (not quoted and ch == ",")):
                break
            value.append(ch)
            pos += 1
        if quoted and pos < n:
            pos += 1  # the closing quote
        fields.setdefault(name, "".join(value).strip().strip("{}").strip())
    return key.strip(), fields


def parse_bibtex(text: str) -> list[Line]:
    """One Line per entry (``@comment``, ``@string`` and ``@preamble`` are skipped): the
    arXiv id from ``eprint`` (with ``archivePrefix = arXiv`` or an arXiv-shaped value), else
    from an arxiv.org URL or ``arXiv:ID`` anywhere in the entry."""
    out: list[Line] = []
    found_any = False
    for line, kind, body in _entries(text):
        found_any = True
        if kind in ("comment", "string", "preamble"):
            continue
        if body is None:
            out.append(Line(line, f"@{kind}", None, "the entry is not closed (a brace is missing)"))
            continue
        key, fields = _fields(body)
        label = f"@{kind}{{{_short(key, 40)}}}"
        pid = None
        eprint = fields.get("eprint", "")
        prefix = fields.get("archiveprefix", "").lower()
        if eprint and prefix in ("", "arxiv"):
            try:
                pid = normalize_arxiv_id(eprint)[0]
            except BadInput:
                pid = None
        if pid is None and fields.get("paperwire"):
            try:
                pid = id_of(fields["paperwire"])
            except BadInput:
                pid = None
        if pid is None:
            match = _ARXIV_IN_TEXT.search(body)
            if match:
                try:
                    pid = normalize_arxiv_id(match.group(1))[0]
                except BadInput:
                    pid = None
        if pid is None:
            out.append(
                Line(
                    line,
                    label,
                    None,
                    "no arXiv id in the entry (no eprint field, arxiv.org URL or arXiv:ID)",
                )
            )
        else:
            out.append(Line(line, label, pid))
    if not found_any and text.strip():
        raise BadInput("this is not a BibTeX file: no @entry{...} found")
    return out


# --- Paperwire JSON export ---------------------------------------------------------------


def parse_json_export(text: str) -> list[Line]:
    """The ``papers`` of a list or library exported as JSON (``{"papers": [{"id": ...}]}``)."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadInput(f"not valid JSON: {exc}") from None
    papers = data.get("papers") if isinstance(data, dict) else None
    if not isinstance(papers, list):
        raise BadInput('not a Paperwire export: expected {"papers": [{"id": ...}, ...]}')
    out: list[Line] = []
    for i, item in enumerate(papers, 1):
        raw = item.get("id") if isinstance(item, dict) else None
        if not isinstance(raw, str):
            out.append(Line(i, f"papers[{i}]", None, 'no "id" string'))
            continue
        try:
            out.append(Line(i, _short(raw), id_of(raw)))
        except BadInput as exc:
            out.append(Line(i, _short(raw), None, _reason(exc)))
    return out


def parse_any(text: str) -> list[Line]:
    """Pick the parser by content: JSON export, BibTeX, or pasted ids."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return parse_json_export(text)
    if re.search(r"^\s*@\s*[A-Za-z]+\s*[{(]", text, re.MULTILINE):
        return parse_bibtex(text)
    return parse_pasted(text)
