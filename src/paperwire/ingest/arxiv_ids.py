"""arXiv identifiers: parse what people paste (ids, `arXiv:` references, abs/pdf URLs).

Invariants:
- ``normalize_arxiv_id`` returns ``(id_without_version, version_or_None)``; the id is the
  stable ``Paper.id`` for arXiv papers (``2104.12255``, ``hep-th/9901001``).
- Anything that is not an arXiv id raises ``BadInput`` whose message quotes the input and
  shows the accepted forms; nothing is sent to arXiv for it.
- Pure: no I/O.
"""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

from paperwire.errors import BadInput

# New-style ids (since April 2007): YYMM.NNNN, and YYMM.NNNNN since January 2015. The number of
# digits is not tied to the month here: arXiv itself answers for ids it does not know.
_NEW = re.compile(r"(?P<yy>\d{2})(?P<mm>\d{2})\.(?P<num>\d{4,5})(?:v(?P<v>\d+))?")
# Old-style ids: archive[.SUBJECT-CLASS]/YYMMNNN, e.g. hep-th/9901001, math.GT/0309136.
_OLD = re.compile(
    r"(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[A-Za-z]{2})?/(?P<yy>\d{2})(?P<mm>\d{2})"
    r"(?P<num>\d{3})(?:v(?P<v>\d+))?"
)
_URL_PATH = re.compile(r"^/(?:abs|pdf|html|format|src)/(?P<rest>.+?)/?$")
_HOSTS = {"arxiv.org", "www.arxiv.org", "export.arxiv.org", "xxx.lanl.gov"}

ACCEPTED = (
    "an arXiv id such as 2104.12255, 2104.12255v2, hep-th/9901001 or arXiv:2104.12255, "
    "or an arxiv.org/abs or /pdf URL"
)


def normalize_arxiv_id(raw: str) -> tuple[str, int | None]:
    """Parse an arXiv id or URL into (id without version, version or None)."""
    if not isinstance(raw, str) or not raw.strip():
        raise BadInput(f"empty arXiv id: expected {ACCEPTED}")
    # Fast path for the common case (snapshot and OAI ids are already canonical).
    match = _NEW.fullmatch(raw)
    if match and not match.group("v") and 1 <= int(match.group("mm")) <= 12:
        return raw, None
    text = raw.strip()
    candidate = _strip_url(text)
    if candidate is None:
        candidate = text
        if candidate[:6].lower() == "arxiv:":
            candidate = candidate[6:].strip()
    if candidate.lower().endswith(".pdf"):
        candidate = candidate[:-4]
    match = _NEW.fullmatch(candidate)
    if match:
        _check_month(raw, match.group("mm"))
        pid = f"{match.group('yy')}{match.group('mm')}.{match.group('num')}"
        return pid, _version(match.group("v"))
    match = _OLD.fullmatch(candidate)
    if match:
        _check_month(raw, match.group("mm"))
        pid = f"{match.group('archive')}/{match.group('yy')}{match.group('mm')}{match.group('num')}"
        return pid, _version(match.group("v"))
    raise BadInput(f"not an arXiv id: {raw!r}; expected {ACCEPTED}")


def is_arxiv_id(raw: str) -> bool:
    try:
        normalize_arxiv_id(raw)
    except BadInput:
        return False
    return True


def _strip_url(text: str) -> str | None:
    """The id part of an arxiv.org URL (with or without scheme), or None if not a URL."""
    lowered = text.lower()
    if "://" not in lowered and not any(lowered.startswith(h + "/") for h in _HOSTS):
        return None
    parts = urlsplit(text if "://" in text else "https://" + text)
    host = (parts.hostname or "").lower()
    if host not in _HOSTS:
        raise BadInput(f"not an arXiv URL: {text!r} (host {host or '?'}); expected {ACCEPTED}")
    match = _URL_PATH.match(unquote(parts.path))
    if not match:
        raise BadInput(f"arXiv URL without a paper id: {text!r}; expected {ACCEPTED}")
    return match.group("rest")


def _check_month(raw: str, mm: str) -> None:
    if not 1 <= int(mm) <= 12:
        raise BadInput(f"not an arXiv id: {raw!r} (month {mm} does not exist); expected {ACCEPTED}")


def _version(v: str | None) -> int | None:
    if v is None:
        return None
    number = int(v)
    if number < 1:
        raise BadInput(f"arXiv versions start at v1, got v{v}")
    return number


def abs_url(pid: str) -> str:
    return f"https://arxiv.org/abs/{pid}"


def pdf_url(pid: str) -> str:
    return f"https://arxiv.org/pdf/{pid}"
