"""The public API's objects, built from stored rows: a paper, a daily-paper (feed) item and
a comment (the BibTeX entry is ``library_export.bibtex``). The web pages and JSON answers
(``web/``), the Atom feeds and the library export (``services/library_export.py``) are made
of these, so every output of a paper agrees.

Invariants:
- Paper dicts follow the public Daily Papers API (camelCase: ``id, title, summary,
  authors[{name}], publishedAt, upvotes, ...``); templates read the same keys, so HTML and
  JSON can never disagree.
- Stored values go through ``paperwire.stored``: a row stored before the record schema
  existed still gives a well-typed object.
- There is one comment shape (``comment_json``): the API's comment object, which the paper
  page's thread reads too.
- Pure functions: no SQL, no request.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from paperwire import stored
from paperwire.authors.names import strict_key
from paperwire.store import comments as comment_store
from paperwire.store.models import FeedEntry, Paper
from paperwire.summary.read import KIND as KEY_SENTENCE_KIND
from paperwire.summary.read import text_of_paper as key_sentence_text


def iso(value: dt.datetime | dt.date | None) -> str | None:
    """An API timestamp: whole seconds, and ``Z`` for the naive UTC datetimes the store keeps."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat() + ("Z" if value.tzinfo is None else "")
    return value.isoformat()


def paper_json(paper: Paper) -> dict[str, Any]:
    """The API's paper object (also what templates and feeds read).

    Built through ``paperwire.stored``: a row stored before the record schema existed (authors
    as strings, numbers among the categories, control characters, ``javascript:`` links) still
    gives a well-typed object, so it cannot break a page, the API or a feed."""
    authors = stored.authors(paper.authors)
    for author in authors:
        # The public API's author object: ``_id`` (here the strict key of the name, so
        # ``/api/authors/{_id}`` is this author's page), ``hidden``, and ``user`` (the member
        # who claimed the name; filled where a context looks claims up, else None).
        author["_id"] = strict_key(author["name"])
        author["hidden"] = False
        author["user"] = None
    categories = stored.strings(paper.categories)
    key_sentence = key_sentence_text(paper)
    return {
        "id": paper.id,
        "title": stored.text(paper.title),
        "summary": stored.text(paper.abstract),
        # The public API's field name; here an abstract sentence chosen without a language
        # model (summary/read.py), hence summary_kind "extracted".
        "ai_summary": key_sentence,
        "summary_kind": KEY_SENTENCE_KIND if key_sentence else None,
        "authors": authors,
        "authorCount": max(paper.author_count or 0, len(authors)),
        "publishedAt": iso(paper.published_at),
        "updatedAt": iso(paper.updated_at),
        "upvotes": paper.upvotes or 0,
        "numComments": paper.num_comments or 0,
        "categories": categories,
        "primaryCategory": (
            stored.optional_text(paper.primary_category) or (categories[0] if categories else None)
        ),
        "version": paper.version,
        "versions": stored.versions(paper.versions),
        "doi": stored.optional_text(paper.doi),
        "journalRef": stored.optional_text(paper.journal_ref),
        "comments": stored.optional_text(paper.comments),
        "license": stored.optional_text(paper.license),
        "absUrl": stored.http_url(paper.abs_url),
        "pdfUrl": stored.http_url(paper.pdf_url),
        "source": paper.source,
        "hidden": bool(paper.hidden),
    }


def feed_item_json(
    paper: Paper, entry: FeedEntry | None, submitter: str | None, score: float | None = None
) -> dict[str, Any]:
    """The API's daily-paper object: ``{paper, submittedOnDailyAt, submittedBy, numComments}``."""
    item: dict[str, Any] = {
        "paper": paper_json(paper),
        "title": stored.text(paper.title),
        "publishedAt": iso(paper.published_at),
        "submittedOnDailyAt": iso(entry.submitted_at) if entry else None,
        "day": iso(entry.day) if entry else None,
        "submittedBy": {"name": submitter} if submitter else None,
        "numComments": paper.num_comments or 0,
        # True when a claimed author of the paper has commented (``mark_participation``).
        "isAuthorParticipating": False,
    }
    if score is not None:
        item["trendingScore"] = round(score, 6)
    return item


def comment_json(
    view: comment_store.CommentView,
    *,
    depth: int = 0,
    author_users: set[int] | frozenset[int] = frozenset(),
) -> dict[str, Any]:
    """The API's comment object (``schemas.CommentOut``), also what the paper page's thread
    shows. ``depth``: nesting in thread order (0 = top level, ``comment_store.comment_depths``);
    ``isAuthor``: written by a member who is an approved claimed author of the paper
    (``author_users``). A deleted comment keeps its place in the thread (replies may hang
    below it) but shows neither author nor body."""
    c = view.comment
    deleted = bool(c.deleted)
    return {
        "id": c.id,
        "paperId": c.paper_id,
        "parentId": c.parent_id,
        "author": {"name": view.username} if view.username and not deleted else None,
        "body": "" if deleted else c.body,
        "bodyHtml": "" if deleted else c.body_html,
        "deleted": deleted,
        "createdAt": iso(c.created_at),
        "editedAt": None if deleted else iso(c.edited_at),
        "depth": depth,
        "isAuthor": not deleted and c.user_id in author_users,
    }


def comment_thread(
    views: list[comment_store.CommentView], author_users: set[int] | frozenset[int] = frozenset()
) -> list[dict[str, Any]]:
    """A paper's comments in thread order (``store.comments.list_comments``), each with its
    ``depth``."""
    depths = comment_store.comment_depths(views)
    return [
        comment_json(v, depth=depths.get(v.comment.id, 0), author_users=author_users) for v in views
    ]
