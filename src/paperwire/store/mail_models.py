"""Tables of the digest mail: subscriptions, the exactly-once delivery ledger and the papers
already mailed to each subscriber (``digest/send.py`` states the guarantees).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from paperwire.store.base import Base, utcnow


class Subscription(Base):
    """An email subscription. Nothing is sent until ``status`` is ``active`` (double opt-in)."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
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
        ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True
    )
    edition: Mapped[str] = mapped_column(String(8))  # daily | weekly
    period: Mapped[str] = mapped_column(String(16))  # 2026-11-26 | 2026-W48
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

    __table_args__ = (
        UniqueConstraint(
            "subscription_id", "edition", "period", name="uq_digest_deliveries_sub_edition_period"
        ),
    )


class SentPaper(Base):
    """A paper already mailed to a subscriber: never send it to them again."""

    __tablename__ = "sent_papers"

    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("subscriptions.id", ondelete="CASCADE"), primary_key=True
    )
    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("digest_deliveries.id", ondelete="CASCADE"), index=True
    )


# The tables the foreign keys above name, whichever module is imported first.
import paperwire.store.models  # noqa: E402,F401
