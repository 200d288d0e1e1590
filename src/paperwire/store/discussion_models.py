"""Tables of discussions and notifications (issue 14 D): comment revisions, notifications,
members' notification preferences and the ledger of notification mails.

Own module to keep ``models.py`` small; ``models.py`` imports it at its end.

Invariants:
- ``comment_revisions`` holds every earlier version of an edited comment (the text as it was
  before each edit), oldest first by id; only moderators see it. It goes with the comment
  (cascade) and with its author's account (``store.users.delete_account``).
- A member has at most one notification per comment (``uq_notifications_user_comment``): a
  reply that also mentions them, on a paper they submitted, notifies once, as the strongest
  reason (reply > mention > paper).
- A notification belongs to at most one ``notification_mails`` row (``mail_id``), set once,
  when the mail is planned; the mail's contents are exactly the notifications pointing at
  it, so a resend after a crash is the same mail.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from paperwire.store.models import Base, utcnow


class CommentRevision(Base):
    """An earlier version of a comment, saved when its author edited it."""

    __tablename__ = "comment_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # When this version was written (the comment's creation or its previous edit).
    written_at: Mapped[dt.datetime] = mapped_column(DateTime)
    # When it was replaced by the next version.
    replaced_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # reply | mention | paper
    kind: Mapped[str] = mapped_column(String(16))
    # For kind "paper": authored | submitted | saved.
    reason: Mapped[str | None] = mapped_column(String(16))
    comment_id: Mapped[int] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    mail_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_mails.id", ondelete="SET NULL"), index=True
    )

    __table_args__ = (
        UniqueConstraint("user_id", "comment_id", name="uq_notifications_user_comment"),
        Index("ix_notifications_user_created", "user_id", "created_at"),
    )


class NotificationPrefs(Base):
    """A member's choice about notification mail (no row: no mail)."""

    __tablename__ = "notification_prefs"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[bool] = mapped_column(Boolean, default=False)
    # The address the member proved they read (by following a link mailed to it); mail goes
    # only while it equals the account's address. An account's address alone is unproven.
    confirmed_email: Mapped[str | None] = mapped_column(String(320))
    # Bumped on unsubscribe: every unsubscribe link mailed before stops working.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class NotificationMail(Base):
    """One batched notification mail: the exactly-once ledger (as ``digest_deliveries``).

    ``pending`` when planned, ``sending`` while claimed by a sender (``claimed_by``), ``sent``
    after the server accepted it, ``failed`` after a permanent refusal."""

    __tablename__ = "notification_mails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
