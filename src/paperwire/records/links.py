"""Links to code and resources found in a paper's abstract and arXiv comment: pure functions.

``extract_links(abstract, comments)`` returns the ``Link``s a paper's text names: GitHub,
GitLab, Bitbucket and anonymous.4open.science repositories (``code``), Hugging Face models
(``model``), datasets (``dataset``) and spaces (``demo``), videos (``video``), project pages
(``project``: ``*.github.io`` and other pages that the text introduces as a project page,
website, demo, code or data).
``normalize_url(url)`` is the one normalisation, shared with links members add.

Invariants (tests/records/test_links.py checks them with a table of real arXiv abstracts and
with hypothesis):
- Every URL returned is ``https://host[/path][?query]``: scheme https, host lower-case and a
  real DNS name (labels of letters, digits and ``-``, a letter TLD; no IP address, user info,
  port or ``localhost``), no ``www.``, no fragment, no trailing ``/`` or ``.git``, no trailing
  sentence punctuation, at most ``MAX_URL`` characters. ``javascript:``, ``data:`` and every
  other scheme are never returned.
- Normalising is idempotent, and extraction is idempotent on its output: extracting from the
  text of the returned URLs gives the same links.
- Each URL appears once (first occurrence wins), in the order of the text: abstract first.
- Links to the paper world itself (arXiv, DOIs, licences, paperswithcode) are not resources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

KINDS = ("code", "model", "dataset", "demo", "project", "video")
KIND_LABELS = {
    "code": "Code",
    "model": "Model",
    "dataset": "Dataset",
    "demo": "Demo",
    "project": "Project page",
    "video": "Video",
}
MAX_URL = 500

# Hosts whose links are never a paper's resources (the paper itself, citations, licences).
_SKIP_HOSTS = (
    "arxiv.org",
    "doi.org",
    "dx.doi.org",
    "creativecommons.org",
    "paperswithcode.com",
    "openreview.net",
    "aclanthology.org",
    "ieee.org",
    "acm.org",
    "springer.com",
    "sciencedirect.com",
    "nature.com",
    "orcid.org",
    "hf.co/papers",
    "huggingface.co/papers",
)
_CODE_HOSTS = (
    "github.com",
    "gitlab.com",
    "bitbucket.org",
    "codeberg.org",
    "anonymous.4open.science",
)
_VIDEO_HOSTS = ("youtube.com", "youtu.be", "vimeo.com", "bilibili.com")
_DATA_HOSTS = ("zenodo.org", "figshare.com", "kaggle.com/datasets", "dataverse.harvard.edu")
# A generic page counts as a resource only when its sentence, just before it, introduces it so.
_INTRO = re.compile(
    r"\b(project|page|website|homepage|site|demo|code|codebase|data|dataset|"
    r"available|released?|open-source|open source|repository|video|model|"
    r"benchmark|weights|implementation)\b",
    re.I,
)
_INTRO_CHARS = 60

# Candidates: an explicit http(s) URL, or a bare address on a well-known code host.
_URL = re.compile(
    r"(?:https?://|(?<![\w@/.-])(?=(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co|"
    r"bitbucket\.org|[\w-]+\.github\.io)/))[^\s<>\"'{}|\\^`\[\]]+",
    re.I,
)
_TRAILING = ".,;:!?*'\""
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TLD = re.compile(r"^[a-z]{2,24}$|^xn--[a-z0-9-]{2,59}$")


@dataclass(frozen=True)
class Link:
    url: str
    kind: str

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


def _strip_trailing(url: str) -> str:
    """Sentence punctuation and unbalanced closing brackets after a URL are not part of it."""
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in ")}]" and url.count(last) > url.count({")": "(", "}": "{", "]": "["}[last]):
            url = url[:-1]
        else:
            break
    return url


def _valid_host(host: str) -> bool:
    if not host or len(host) > 253 or "." not in host:
        return False
    labels = host.split(".")
    return all(_LABEL.match(label) for label in labels) and bool(_TLD.match(labels[-1]))


def normalize_url(raw: str) -> str | None:
    """The normal form of an http(s) URL (module invariants), or None when it is not one."""
    url = _strip_trailing((raw or "").strip())
    if not url or any(c.isspace() or ord(c) < 0x20 or c == "\x7f" for c in url):
        return None
    if not re.match(r"^https?://", url, re.I):
        if re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I) and not re.match(r"^[\w.-]+:\d", url):
            return None  # another scheme (javascript:, data:, ftp:, mailto:)
        url = "https://" + url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or "@" in parts.netloc:
        return None
    host = parts.netloc.lower()
    if ":" in host:
        host, _, port = host.partition(":")
        if port not in ("", "80", "443"):
            return None
    host = host.rstrip(".")
    while host.startswith("www."):
        host = host[4:]
    if not _valid_host(host):
        return None
    path = parts.path
    while True:  # ".git" and "/" may alternate at the end (repo.git/)
        before = path
        path = path.rstrip("/")
        if path.lower().endswith(".git"):
            path = path[:-4]
        path = _strip_trailing(path)
        if path == before:
            break
    query = _strip_trailing(parts.query)
    out = urlunsplit(("https", host, path, query, ""))
    if len(out) > MAX_URL:
        return None
    return out


def _host_path(url: str) -> tuple[str, list[str]]:
    parts = urlsplit(url)
    return parts.netloc, [p for p in parts.path.split("/") if p]


def _on(host: str, domains: tuple[str, ...]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def classify(url: str) -> str | None:
    """The kind of a normalised URL by its address alone; None when it is no resource
    (a skipped host) or when only its context could say (a generic page: ``project`` if
    introduced as one, see ``extract_links``)."""
    host, segs = _host_path(url)
    first = f"{host}/{segs[0]}" if segs else host
    if _on(host, _SKIP_HOSTS) or first in _SKIP_HOSTS:
        return None
    if host in ("huggingface.co", "hf.co"):
        if not segs:
            return None
        if segs[0] == "datasets" and len(segs) >= 2:
            return "dataset"
        if segs[0] == "spaces" and len(segs) >= 2:
            return "demo"
        if segs[0] in (
            "docs",
            "blog",
            "learn",
            "models",
            "datasets",
            "spaces",
            "settings",
            "login",
            "join",
            "pricing",
            "collections",
            "organizations",
        ):
            return "project" if segs[0] == "collections" else None
        return "model" if len(segs) >= 2 else "project"
    if _on(host, _CODE_HOSTS):
        if host == "anonymous.4open.science":
            return "code" if len(segs) >= 2 and segs[0] == "r" else None
        return "code" if len(segs) >= 2 else "project"
    if host.endswith(".github.io") or host.endswith(".gitlab.io"):
        return "project"
    if _on(host, _VIDEO_HOSTS):
        return "video"
    if (
        _on(host, ("zenodo.org", "figshare.com", "dataverse.harvard.edu"))
        or first == "kaggle.com/datasets"
    ):
        return "dataset"
    return ""  # a generic page


def extract_links(abstract: str | None, comments: str | None = None) -> list[Link]:
    """The resource links named in the abstract and the arXiv comment (module invariants)."""
    found: dict[str, Link] = {}
    for text in (abstract or "", comments or ""):
        for m in _URL.finditer(text):
            url = normalize_url(m.group())
            if url is None or url in found:
                continue
            kind = classify(url)
            if kind == "":
                before = text[max(0, m.start() - _INTRO_CHARS) : m.start()]
                before = re.split(r"[.;!?]\s", before)[-1]  # this sentence only
                introduced = _INTRO.search(before) or m.start() == 0
                kind = "project" if introduced and not url.lower().endswith(".pdf") else None
            if kind:
                found[url] = Link(url, kind)
    return list(found.values())


def member_link(raw: str, kind: str | None = None) -> Link:
    """A link a member adds: the normal form of ``raw`` with ``kind`` (or the kind its address
    says, else ``project``). ``ValueError`` names what is wrong."""
    raw = (raw or "").strip()
    if not raw:
        raise ValueError("give the link's address (https://...)")
    if len(raw) > MAX_URL:
        raise ValueError(f"the address is too long (at most {MAX_URL} characters)")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {kind[:40]!r}")
    url = normalize_url(raw)
    if url is None:
        raise ValueError(
            "not a web address: give an http(s) URL with a real host name, "
            "such as https://github.com/owner/repo"
        )
    guessed = classify(url)
    if guessed is None and not kind:
        raise ValueError(
            "that address is not a code or resource link (arXiv, DOI and "
            "licence pages are not added)"
        )
    return Link(url, kind or guessed or "project")
