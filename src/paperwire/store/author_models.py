"""Tables of authors: each paper's authors with their matching keys, members following an
author, and members' authorship claims.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from paperwire.store.base import Base, utcnow


class PaperAuthor(Base):
    """One author of a paper, with the matching keys of ``paperwire.authors.names``.

    Derived from ``Paper.authors``: written by ``store.papers`` whenever a paper's metadata
    is inserted or changed (and backfilled by migration 0005), so it always lists the
    paper's current authors in order. Authors whose name has no letters or digits are left
    out (``strict_key`` would be empty).
    """

    __tablename__ = "paper_authors"

    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
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

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    strict_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))  # the display name when followed
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


# The tables the foreign keys above name, whichever module is imported first.
import paperwire.store.models  # noqa: E402,F401
