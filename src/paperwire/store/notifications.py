"""Notifications, members' notification preferences, and the ledger of notification mails.

Invariants:
- ``add`` inserts at most one notification per (member, comment) (the unique constraint;
  ``ON CONFLICT DO NOTHING``): a comment edited to mention someone already notified adds
  nothing, and two writers racing add one row.
- A member only ever reads and marks their own notifications (every query takes the
  ``user_id``).
- Mail ledger (the same guarantee as the digests', ``digest/send.py``): ``plan_mails`` gives
  each member with mail switched on one ``pending`` row for all their unread, unmailed
  notifications and points those notifications at it in the same transaction (a conditional
  ``UPDATE ... WHERE mail_id IS NULL``: a racing planner gets none and drops its row).
  ``claim`` moves rows ``pending`` -> ``sending`` under one worker (and takes over rows whose
  claimer is known dead, or whose lease ran out); ``mark_sent_now`` is one single-row UPDATE
  right after the server's 250. A sent row is never claimed again, so a rerun never sends it
  twice.

Why this module is long: ``plan_mails`` points notifications at their mail in the same
transaction, so notifications, their preferences and the mail ledger share one module's SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from paperwire.store import ledger
from paperwire.store.db import rowcount
from paperwire.store.dialect import upsert
from paperwire.store.discussion_models import Notification, NotificationMail, NotificationPrefs
from paperwire.store.models import Comment, FeedEntry, Paper, User, utcnow

KINDS = ("reply", "mention", "paper")
PAPER_REASONS = ("authored", "submitted", "saved")


# --- who follows a paper ---------------------------------------------------------------------


def paper_people(session: Session, paper_id: str) -> dict[int, str]:
    """Members with a stake in a paper and why (the strongest reason: authored > submitted >
    saved): its claimed authors, who submitted it to the feed, who saved it."""
    people: dict[int, str] = {}
    for uid in _savers(session, paper_id):
        people[uid] = "saved"
    for submitter in session.scalars(
        select(FeedEntry.submitted_by).where(
            FeedEntry.paper_id == paper_id, FeedEntry.submitted_by.is_not(None)
        )
    ):
        if submitter is not None:
            people[submitter] = "submitted"
    for uid in _claimed_authors(session, paper_id):
        people[uid] = "authored"
    return people


def _savers(session: Session, paper_id: str) -> list[int]:
    try:
        from paperwire.store.library_models import SavedPaper
    except ImportError:  # the library area is not installed
        return []
    return list(session.scalars(select(SavedPaper.user_id).where(SavedPaper.paper_id == paper_id)))


def _claimed_authors(session: Session, paper_id: str) -> set[int]:
    """Members whose authorship claim of one of the paper's authors was approved (the
    authors area: ``store.author_claims``)."""
    from paperwire.store.author_claims import paper_author_users

    return paper_author_users(session, paper_id)


# --- notifications ---------------------------------------------------------------------------


def add(
    session: Session,
    comment: Comment,
    recipients: dict[int, tuple[str, str | None]],
    *,
    now: dt.datetime | None = None,
) -> int:
    """One notification per recipient (``{user_id: (kind, reason)}``) of ``comment``; members
    notified of it already are skipped. Returns how many were added."""
    if not recipients:
        return 0
    now = now or utcnow()
    stmt = (
        upsert(session, Notification, ["user_id", "comment_id"])
        .values(
            [
                dict(
                    user_id=uid,
                    kind=kind,
                    reason=reason,
                    comment_id=comment.id,
                    paper_id=comment.paper_id,
                    actor_id=comment.user_id,
                    created_at=now,
                )
                for uid, (kind, reason) in sorted(recipients.items())
            ]
        )
        .returning(Notification.id)
    )
    return len(session.execute(stmt).all())


@dataclass
class NotificationView:
    id: int
    kind: str
    reason: str | None
    comment_id: int
    paper_id: str
    paper_title: str
    actor: str | None
    excerpt: str
    created_at: dt.datetime
    read: bool


def _excerpt(body: str, limit: int = 200) -> str:
    text = " ".join((body or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _views(session: Session, query: Select[*tuple[Any, ...]]) -> list[NotificationView]:
    rows = session.execute(query).all()
    return [
        NotificationView(
            n.id,
            n.kind,
            n.reason,
            n.comment_id,
            n.paper_id,
            title,
            actor,
            "" if deleted else _excerpt(body),
            n.created_at,
            n.read_at is not None,
        )
        for n, title, actor, body, deleted in rows
    ]


def _select() -> Select[*tuple[Any, ...]]:
    return (
        select(Notification, Paper.title, User.username, Comment.body, Comment.deleted)
        .join(Paper, Paper.id == Notification.paper_id)
        .join(Comment, Comment.id == Notification.comment_id)
        .outerjoin(User, User.id == Notification.actor_id)
    )


def list_for(
    session: Session, user_id: int, *, limit: int = 50, offset: int = 0
) -> list[NotificationView]:
    """A member's notifications, newest first."""
    return _views(
        session,
        _select()
        .where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(limit)
        .offset(offset),
    )


def unread_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user_id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(
    session: Session,
    user_id: int,
    ids: Iterable[int] | None = None,
    *,
    now: dt.datetime | None = None,
) -> int:
    """Mark the member's notifications read (all of them, or ``ids``); returns how many
    changed. Ids of other members' notifications change nothing."""
    q = update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
    if ids is not None:
        ids = list(ids)
        if not ids:
            return 0
        q = q.where(Notification.id.in_(ids))
    return (
        rowcount(
            session.execute(
                q.values(read_at=now or utcnow()).execution_options(synchronize_session=False)
            )
        )
        or 0
    )


def delete_member(session: Session, user_id: int) -> None:
    """Account deletion: the member's notifications, preferences and mail ledger go; their
    name leaves other members' notifications (``actor_id`` emptied)."""
    session.execute(delete(Notification).where(Notification.user_id == user_id))
    session.execute(
        update(Notification)
        .where(Notification.actor_id == user_id)
        .values(actor_id=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(NotificationMail).where(NotificationMail.user_id == user_id))
    session.execute(delete(NotificationPrefs).where(NotificationPrefs.user_id == user_id))


def export_member(session: Session, user_id: int) -> dict[str, Any]:
    """A member's discussion data for an account export: their notification-mail choice,
    their notifications, and the earlier versions of their own edited comments."""
    from paperwire.store.discussion_models import CommentRevision

    prefs = session.get(NotificationPrefs, user_id)
    revisions = (
        session.execute(
            select(CommentRevision)
            .join(Comment, Comment.id == CommentRevision.comment_id)
            .where(Comment.user_id == user_id)
            .order_by(CommentRevision.id)
        )
        .scalars()
        .all()
    )
    return {
        "notificationEmails": bool(prefs and prefs.email),
        "notifications": [
            {
                "kind": v.kind,
                "reason": v.reason,
                "paperId": v.paper_id,
                "commentId": v.comment_id,
                "from": v.actor,
                "createdAt": v.created_at.isoformat(timespec="seconds") + "Z",
                "read": v.read,
            }
            for v in list_for(session, user_id, limit=1_000_000)
        ],
        "commentRevisions": [
            {
                "commentId": r.comment_id,
                "body": r.body,
                "writtenAt": r.written_at.isoformat(timespec="seconds") + "Z",
                "replacedAt": r.replaced_at.isoformat(timespec="seconds") + "Z",
            }
            for r in revisions
        ],
    }


# --- preferences -----------------------------------------------------------------------------


def get_prefs(session: Session, user_id: int) -> NotificationPrefs:
    """The member's preferences (defaults, unsaved, when they never chose)."""
    prefs = session.get(NotificationPrefs, user_id)
    return prefs or NotificationPrefs(user_id=user_id, email=False, token_version=0)


def set_email(session: Session, user_id: int, on: bool) -> NotificationPrefs:
    prefs = session.get(NotificationPrefs, user_id)
    if prefs is None:
        prefs = NotificationPrefs(user_id=user_id, email=on, token_version=0, updated_at=utcnow())
        session.add(prefs)
    else:
        prefs.email, prefs.updated_at = on, utcnow()
    session.flush()
    return prefs


def confirm_email(session: Session, user_id: int, token_version: int, address: str) -> bool | None:
    """The member proved they read ``address`` (a link mailed to it): mail is switched on and
    goes there. None when the link is void (an older version, or the account's address has
    changed since it was mailed)."""
    user = session.get(User, user_id)
    prefs = session.get(NotificationPrefs, user_id)
    if user is None or not user.email or user.email.lower() != address.lower():
        return None
    if prefs is None:
        if token_version != 0:
            return None
        prefs = NotificationPrefs(user_id=user_id, email=True, token_version=0)
        session.add(prefs)
    elif prefs.token_version != token_version:
        return None
    prefs.email, prefs.confirmed_email, prefs.updated_at = True, address.lower(), utcnow()
    session.flush()
    return True


def unsubscribe(session: Session, user_id: int, token_version: int) -> bool | None:
    """Switch mail off for a link signed with ``token_version``: True when it was on, False
    when it was off already, None when the link is void (an older version, or no member)."""
    prefs = session.get(NotificationPrefs, user_id)
    if prefs is None or prefs.token_version != token_version:
        return None
    was_on = bool(prefs.email)
    prefs.email = False
    prefs.token_version += 1  # every unsubscribe link mailed before is void now
    prefs.updated_at = utcnow()
    return was_on


# --- the mail ledger -------------------------------------------------------------------------


def plan_mails(session: Session, *, now: dt.datetime | None = None) -> int:
    """One pending mail per member who wants mail and has unread, unmailed notifications
    (see module invariants). Returns how many mails were planned."""
    now = now or utcnow()
    wanting = (
        session.execute(
            select(NotificationPrefs.user_id)
            .join(User, User.id == NotificationPrefs.user_id)
            .where(
                NotificationPrefs.email.is_(True),
                User.email.is_not(None),
                func.lower(User.email) == NotificationPrefs.confirmed_email,
                User.disabled.is_(False),
            )
            .where(
                select(Notification.id)
                .where(
                    Notification.user_id == NotificationPrefs.user_id,
                    Notification.mail_id.is_(None),
                    Notification.read_at.is_(None),
                    Notification.created_at <= now,
                )
                .exists()
            )
            .order_by(NotificationPrefs.user_id)
        )
        .scalars()
        .all()
    )
    planned = 0
    for uid in wanting:
        mail = NotificationMail(user_id=uid, status="pending", attempts=0, created_at=now)
        session.add(mail)
        session.flush()
        taken = rowcount(
            session.execute(
                update(Notification)
                .where(
                    Notification.user_id == uid,
                    Notification.mail_id.is_(None),
                    Notification.read_at.is_(None),
                    Notification.created_at <= now,
                )
                .values(mail_id=mail.id)
                .execution_options(synchronize_session=False)
            )
        )
        if not taken:
            session.delete(mail)  # another planner took them first
            session.flush()
            continue
        planned += 1
    return planned


@dataclass
class ClaimedMail:
    id: int
    user_id: int
    interrupted: bool  # taken over from a sender that died: it may have been delivered


def claim(
    session: Session,
    *,
    worker: str,
    limit: int,
    lease_seconds: float,
    is_dead: Callable[[str], bool] = lambda _w: False,
    now: dt.datetime | None = None,
    exclude: Iterable[int] = (),
) -> list[ClaimedMail]:
    """Take up to ``limit`` mails for ``worker`` (caller commits): pending ones, then ones
    left ``sending`` by a dead claimer or with an expired lease."""
    now = now or utcnow()
    exclude = list(exclude)
    out = [
        ClaimedMail(i, u, False)
        for i, u in ledger.take_pending(
            session,
            NotificationMail,
            worker=worker,
            limit=limit,
            now=now,
            exclude=exclude,
            returning=(NotificationMail.user_id,),
        )
    ]
    if len(out) < limit:
        stale = session.execute(
            select(NotificationMail.id, NotificationMail.claimed_by, NotificationMail.claimed_at)
            .where(NotificationMail.status == "sending", NotificationMail.claimed_by != worker)
            .order_by(NotificationMail.id)
        ).all()
        lease = dt.timedelta(seconds=lease_seconds)
        for mid, claimer, at in stale:
            if len(out) >= limit or mid in exclude:
                break
            if not (is_dead(claimer or "") or at is None or at + lease <= now):
                continue
            taken = session.execute(
                update(NotificationMail)
                .where(
                    NotificationMail.id == mid,
                    NotificationMail.status == "sending",
                    NotificationMail.claimed_by == claimer,
                )
                .values(claimed_by=worker, claimed_at=now, attempts=NotificationMail.attempts + 1)
                .returning(NotificationMail.id, NotificationMail.user_id)
            ).all()
            out += [ClaimedMail(i, u, True) for i, u in taken]
    return out


def mail_contents(session: Session, mail_id: int) -> list[NotificationView]:
    """The notifications a mail carries, oldest first: fixed when it was planned."""
    return _views(
        session,
        _select()
        .where(Notification.mail_id == mail_id)
        .order_by(Notification.created_at, Notification.id),
    )


def recipient(session: Session, user_id: int) -> tuple[str | None, str | None, bool, int]:
    """(email, display name, wants mail, token version) of a member."""
    row = session.execute(
        select(User.email, User.display_name, User.username, User.disabled).where(
            User.id == user_id
        )
    ).first()
    prefs = session.get(NotificationPrefs, user_id)
    if row is None:
        return None, None, False, 0
    if prefs is None:
        return row.email, row.display_name or row.username, False, 0
    wants = (
        bool(prefs.email)
        and not row.disabled
        and row.email is not None
        and prefs.confirmed_email == row.email.lower()
    )
    return row.email, row.display_name or row.username, wants, prefs.token_version


def mark_sent_now(engine: Engine, mail_id: int, worker: str) -> bool:
    """``sent`` in its own one-row transaction, right after the server's 250."""
    return ledger.mark_sent_now(engine, NotificationMail, mail_id, worker)


def finish(session: Session, mail_id: int, worker: str, status: str, error: str | None) -> bool:
    """``pending`` again (a temporary failure: the next run retries), ``failed`` (permanent)
    or ``skipped`` (nothing to send any more)."""
    values = dict(status=status, error=(error or "")[:2000] or None)
    if status == "pending":
        values.update(claimed_by=None, claimed_at=None)
    res = session.execute(
        update(NotificationMail)
        .where(
            NotificationMail.id == mail_id,
            NotificationMail.status == "sending",
            NotificationMail.claimed_by == worker,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(res) == 1


def counts(session: Session) -> dict[str, int]:
    return dict(
        session.execute(
            select(NotificationMail.status, func.count()).group_by(NotificationMail.status)
        ).all()
    )
