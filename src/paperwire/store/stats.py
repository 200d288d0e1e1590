"""Counts for `paperwire stats` (and the admin/status pages)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from paperwire.store.checkpoints import get_checkpoint
from paperwire.store.models import (
    Comment,
    Embedding,
    FeedEntry,
    Paper,
    SentenceVectors,
    Subscription,
    Upvote,
    User,
)

HARVEST_CHECKPOINT = "harvest:arxiv"


def _count(session: Session, model: Any, *where: Any) -> int:
    query = select(func.count()).select_from(model)
    for clause in where:
        query = query.where(clause)
    return session.scalar(query) or 0


def collect_stats(session: Session) -> dict[str, Any]:
    harvest = get_checkpoint(session, HARVEST_CHECKPOINT) or {}
    return {
        "papers": _count(session, Paper),
        "feed_entries": _count(session, FeedEntry),
        "users": _count(session, User),
        "votes": _count(session, Upvote),
        "comments": _count(session, Comment, Comment.deleted.is_(False)),
        "subscriptions": _count(session, Subscription),
        "active_subscriptions": _count(session, Subscription, Subscription.status == "active"),
        "embeddings": _count(session, Embedding),
        # One row per paper packs all its sentences: count the sentences, not the rows.
        "sentence_vectors": session.scalar(
            select(func.coalesce(func.sum(SentenceVectors.count), 0))
        )
        or 0,
        "last_harvest_datestamp": harvest.get("last_datestamp"),
        "last_harvest_at": harvest.get("finished_at"),
    }
