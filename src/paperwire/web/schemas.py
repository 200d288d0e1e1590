"""Response models of the JSON API: what ``/openapi.json`` promises, checked by the
schemathesis run in ``tests/web/test_openapi_contract.py``.

Handlers build plain dicts (``render.paper_json``, ``render.feed_item_json``,
``actions.comment_json``...) and serialize them with orjson; these models only declare the
shape (``responses={200: {"model": ...}}``), so declaring costs nothing per request. A field
added to a dict must be added here too (extra keys are allowed by the schema, but a client
should find every key documented); a changed type fails the contract test.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel


class Author(BaseModel):
    name: str
    affiliations: list[str] = []


class PaperOut(BaseModel):
    id: str
    title: str
    summary: str
    authors: list[Author]
    authorCount: int
    publishedAt: Optional[str]
    updatedAt: Optional[str]
    upvotes: int
    numComments: int
    categories: list[str]
    primaryCategory: Optional[str]
    version: Optional[int]
    versions: list[dict[str, Any]] = []
    doi: Optional[str]
    journalRef: Optional[str] = None
    comments: Optional[str] = None
    license: Optional[str] = None
    absUrl: Optional[str]
    pdfUrl: Optional[str]
    source: Optional[str] = None
    hidden: bool = False


class Submitter(BaseModel):
    name: str


class DailyPaperOut(BaseModel):
    """An entry of the daily feed, as the public Daily Papers API shapes it."""

    paper: PaperOut
    title: str
    publishedAt: Optional[str]
    submittedOnDailyAt: Optional[str]
    day: Optional[str] = None
    submittedBy: Optional[Submitter]
    numComments: int
    trendingScore: Optional[float] = None


class PaperDetailOut(PaperOut):
    """``GET /api/papers/{id}``: the paper itself (flat, as the public API's paper endpoint)
    plus when and by whom it reached the feed, and a BibTeX entry."""

    submittedOnDailyAt: Optional[str]
    submittedBy: Optional[Submitter]
    onFeedDay: Optional[str]
    bibtex: str


class SearchResultOut(BaseModel):
    paper: PaperOut
    score: float
    highlights: list[Any]
    matchedBy: list[str] = []  # "lexical" (keyword match) and/or "semantic" (by meaning)
    similarity: Optional[float] = None  # semantic similarity in [0, 1] (None: not computed)


class SimilarOut(BaseModel):
    paper: PaperOut
    score: float


class MeOut(BaseModel):
    name: str
    isAdmin: bool


class VoteOut(BaseModel):
    paperId: str
    upvoted: bool
    upvotes: int
    changed: bool


class CommentAuthor(BaseModel):
    name: str


class CommentOut(BaseModel):
    id: int
    paperId: str
    parentId: Optional[int]
    author: Optional[CommentAuthor]
    body: str
    bodyHtml: str
    deleted: bool
    createdAt: Optional[str]


class HiddenOut(BaseModel):
    paperId: str
    hidden: bool
    changed: bool
