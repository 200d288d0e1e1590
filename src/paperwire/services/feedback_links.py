"""The digest's one-click "more like this" / "not interested" links: what a link would do,
and doing it. The link carries a signed token (``digest.recommended``); the page shows what
it will do with one button, and only the POST changes anything, so mail scanners that fetch
links change nothing.

Invariants: a token is checked before anything is read; a mark is set only for an account
that still exists and a paper that is visible.
"""

from __future__ import annotations

from dataclasses import dataclass

from paperwire.config import Settings
from paperwire.digest.recommended import FeedbackError, FeedbackPayload, verify_feedback_token
from paperwire.store.db import Database
from paperwire.store.library import require_visible_paper, set_feedback
from paperwire.store.papers import get_paper
from paperwire.store.users import get_user

__all__ = ["FeedbackError", "FeedbackLink", "apply_link", "read_link"]


@dataclass(frozen=True)
class FeedbackLink:
    payload: FeedbackPayload
    title: str | None  # the paper's title, None when it is gone


def read_link(settings: Settings, db: Database, token: str) -> FeedbackLink:
    """What the link would do (FeedbackError when its token is bad or expired)."""
    payload = verify_feedback_token(settings, token)
    with db.session() as s:
        paper = get_paper(s, payload.paper_id)
        return FeedbackLink(payload, paper.title if paper is not None else None)


def apply_link(settings: Settings, db: Database, token: str) -> FeedbackPayload:
    """Set the mark the link names (FeedbackError for a bad token or a deleted account,
    NotFound for a paper no longer visible)."""
    payload = verify_feedback_token(settings, token)
    with db.session() as s:
        if get_user(s, payload.user_id) is None:
            raise FeedbackError("This account no longer exists.")
        require_visible_paper(s, payload.paper_id)
        set_feedback(s, payload.user_id, payload.paper_id, payload.kind)
    return payload
