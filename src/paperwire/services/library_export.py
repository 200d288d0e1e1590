"""Exports: a list or the whole library as BibTeX or JSON, and a member's whole account as
JSON ("Download my data").

Invariants:
- Exports only ever contain the asking member's data (or a public list, which anyone may
  read); the account export holds everything the site keeps about the member that is theirs
  (profile, votes, comments, submissions, library, lists, list follows, marks, topics,
  followed authors and authorship claims, notifications and comment revisions, stored
  recommendations, digest
  subscription settings, API token names) and no secret (no password hash, no token).
- BibTeX entries are the paper page's (``bibtex``, which the page shows too); a non-arXiv
  paper gets a
  ``paperwire`` field with its id so an export imports back to the same papers.
- The JSON export's ``papers[].id`` is what the importer reads: export then import into a
  fresh list gives the same papers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from paperwire import stored
from paperwire.store import Session
from paperwire.store import library as store
from paperwire.store import lists as list_store
from paperwire.store.library_models import PaperList
from paperwire.store.models import Paper, User


def _iso(value: dt.datetime | None) -> str | None:
    return value.replace(microsecond=0).isoformat() + "Z" if value is not None else None


_BIB_SPECIAL = re.compile(r"([&%#_{}$\\])")


def _bib_escape(text: str) -> str:
    # Titles keep their $math$ (BibTeX understands it); other specials are escaped.
    out = []
    for i, part in enumerate(re.split(r"(\$[^$]*\$)", text or "")):
        out.append(part if i % 2 else _BIB_SPECIAL.sub(r"\\\1", part))
    return " ".join("".join(out).split())


_BIB_STOP = {
    "toward",
    "towards",
    "with",
    "from",
    "using",
    "into",
    "over",
    "when",
    "what",
    "which",
    "their",
    "this",
    "that",
    "does",
    "beyond",
    "about",
}


def bibtex(paper: Paper) -> str:
    """A ``@misc`` entry in arXiv's own style (eprint, archivePrefix, primaryClass)."""
    authors = stored.author_names(paper.authors)
    title = stored.text(paper.title)
    categories = stored.strings(paper.categories)
    primary = stored.optional_text(paper.primary_category)
    year = paper.published_at.year if paper.published_at else None
    last = authors[0].split()[-1] if authors and authors[0].split() else "anon"
    title_words = re.findall(r"[A-Za-z]+", re.sub(r"\$[^$]*\$", " ", title))
    first_word = next(
        (w for w in title_words if len(w) > 3 and w.lower() not in _BIB_STOP), "paper"
    )
    key = re.sub(r"[^A-Za-z0-9]", "", f"{last}{year or ''}{first_word}").lower() or "paper"
    fields: list[tuple[str, str]] = [("title", "{" + _bib_escape(title) + "}")]
    if authors:
        fields.append(("author", " and ".join(_bib_escape(a) for a in authors)))
    if year:
        fields.append(("year", str(year)))
    if paper.source == "arxiv":
        fields += [("eprint", paper.id), ("archivePrefix", "arXiv")]
        if primary or categories:
            fields.append(("primaryClass", primary or categories[0]))
    if stored.text(paper.doi):
        fields.append(("doi", stored.text(paper.doi)))
    url = stored.http_url(paper.abs_url)
    if url:
        fields.append(("url", url))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key},\n{body}\n}}"


def bibtex_entry(paper: Paper) -> str:
    entry = bibtex(paper)
    if paper.source != "arxiv":
        entry = entry[:-2] + f",\n  paperwire = {{{paper.id}}}\n}}"
    return entry


def bibtex_of(papers: list[Paper]) -> str:
    return "\n\n".join(bibtex_entry(p) for p in papers) + ("\n" if papers else "")


def paper_item(paper: Paper, at: dt.datetime | None, key: str = "addedAt") -> dict[str, Any]:
    from paperwire.services.api_objects import paper_json

    return {"id": paper.id, key: _iso(at), "paper": paper_json(paper)}


def list_json(session: Session, row: PaperList, *, owner: str) -> dict[str, Any]:
    items = list_store.items(session, row.id)
    return {
        "id": row.id,
        "name": row.name,
        "public": bool(row.is_public),
        "owner": owner,
        "createdAt": _iso(row.created_at),
        "updatedAt": _iso(row.updated_at),
        "papers": [paper_item(p, at) for p, at in items],
    }


def list_bibtex(session: Session, row: PaperList) -> str:
    return bibtex_of([p for p, _ in list_store.items(session, row.id)])


def library_json(session: Session, user_id: int) -> dict[str, Any]:
    return {"papers": [paper_item(p, at, "savedAt") for p, at in store.all_saved(session, user_id)]}


def library_bibtex(session: Session, user_id: int) -> str:
    return bibtex_of([p for p, _ in store.all_saved(session, user_id)])


def account_export(session: Session, user: User) -> dict[str, Any]:
    """Everything of the member's account, as one JSON document."""
    from paperwire.store.users import account_rows

    uid = user.id
    sig = store.member_signals(session, uid)
    rows = account_rows(session, uid)
    votes, comments, submissions = rows.votes, rows.comments, rows.submissions
    subs, tokens = rows.subscriptions, rows.tokens
    own_lists = [
        list_json(session, row, owner=user.username)
        for row, _n in list_store.lists_of(session, uid)
    ]
    for item in own_lists:
        item["pending"] = [
            {"arxivId": p.arxiv_id, "status": p.status, "error": p.error}
            for p in list_store.pending_for_list(session, item["id"])
        ]
    return {
        "format": "paperwire-account-export/1",
        "exportedAt": _iso(dt.datetime.now(dt.UTC).replace(tzinfo=None)),
        "profile": {
            "username": user.username,
            "email": user.email,
            "displayName": user.display_name,
            "isAdmin": bool(user.is_admin),
            "createdAt": _iso(user.created_at),
        },
        "votes": [{"paperId": p, "at": _iso(at)} for p, at in votes],
        "comments": [
            {
                "id": c.id,
                "paperId": c.paper_id,
                "parentId": c.parent_id,
                "body": c.body,
                "createdAt": _iso(c.created_at),
                "editedAt": _iso(c.edited_at),
            }
            for c in comments
        ],
        "submissions": [
            {"paperId": e.paper_id, "day": e.day.isoformat(), "at": _iso(e.submitted_at)}
            for e in submissions
        ],
        "library": [{"paperId": p, "savedAt": _iso(at)} for p, at in sig.saved],
        "lists": own_lists,
        "followedLists": [
            {"id": row.id, "name": row.name, "owner": owner}
            for row, owner in list_store.followed_lists(session, uid)
        ],
        "signals": {
            "moreLikeThis": [{"paperId": p, "at": _iso(at)} for p, at in sig.more_like_this],
            "notInterested": [{"paperId": p, "at": _iso(at)} for p, at in sig.not_interested],
        },
        "followedTopics": sig.topics,
        # The authors and discussions areas export their own parts.
        **_authors_part(session, uid),
        "discussions": _discussions_part(session, uid),
        **_recommendations_part(session, uid),
        "subscriptions": [
            {
                "email": s.email,
                "status": s.status,
                "editions": s.editions,
                "maxPapers": s.max_papers,
                "topics": s.topics,
            }
            for s in subs
        ],
        "apiTokens": [
            {"name": t.name, "createdAt": _iso(t.created_at), "lastUsedAt": _iso(t.last_used_at)}
            for t in tokens
        ],
    }


def _followed_authors(session: Session, user_id: int) -> list[Any]:
    """Followed authors (the ``authors`` area's ``store.authors``) as ``{key, name}``.
    Integration point: without that module (an older tree) the list is empty."""
    try:
        from paperwire.store import authors
    except ImportError:
        return []
    names = getattr(authors, "followed_author_names", None)
    if names is not None:
        return [{"key": key, "name": name} for key, name in names(session, user_id)]
    return [_plain(a) for a in authors.followed_authors(session, user_id)]


def _authors_part(session: Session, user_id: int) -> dict[str, Any]:
    """``followedAuthors`` and ``authorClaims`` (``store.authors.export_member_authors``)."""
    try:
        from paperwire.store.authors import export_member_authors
    except ImportError:
        return {"followedAuthors": _followed_authors(session, user_id), "authorClaims": []}
    return export_member_authors(session, user_id)


def _discussions_part(session: Session, user_id: int) -> dict[str, Any]:
    """Notification choice, notifications, earlier versions of the member's comments
    (``store.notifications.export_member``)."""
    try:
        from paperwire.store.notifications import export_member
    except ImportError:
        return {}
    return export_member(session, user_id)


def _recommendations_part(session: Session, user_id: int) -> dict[str, Any]:
    """The stored For-you list (``store.recommendations.export_member``)."""
    try:
        from paperwire.store.recommendations import export_member
    except ImportError:
        return {}
    return export_member(session, user_id)


def _plain(value: Any) -> Any:
    """A followed author as JSON: a string, a dict, or a dataclass/row with a name."""
    import dataclasses

    if isinstance(value, (str, int, float)) or value is None:
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _plain(v) for k, v in dataclasses.asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return _iso(value)
    return str(getattr(value, "name", value))
