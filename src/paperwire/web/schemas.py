"""Response models of the JSON API: what ``/openapi.json`` promises, checked by the
schemathesis run in ``tests/web/test_openapi_contract.py``.

Handlers build plain dicts (``api_objects.paper_json``, ``api_objects.feed_item_json``,
``api_objects.comment_json``...) and serialize them with orjson; these models only declare the
shape (``responses={200: {"model": ...}}``), so declaring costs nothing per request. A field
added to a dict must be added here too (extra keys are allowed by the schema, but a client
should find every key documented); a changed type fails the contract test.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class AuthorUser(BaseModel):
    """The member who claimed an author name (the public API's ``user`` of an author)."""

    model_config = ConfigDict(populate_by_name=True)
    id_: str = Field(alias="_id")
    name: str
    fullname: str
    type: str = "user"
    url: str


class Author(BaseModel):
    """An author as the public Daily Papers API shapes it, plus ``affiliations``. ``_id`` is
    the strict key of the name (``GET /api/authors/{_id}`` is this author); ``user`` is the
    member with an approved claim on it, filled on paper and author pages (None in lists)."""

    model_config = ConfigDict(populate_by_name=True)
    name: str
    affiliations: list[str] = []
    id_: str | None = Field(None, alias="_id")
    hidden: bool = False
    user: AuthorUser | None = None


class LinkOut(BaseModel):
    """A visible link of a paper to its code or another resource."""

    id: int
    kind: str  # code, model, dataset, demo, project, video
    label: str  # the kind as the page shows it ("Code", "Project page")
    url: str  # https://..., normalised (records/links.py)


class LinkAddedOut(BaseModel):
    id: int
    paperId: str
    url: str
    kind: str
    status: str  # visible, or pending while PAPERWIRE_MEMBER_LINKS_REVIEW holds it


class PaperOut(BaseModel):
    id: str
    title: str
    summary: str
    authors: list[Author]
    authorCount: int
    publishedAt: str | None
    updatedAt: str | None
    upvotes: int
    numComments: int
    categories: list[str]
    primaryCategory: str | None
    version: int | None
    versions: list[dict[str, Any]] = []
    doi: str | None
    journalRef: str | None = None
    comments: str | None = None
    license: str | None = None
    absUrl: str | None
    pdfUrl: str | None
    source: str | None = None
    hidden: bool = False
    # One sentence of the abstract, chosen without a language model (the public Daily
    # Papers API's field name); None without an abstract. summary_kind: "extracted".
    ai_summary: str | None = None
    summary_kind: Literal["extracted"] | None = None
    # As the public Daily Papers API: the GitHub repository and the project page, when known.
    githubRepo: str | None = None
    projectPage: str | None = None
    links: list[LinkOut] = []


class Submitter(BaseModel):
    name: str


class DailyPaperOut(BaseModel):
    """An entry of the daily feed, as the public Daily Papers API shapes it."""

    paper: PaperOut
    title: str
    publishedAt: str | None
    submittedOnDailyAt: str | None
    day: str | None = None
    submittedBy: Submitter | None
    numComments: int
    trendingScore: float | None = None
    isAuthorParticipating: bool = False


class PaperDetailOut(PaperOut):
    """``GET /api/papers/{id}``: the paper itself (flat, as the public API's paper endpoint)
    plus when and by whom it reached the feed, and a BibTeX entry."""

    submittedOnDailyAt: str | None
    submittedBy: Submitter | None
    onFeedDay: str | None
    bibtex: str
    isAuthorParticipating: bool = False


class SearchResultOut(BaseModel):
    paper: PaperOut
    score: float
    highlights: list[Any]
    matchedBy: list[str] = []  # "lexical" (keyword match) and/or "semantic" (by meaning)
    similarity: float | None = None  # semantic similarity in [0, 1] (None: not computed)


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
    parentId: int | None
    author: CommentAuthor | None
    body: str
    bodyHtml: str
    deleted: bool
    createdAt: str | None
    editedAt: str | None = None
    # Nesting in thread order (0 = top level) and whether a claimed author of the paper wrote it.
    depth: int = 0
    isAuthor: bool = False


class HiddenOut(BaseModel):
    paperId: str
    hidden: bool
    changed: bool


class AuthorPaperOut(BaseModel):
    paper: PaperOut
    numComments: int
    isAuthorParticipating: bool = False


class AuthorVariantOut(BaseModel):
    """Another name under the same family name + initial: maybe the same person
    (``compatible``: the initials agree), maybe not; never merged."""

    name: str
    strictKey: str
    papers: int
    compatible: bool
    url: str


class CoauthorOut(BaseModel):
    name: str
    strictKey: str
    papers: int
    url: str


class CategoryCountOut(BaseModel):
    category: str
    papers: int


class MyClaimOut(BaseModel):
    id: int
    status: str
    createdAt: str | None


class AuthorPageOut(BaseModel):
    """``GET /api/authors/{name}``: one author (a strict key), their papers newest first
    (paginated by ``p`` and ``limit``), co-authors, categories and papers on the feed."""

    name: str
    strictKey: str
    paperCount: int
    spellings: list[str]
    variants: list[AuthorVariantOut]
    user: AuthorUser | None
    papers: list[AuthorPaperOut]
    coauthors: list[CoauthorOut]
    categories: list[CategoryCountOut]
    onFeed: list[DailyPaperOut]
    followers: int
    page: int
    limit: int
    hasMore: bool
    following: bool | None = None
    myClaim: MyClaimOut | None = None


class FollowOut(BaseModel):
    name: str
    strictKey: str
    following: bool
    changed: bool


class ClaimOut(BaseModel):
    id: int
    name: str
    strictKey: str
    status: str  # pending | approved | released | revoked
    rule: str | None = None  # admin | email-domain (how it was approved)
    user: str


class NotificationOut(BaseModel):
    id: int
    kind: str  # reply | mention | paper
    reason: str | None  # authored | submitted | saved (kind "paper")
    paperId: str
    paperTitle: str
    commentId: int
    actor: str | None
    excerpt: str
    createdAt: str
    read: bool


class NotificationsOut(BaseModel):
    unread: int
    items: list[NotificationOut]


class MarkedReadOut(BaseModel):
    marked: int
    unread: int


class RecommendationOut(BaseModel):
    """``GET /api/me/recommendations``: a paper recommended to the token's member and why."""

    paper: PaperOut
    score: float
    reason: str  # "because you saved “Mamba”", "matches your topic “x”"
    reasonKind: str  # saved|upvoted|more_like_this|list|topic|author
    reasonLabel: str  # the title, list name, topic or author it refers to
    reasonPaperId: str | None = None


# --- library and lists (issue 13) --------------------------------------------------------------


class SavedPaperOut(BaseModel):
    id: str
    savedAt: str | None
    paper: PaperOut


class ListPaperOut(BaseModel):
    id: str
    addedAt: str | None
    paper: PaperOut


class ListSummaryOut(BaseModel):
    id: int
    name: str
    public: bool
    count: int
    url: str


class FollowedListOut(BaseModel):
    id: int
    name: str
    owner: str
    url: str


class LibraryOut(BaseModel):
    """``GET /api/me/library``: saved papers (newest saved first, paginated), the member's
    lists and the public lists they follow."""

    papers: list[SavedPaperOut]
    page: int
    hasMore: bool
    total: int
    lists: list[ListSummaryOut]
    followedLists: list[FollowedListOut]


class PendingImportOut(BaseModel):
    arxivId: str
    status: str
    error: str | None


class ListOut(BaseModel):
    """A list with its papers (most recently added first). ``pending`` (imports waiting for
    arXiv) is shown to the list's owner only."""

    id: int
    name: str
    public: bool
    owner: str
    createdAt: str | None
    updatedAt: str | None
    papers: list[ListPaperOut]
    pending: list[PendingImportOut] = []


class MarksOut(BaseModel):
    paperId: str
    saved: bool
    feedback: str | None  # "more" (more like this), "less" (not interested) or null
    lists: list[int]


class ImportOut(BaseModel):
    added: list[str]
    already: list[str]
    queued: list[str]  # waiting for arXiv; added by the library-imports job
    errors: list[str]  # "line N (text): why"
    summary: str


class DatedPaperOut(BaseModel):
    paperId: str
    at: str | None


class SignalsOut(BaseModel):
    """``GET /api/me/signals``: everything the recommendations learn from."""

    upvoted: list[DatedPaperOut]
    saved: list[DatedPaperOut]
    lists: list[ListSummaryOut]
    moreLikeThis: list[DatedPaperOut]
    notInterested: list[DatedPaperOut]
    topics: list[str]
    followedAuthors: list[Any]


class AccountExportOut(BaseModel):
    """``GET /api/me/export``: the whole account (README: "Download my data")."""

    format: str
    exportedAt: str | None
    profile: dict[str, Any]
    votes: list[dict[str, Any]]
    comments: list[dict[str, Any]]
    submissions: list[dict[str, Any]]
    library: list[dict[str, Any]]
    lists: list[dict[str, Any]]
    followedLists: list[dict[str, Any]]
    signals: dict[str, Any]
    followedTopics: list[str]
    followedAuthors: list[Any]
    authorClaims: list[dict[str, Any]] = []
    discussions: dict[str, Any] = {}
    recommendationsComputedAt: str | None = None
    recommendations: list[dict[str, Any]] = []
    subscriptions: list[dict[str, Any]]
    apiTokens: list[dict[str, Any]]
