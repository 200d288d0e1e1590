"""A member's library and signals: saved papers, "more like this" / "not interested" marks,
followed topics, and the read-out the recommender learns from (``member_signals``).

Invariants:
- Every function takes the member's ``user_id`` and only reads or writes that member's rows:
  nothing here can touch another member's library.
- Writes are idempotent: saving twice keeps one row (and its first ``created_at``), unsaving
  what is not saved changes nothing. Inserts are ``INSERT ... ON CONFLICT DO NOTHING`` so two
  racing requests of one member leave one row on SQLite and PostgreSQL alike.
- A paper has at most one feedback mark per member: "more like this" replaces "not
  interested" and the other way round.
- Only visible papers can be saved or marked (a hidden paper is NotFound, as for votes);
  removing stays possible.
- ``member_signals`` is the contract with the recommender (``paperwire.recommend``): its
  shape changes only together with the recommender. Lists are in ``store.lists``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select, union
from sqlalchemy.orm import Session

from paperwire.errors import NotFound
from paperwire.store.db import rowcount
from paperwire.store.dialect import upsert
from paperwire.store.library_models import (
    FollowedTopic,
    ListFollow,
    ListItem,
    PaperFeedback,
    PaperList,
    PendingImport,
    SavedPaper,
)
from paperwire.store.models import Paper, Upvote, utcnow

FEEDBACK_KINDS = ("more", "less")  # "more like this", "not interested"


# --- the recommender's contract --------------------------------------------------------------


@dataclass(frozen=True)
class ListSignal:
    id: int
    name: str
    is_public: bool
    paper_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MemberSignals:
    """Everything a member told us about their interests, newest first within each kind.

    Paper ids are ``Paper.id`` strings; timestamps are naive UTC. ``not_interested`` is the
    only negative signal; ``topics`` are followed search queries (the search language)."""

    upvoted: list[tuple[str, dt.datetime]]
    saved: list[tuple[str, dt.datetime]]
    lists: list[ListSignal]
    more_like_this: list[tuple[str, dt.datetime]]
    not_interested: list[tuple[str, dt.datetime]]
    topics: list[str]

    @property
    def is_empty(self) -> bool:
        """No positive signal at all (``not_interested`` alone recommends nothing)."""
        return not (
            self.upvoted
            or self.saved
            or self.more_like_this
            or self.topics
            or any(s.paper_ids for s in self.lists)
        )


def member_signals(session: Session, user_id: int) -> MemberSignals:
    """The member's signals (see ``MemberSignals``); an unknown user has empty signals."""
    upvoted = [
        (p, at)
        for p, at in session.execute(
            select(Upvote.paper_id, Upvote.created_at)
            .where(Upvote.user_id == user_id)
            .order_by(Upvote.created_at.desc(), Upvote.paper_id)
        )
    ]
    saved = [
        (p, at)
        for p, at in session.execute(
            select(SavedPaper.paper_id, SavedPaper.created_at)
            .where(SavedPaper.user_id == user_id)
            .order_by(SavedPaper.created_at.desc(), SavedPaper.paper_id)
        )
    ]
    feedback = session.execute(
        select(PaperFeedback.paper_id, PaperFeedback.created_at, PaperFeedback.kind)
        .where(PaperFeedback.user_id == user_id)
        .order_by(PaperFeedback.created_at.desc(), PaperFeedback.paper_id)
    ).all()
    items: dict[int, list[str]] = {}
    for list_id, paper_id in session.execute(
        select(ListItem.list_id, ListItem.paper_id)
        .join(PaperList, PaperList.id == ListItem.list_id)
        .where(PaperList.user_id == user_id)
        .order_by(ListItem.added_at.desc(), ListItem.paper_id)
    ):
        items.setdefault(list_id, []).append(paper_id)
    lists = [
        ListSignal(row.id, row.name, bool(row.is_public), items.get(row.id, []))
        for row in session.execute(
            select(PaperList.id, PaperList.name, PaperList.is_public)
            .where(PaperList.user_id == user_id)
            .order_by(PaperList.id)
        )
    ]
    return MemberSignals(
        upvoted=upvoted,
        saved=saved,
        lists=lists,
        more_like_this=[(p, at) for p, at, kind in feedback if kind == "more"],
        not_interested=[(p, at) for p, at, kind in feedback if kind == "less"],
        topics=followed_topics(session, user_id),
    )


def members_with_signals(session: Session) -> list[int]:
    """Ids of members with at least one positive signal (upvote, save, list item, "more like
    this", followed topic), ascending: the nightly recommendation job's work list."""
    sources = union(
        select(Upvote.user_id),
        select(SavedPaper.user_id),
        select(PaperList.user_id).join(ListItem, ListItem.list_id == PaperList.id),
        select(PaperFeedback.user_id).where(PaperFeedback.kind == "more"),
        select(FollowedTopic.user_id),
    ).subquery()
    return sorted(set(session.scalars(select(sources.c[0]))))


# --- helpers -------------------------------------------------------------------------------


def require_visible_paper(session: Session, paper_id: str) -> None:
    hidden = session.scalar(select(Paper.hidden).where(Paper.id == paper_id))
    if hidden is None or hidden:
        raise NotFound(f"no paper with id {paper_id}")


# --- saves ---------------------------------------------------------------------------------


def save_paper(
    session: Session, user_id: int, paper_id: str, at: dt.datetime | None = None
) -> bool:
    """Put a paper in the member's library; True when this call added it."""
    require_visible_paper(session, paper_id)
    stmt = (
        upsert(session, SavedPaper, ["user_id", "paper_id"])
        .values(user_id=user_id, paper_id=paper_id, created_at=at or utcnow())
        .returning(SavedPaper.paper_id)
    )
    return session.execute(stmt).first() is not None


def unsave_paper(session: Session, user_id: int, paper_id: str) -> bool:
    """Take a paper out of the library (its lists keep it); True when it was there."""
    result = session.execute(
        delete(SavedPaper).where(SavedPaper.user_id == user_id, SavedPaper.paper_id == paper_id)
    )
    return (rowcount(result) or 0) == 1


def saved_paper_ids(session: Session, user_id: int | None, paper_ids: Iterable[str]) -> set[str]:
    """Which of ``paper_ids`` the member has saved (for the Save buttons on cards)."""
    ids = list(dict.fromkeys(paper_ids))
    if user_id is None or not ids:
        return set()
    found: set[str] = set()
    for start in range(0, len(ids), 900):
        found.update(
            session.scalars(
                select(SavedPaper.paper_id).where(
                    SavedPaper.user_id == user_id, SavedPaper.paper_id.in_(ids[start : start + 900])
                )
            )
        )
    return found


def count_saved(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(SavedPaper).where(SavedPaper.user_id == user_id)
        )
        or 0
    )


def saved_page(
    session: Session, user_id: int, *, offset: int = 0, limit: int = 30
) -> list[tuple[Paper, dt.datetime]]:
    """Saved papers, newest saved first (ties by paper id), hidden papers left out."""
    rows = session.execute(
        select(Paper, SavedPaper.created_at)
        .join(SavedPaper, SavedPaper.paper_id == Paper.id)
        .where(SavedPaper.user_id == user_id, Paper.hidden.is_(False))
        .order_by(SavedPaper.created_at.desc(), Paper.id)
        .offset(offset)
        .limit(limit)
    )
    return [(paper, at) for paper, at in rows]


def all_saved(session: Session, user_id: int) -> list[tuple[Paper, dt.datetime]]:
    """Every saved paper (export), newest saved first."""
    rows = session.execute(
        select(Paper, SavedPaper.created_at)
        .join(SavedPaper, SavedPaper.paper_id == Paper.id)
        .where(SavedPaper.user_id == user_id)
        .order_by(SavedPaper.created_at.desc(), Paper.id)
    )
    return [(paper, at) for paper, at in rows]


# --- "more like this" / "not interested" ------------------------------------------------------


def set_feedback(session: Session, user_id: int, paper_id: str, kind: str | None) -> str | None:
    """Mark a paper ``more`` or ``less`` (replacing the other mark), or clear it with None.
    Returns the mark after the call."""
    if kind is not None and kind not in FEEDBACK_KINDS:
        raise ValueError(f"feedback kind must be one of {FEEDBACK_KINDS}, not {kind!r}")
    if kind is None:
        session.execute(
            delete(PaperFeedback).where(
                PaperFeedback.user_id == user_id, PaperFeedback.paper_id == paper_id
            )
        )
        return None
    require_visible_paper(session, paper_id)
    stmt = upsert(
        session,
        PaperFeedback,
        ["user_id", "paper_id"],
        update={"kind": kind, "created_at": utcnow()},
    ).values(user_id=user_id, paper_id=paper_id, kind=kind, created_at=utcnow())
    session.execute(stmt)
    return kind


def feedback_for(session: Session, user_id: int | None, paper_ids: Iterable[str]) -> dict[str, str]:
    """The member's marks on ``paper_ids`` (paper id -> ``more``/``less``)."""
    ids = list(dict.fromkeys(paper_ids))
    if user_id is None or not ids:
        return {}
    out: dict[str, str] = {}
    for start in range(0, len(ids), 900):
        rows = session.execute(
            select(PaperFeedback.paper_id, PaperFeedback.kind).where(
                PaperFeedback.user_id == user_id,
                PaperFeedback.paper_id.in_(ids[start : start + 900]),
            )
        )
        out.update((paper_id, kind) for paper_id, kind in rows)
    return out


# --- followed topics -----------------------------------------------------------------------


def followed_topics(session: Session, user_id: int) -> list[str]:
    """The member's followed topic queries, in the order they were followed."""
    return list(
        session.scalars(
            select(FollowedTopic.query)
            .where(FollowedTopic.user_id == user_id)
            .order_by(FollowedTopic.created_at, FollowedTopic.id)
        )
    )


def follow_topic(session: Session, user_id: int, query: str) -> bool:
    """Follow a (validated, normalised) query; True when it was new."""
    stmt = (
        upsert(session, FollowedTopic, ["user_id", "query"])
        .values(user_id=user_id, query=query, created_at=utcnow())
        .returning(FollowedTopic.id)
    )
    return session.execute(stmt).first() is not None


def unfollow_topic(session: Session, user_id: int, query: str) -> bool:
    result = session.execute(
        delete(FollowedTopic).where(FollowedTopic.user_id == user_id, FollowedTopic.query == query)
    )
    return (rowcount(result) or 0) > 0


def count_followed_topics(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(FollowedTopic).where(FollowedTopic.user_id == user_id)
        )
        or 0
    )


# --- account deletion ----------------------------------------------------------------------


def delete_member_library(session: Session, user_id: int) -> None:
    """Remove everything of the member's library (account deletion calls this inside its
    transaction): saves, marks, topics, their lists with items, followers and pending imports,
    and their follows of others' lists. Explicit statements, like ``delete_account``, so the
    result does not depend on foreign-key actions."""
    own = select(PaperList.id).where(PaperList.user_id == user_id)
    in_list: tuple[Any, ...] = (ListItem, ListFollow, PendingImport)
    for model in in_list:
        session.execute(
            delete(model).where(model.list_id.in_(own)).execution_options(synchronize_session=False)
        )
    owned: tuple[Any, ...] = (ListFollow, SavedPaper, PaperFeedback, FollowedTopic, PaperList)
    for owner in owned:
        session.execute(
            delete(owner)
            .where(owner.user_id == user_id)
            .execution_options(synchronize_session=False)
        )
