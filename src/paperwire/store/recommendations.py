"""Queries of the recommender (issue 13 B): the period's candidate papers, the negatives'
pool, and each member's stored recommendations (store/recommend_models.py).

Invariants: candidates and negatives are visible papers only (never hidden ones); a member's
stored recommendations are replaced as a whole and read only for that member.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from paperwire.store.models import FeedEntry, Paper, utcnow
from paperwire.store.recommend_models import MemberRecommendation

_CHUNK = 500


@dataclass(frozen=True)
class PaperRow:
    id: str
    title: str
    abstract: str
    categories: tuple[str, ...]
    authors: tuple[str, ...]
    published_at: dt.datetime | None


def _row(r: Any) -> PaperRow:
    names = tuple(a.get("name", "") if isinstance(a, dict) else str(a) for a in (r.authors or []))
    return PaperRow(
        r.id,
        r.title or "",
        r.abstract or "",
        tuple(str(c) for c in (r.categories or [])),
        names,
        r.published_at,
    )


_COLUMNS = (
    Paper.id,
    Paper.title,
    Paper.abstract,
    Paper.categories,
    Paper.authors,
    Paper.published_at,
)


def candidate_papers(session: Session, since: dt.datetime, limit: int) -> list[PaperRow]:
    """Visible papers put on the feed on or after ``since``'s day, or first published since
    then (harvested), newest first, at most ``limit``."""
    on_feed = select(FeedEntry.paper_id).where(FeedEntry.day >= since.date())
    rows = session.execute(
        select(*_COLUMNS)
        .where(Paper.hidden.is_(False))
        .where(or_(Paper.published_at >= since, Paper.id.in_(on_feed)))
        .order_by(Paper.published_at.desc().nulls_last(), Paper.id.desc())
        .limit(limit)
    )
    return [_row(r) for r in rows]


def papers_by_id(session: Session, ids: Sequence[str]) -> dict[str, PaperRow]:
    out: dict[str, PaperRow] = {}
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), _CHUNK):
        for r in session.execute(
            select(*_COLUMNS).where(Paper.id.in_(ids[start : start + _CHUNK]))
        ):
            out[r.id] = _row(r)
    return out


def negative_pool(
    session: Session, before: dt.datetime, days: int, n: int, seed: int = 0
) -> list[PaperRow]:
    """``n`` visible papers first published in the ``days`` before ``before``, drawn at random
    (seeded: the same pool for every member of one run); older papers when that is short."""
    ids = list(
        session.scalars(
            select(Paper.id)
            .where(Paper.hidden.is_(False))
            .where(Paper.published_at < before)
            .where(Paper.published_at >= before - dt.timedelta(days=days))
        )
    )
    if len(ids) < n:
        ids += list(
            session.scalars(
                select(Paper.id)
                .where(Paper.hidden.is_(False))
                .where(
                    or_(
                        Paper.published_at < before - dt.timedelta(days=days),
                        Paper.published_at.is_(None),
                    )
                )
                .order_by(Paper.id.desc())
                .limit(n - len(ids))
            )
        )
    ids.sort()
    picked = random.Random(seed).sample(ids, min(n, len(ids)))
    rows = papers_by_id(session, picked)
    return [rows[i] for i in picked if i in rows]


@dataclass(frozen=True)
class StoredRecommendation:
    rank: int
    paper_id: str
    score: float
    reason_kind: str
    reason_label: str
    reason_paper_id: str | None


def replace_recommendations(
    session: Session,
    user_id: int,
    signature: str,
    recs: Sequence[StoredRecommendation],
    now: dt.datetime | None = None,
) -> None:
    now = now or utcnow()
    session.execute(delete(MemberRecommendation).where(MemberRecommendation.user_id == user_id))
    session.add_all(
        MemberRecommendation(
            user_id=user_id,
            rank=r.rank,
            paper_id=r.paper_id,
            score=r.score,
            reason_kind=r.reason_kind,
            reason_label=r.reason_label,
            reason_paper_id=r.reason_paper_id,
            signature=signature,
            computed_at=now,
        )
        for r in recs
    )
    session.flush()


def stored_recommendations(
    session: Session, user_id: int
) -> tuple[str | None, dt.datetime | None, list[StoredRecommendation]]:
    """(signature, computed_at, rows in rank order) of a member; (None, None, []) if none."""
    rows = session.scalars(
        select(MemberRecommendation)
        .where(MemberRecommendation.user_id == user_id)
        .order_by(MemberRecommendation.rank)
    ).all()
    if not rows:
        return None, None, []
    return (
        rows[0].signature,
        rows[0].computed_at,
        [
            StoredRecommendation(
                r.rank, r.paper_id, r.score, r.reason_kind, r.reason_label, r.reason_paper_id
            )
            for r in rows
        ],
    )


def delete_member_recommendations(session: Session, user_id: int) -> None:
    session.execute(delete(MemberRecommendation).where(MemberRecommendation.user_id == user_id))


def export_member(session: Session, user_id: int) -> dict[str, Any]:
    """A member's stored recommendations for an account export (derived from their signals,
    but about them, so they leave with the rest of their data)."""
    _sign, at, rows = stored_recommendations(session, user_id)
    return {
        "recommendationsComputedAt": at.isoformat(timespec="seconds") + "Z" if at else None,
        "recommendations": [
            {
                "rank": r.rank,
                "paperId": r.paper_id,
                "score": round(r.score, 6),
                "reasonKind": r.reason_kind,
                "reasonLabel": r.reason_label,
                "reasonPaperId": r.reason_paper_id,
            }
            for r in rows
        ],
    }
