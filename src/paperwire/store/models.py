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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from paperwire.store.base import NAMING, Base, utcnow


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
    submitted_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Name of the submitter when it is not a local user (imported Daily Papers entries).
    submitted_by_name: Mapped[str | None] = mapped_column(String(128))
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Upvote(Base):
    __tablename__ = "upvotes"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)


class Comment(Base):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)  # Markdown as written
    body_html: Mapped[str] = mapped_column(Text)  # rendered and sanitized once, on write
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    edited_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


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

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_rate_events_key_at", "key", "at"),)


class PaperLink(Base):
    """A link from a paper to its code or another resource (``records/links.py`` kinds).

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
    added_by: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="visible")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("paper_id", "url", name="uq_paper_links_paper_id"),
        Index("ix_paper_links_status", "status", "created_at"),
    )


__all__ = [
    "Base",
    "Paper",
    "User",
    "Session",
    "ApiToken",
    "FeedEntry",
    "Upvote",
    "Comment",
    "Subscription",
    "DigestDelivery",
    "SentPaper",
    "Embedding",
    "SentenceVectors",
    "Checkpoint",
    "JobRun",
    "RateEvent",
    "PaperAuthor",
    "AuthorFollow",
    "AuthorClaim",
    "PaperLink",
    "NAMING",
    "utcnow",
]

# The library tables (issue 13) are declared in their own module; importing it here puts
# them in ``Base.metadata`` wherever the models are loaded (it needs ``Base``, defined above).
# Discussions and notifications (issue 14 D): comment revisions, notifications, mail ledger.
from paperwire.store import discussion_models as _discussion_models  # noqa: E402,F401
from paperwire.store import library_models as _library_models  # noqa: E402,F401
from paperwire.store import recommend_models as _recommend_models  # noqa: E402,F401

# Mail, vectors and authors likewise; their classes are re-exported here (``__all__``).
from paperwire.store.author_models import AuthorClaim, AuthorFollow, PaperAuthor  # noqa: E402
from paperwire.store.mail_models import DigestDelivery, SentPaper, Subscription  # noqa: E402
from paperwire.store.vector_models import Embedding, SentenceVectors  # noqa: E402
