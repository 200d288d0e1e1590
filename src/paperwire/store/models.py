"""SQLAlchemy 2.0 models: the one schema every part of Paperwire shares.

Invariants:
- ``Paper.id`` is stable: the arXiv id without version (``2104.12255``, ``hep-th/9901001``)
  where there is one, otherwise ``<source>:<id>`` (``seed:...``, ``beir:...``).
- ``Paper.upvotes`` = ``Paper.imported_upvotes`` + number of ``Upvote`` rows; it is kept in
  step by the vote functions in ``store.votes`` inside the same transaction.
- ``Paper.num_comments`` counts visible comments, kept in step the same way.
- ``Paper.content_hash`` is a digest of the metadata columns only (never of community data),
  so a re-import can tell new / updated / unchanged without touching votes or comments.
- ``Paper.modified_at`` changes whenever indexed content (metadata or visibility) changes; search
  indexes use it as their change feed.
- Schema changes go through Alembic migrations in ``store/migrations/versions``; the models and
  the migrations must agree (``tests/store/test_migrations.py`` checks it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints so that SQLite batch migrations and PostgreSQL agree on names.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Naive UTC timestamp: every DateTime column in the schema stores UTC without tzinfo."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Paper(Base):
    __tablename__ = "papers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16), default="arxiv")
    version: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text, default="")
    # Ordered list of {"name": str, "affiliations": [str, ...]}.
    authors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Known author count; can exceed len(authors) when a source gives only a count.
    author_count: Mapped[int] = mapped_column(Integer, default=0)
    primary_category: Mapped[str | None] = mapped_column(String(32))
    categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    # Ordered list of {"version": int, "created": ISO-8601 str}.
    versions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    comments: Mapped[str | None] = mapped_column(Text)
    journal_ref: Mapped[str | None] = mapped_column(Text)
    doi: Mapped[str | None] = mapped_column(String(255))
    license: Mapped[str | None] = mapped_column(String(255))
    abs_url: Mapped[str | None] = mapped_column(String(255))
    pdf_url: Mapped[str | None] = mapped_column(String(255))
    content_hash: Mapped[str] = mapped_column(String(40))
    imported_upvotes: Mapped[int] = mapped_column(Integer, default=0)
    upvotes: Mapped[int] = mapped_column(Integer, default=0)
    num_comments: Mapped[int] = mapped_column(Integer, default=0)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    modified_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # The abstract's key sentence chosen with its sentence vectors (summary/keysentence.py),
    # derived data: current only while ``key_sentence_hash`` equals ``content_hash`` and
    # ``key_sentence_scorer`` the scorer's version; otherwise readers choose by the rule.
    # Writing it never changes ``modified_at`` (no search index depends on it).
    key_sentence: Mapped[str | None] = mapped_column(Text)
    key_sentence_hash: Mapped[str | None] = mapped_column(String(40))
    key_sentence_scorer: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (
        Index("ix_papers_modified_at", "modified_at"),
        Index("ix_papers_published_at", "published_at"),
        Index("ix_papers_upvotes", "upvotes"),
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Session(Base):
    """A signed-in browser session; the cookie carries the random id, the table its hash."""

    __tablename__ = "sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class FeedEntry(Base):
    """A paper on the daily feed. A paper is on the feed at most once (``uq_feed_entries_paper_id``)."""

    __tablename__ = "feed_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), unique=True)
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                     index=True)
    # Name of the submitter when it is not a local user (imported Daily Papers entries).
    submitted_by_name: Mapped[str | None] = mapped_column(String(128))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Upvote(Base):
    __tablename__ = "upvotes"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"),
                                          primary_key=True, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)          # Markdown as written
    body_html: Mapped[str] = mapped_column(Text)     # rendered and sanitized once, on write
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    edited_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Subscription(Base):
    """An email subscription. Nothing is sent until ``status`` is ``active`` (double opt-in)."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                index=True)
    # pending | active | unsubscribed | paused
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    # daily | weekly | both
    editions: Mapped[str] = mapped_column(String(8), default="daily")
    max_papers: Mapped[int] = mapped_column(Integer, default=10)
    # List of {"kind": "query"|"category"|"author", "value": str, "threshold": float|None}.
    topics: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Bumped to invalidate every link already mailed (e.g. after unsubscribe + resubscribe).
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    failure_count: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    unsubscribed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class DigestDelivery(Base):
    """One digest for (subscription, edition, period): the exactly-once ledger.

    A row is written (``pending``) before the message is handed to SMTP and marked ``sent``
    after; the unique constraint makes a second run or a second worker skip it.
    """

    __tablename__ = "digest_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    edition: Mapped[str] = mapped_column(String(8))          # daily | weekly
    period: Mapped[str] = mapped_column(String(16))          # 2026-11-26 | 2026-W48
    # pending | sending | sent | failed | skipped
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    message_id: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    paper_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("subscription_id", "edition", "period",
                                       name="uq_digest_deliveries_sub_edition_period"),)


class SentPaper(Base):
    """A paper already mailed to a subscriber: never send it to them again."""

    __tablename__ = "sent_papers"

    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"),
                                          primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("digest_deliveries.id",
                                                        ondelete="CASCADE"), index=True)


class Embedding(Base):
    """A paper's embedding, shared by every process through the database.

    ``content_hash`` is the paper's hash when it was embedded: a mismatch means re-embed.
    """

    __tablename__ = "embeddings"

    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"),
                                          primary_key=True)
    model: Mapped[str] = mapped_column(String(128))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class SentenceVectors(Base):
    """The "Title. Sentence" vectors of a paper's abstract sentences, packed in one row.

    ``vectors`` is ``count`` x ``dim`` int8 (unit vectors x 127, like the ANN index), in
    sentence order. Written in the same transaction as the paper's ``embeddings`` row; a
    ``model`` or ``content_hash`` mismatch means re-embed. Read only for the ~200 candidates
    of a query, never loaded whole.
    """

    __tablename__ = "sentence_vectors"

    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"),
                                          primary_key=True)
    model: Mapped[str] = mapped_column(String(128))
    dim: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    vectors: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Checkpoint(Base):
    """Named progress markers (harvest resumption, index watermarks, schedules)."""

    __tablename__ = "checkpoints"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class JobRun(Base):
    """One run of a scheduled or queued job, for `paperwire jobs`.

    ``key`` identifies the unit of work (e.g. ``digest:daily:2026-11-26``); a unique
    (name, key) lets several workers race for a job and exactly one win it.
    """

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    key: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), default="running")  # running|ok|failed
    worker: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("name", "key", name="uq_job_runs_name_key"),)


class RateEvent(Base):
    """A rate-limited action, shared by all web workers (sliding window per key)."""

    __tablename__ = "rate_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_rate_events_key_at", "key", "at"),)


class PaperAuthor(Base):
    """One author of a paper, with the matching keys of ``paperwire.authors.names``.

    Derived from ``Paper.authors``: written by ``store.papers`` whenever a paper's metadata
    is inserted or changed (and backfilled by migration 0005), so it always lists the
    paper's current authors in order. Authors whose name has no letters or digits are left
    out (``strict_key`` would be empty).
    """

    __tablename__ = "paper_authors"

    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"),
                                          primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    strict_key: Mapped[str] = mapped_column(String(255))
    loose_key: Mapped[str] = mapped_column(String(255))

    __table_args__ = (
        Index("ix_paper_authors_strict_key", "strict_key"),
        Index("ix_paper_authors_loose_key", "loose_key"),
    )


class AuthorFollow(Base):
    """A member follows an author, by strict key (``paperwire.authors.names``)."""

    __tablename__ = "author_follows"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    strict_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))     # the display name when followed
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AuthorClaim(Base):
    """A member's claim to be the author behind a strict key.

    ``status``: pending | approved | released | revoked. At most one *approved* claim per
    strict key is enforced by ``services.authors`` (a second approval is refused).
    ``rule`` says how it was approved: "admin" or "email-domain".
    """

    __tablename__ = "author_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    strict_key: Mapped[str] = mapped_column(String(255), index=True)
    name: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    rule: Mapped[str | None] = mapped_column(String(32))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class PaperLink(Base):
    """A link from a paper to its code or another resource (``ingest/links.py`` kinds).

    ``source``: ``extracted`` (from the abstract or arXiv comment at ingest), ``member`` (added
    on the paper page by ``added_by``) or ``demo`` (the demo seed's ``code_url``). ``status``:
    ``visible``, ``pending`` (a member link awaiting review when reviews are on) or ``removed``
    (hidden by an admin; kept so that re-extraction does not bring it back). A URL is on a
    paper once (``uq_paper_links_paper_id``)."""

    __tablename__ = "paper_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    url: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), default="extracted")
    added_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                 index=True)
    status: Mapped[str] = mapped_column(String(16), default="visible")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("paper_id", "url", name="uq_paper_links_paper_id"),
                      Index("ix_paper_links_status", "status", "created_at"))


__all__ = [
    "Base", "Paper", "User", "Session", "ApiToken", "FeedEntry", "Upvote", "Comment",
    "Subscription", "DigestDelivery", "SentPaper", "Embedding", "SentenceVectors", "Checkpoint",
    "JobRun", "RateEvent", "PaperAuthor", "AuthorFollow", "AuthorClaim", "PaperLink",
    "utcnow",
]

# The library tables (issue 13) are declared in their own module; importing it here puts
# them in ``Base.metadata`` wherever the models are loaded (it needs ``Base``, defined above).
# Discussions and notifications (issue 14 D): comment revisions, notifications, mail ledger.
from paperwire.store import discussion_models as _discussion_models  # noqa: E402,F401
from paperwire.store import library_models as _library_models  # noqa: E402,F401
from paperwire.store import recommend_models as _recommend_models  # noqa: E402,F401
