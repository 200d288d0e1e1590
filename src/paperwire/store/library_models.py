"""Tables of the personal library (issue 13): saved papers, named lists, followed lists,
"more like this" / "not interested" marks, followed topics and pending list imports.

They live in their own module to keep ``models.py`` small; ``models.py`` imports this module
at its end, so ``Base.metadata`` (migrations, tests) always has them.

Invariants:
- Everything here belongs to one member (``user_id``) and is private to them, except a list
  whose ``is_public`` is true: its name and papers are readable by anyone (never its owner's
  other lists, saves or signals).
- A member has at most one row per (user, paper) in ``saved_papers`` and in ``paper_feedback``
  (``kind`` is ``more`` or ``less``: marking one replaces the other); at most one row per
  (list, paper) in ``list_items``; list names are unique per member.
- A ``pending_imports`` row is an arXiv id waiting for arXiv to answer; at most one per
  (list, arxiv id), so a re-run import queues nothing twice.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from paperwire.store.models import Base, utcnow


class SavedPaper(Base):
    __tablename__ = "saved_papers"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_saved_papers_user_created", "user_id", "created_at"),)


class PaperList(Base):
    __tablename__ = "paper_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "name", name="uq_paper_lists_user_name"),)


class ListItem(Base):
    __tablename__ = "list_items"

    list_id: Mapped[int] = mapped_column(
        ForeignKey("paper_lists.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ListFollow(Base):
    __tablename__ = "list_follows"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    list_id: Mapped[int] = mapped_column(
        ForeignKey("paper_lists.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class PaperFeedback(Base):
    """ "More like this" (``kind='more'``) or "not interested" (``kind='less'``)."""

    __tablename__ = "paper_feedback"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class FollowedTopic(Base):
    __tablename__ = "followed_topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    query: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "query", name="uq_followed_topics_user_query"),)


class PendingImport(Base):
    __tablename__ = "pending_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    list_id: Mapped[int] = mapped_column(
        ForeignKey("paper_lists.id", ondelete="CASCADE"), index=True
    )
    arxiv_id: Mapped[str] = mapped_column(String(64))
    # pending (waiting for arXiv) | failed (arXiv answered: no such paper)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    tried_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("list_id", "arxiv_id", name="uq_pending_imports_list_arxiv"),
    )


__all__ = [
    "SavedPaper",
    "PaperList",
    "ListItem",
    "ListFollow",
    "PaperFeedback",
    "FollowedTopic",
    "PendingImport",
]
