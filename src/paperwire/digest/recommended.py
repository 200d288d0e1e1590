"""The digest's "Recommended for you" section (issue 13 B): a member's recommendations
(services/recommendations.py) with the reason per paper and signed one-click "more like this" /
"not interested" links.

Only a subscription linked to an account (``subscriptions.user_id``: an address the member
proved while signed in) gets the section; a plain subscriber has no signals to learn from.

Invariants:
- Feedback links name one member, one paper and one mark, signed with the site key under their
  own salt (never valid as an unsubscribe or preferences token, nor the other way round), and
  expire after ``FEEDBACK_MAX_AGE_DAYS``. Following one only shows a page with a button; the
  mark is set by its POST (a mail scanner fetching links changes nothing).
- The section's papers are frozen with the delivery's contents (``freeze``/``thaw``) like the
  other parts, so a resend after a crash is the identical message; a paper is never both in
  another part of the digest and in this one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any, Protocol

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner

from paperwire.config import Settings
from paperwire.digest.model import DigestPaper
from paperwire.digest.tokens import require_canonical_signature
from paperwire.store.db import Database

if TYPE_CHECKING:
    from paperwire.digest.build import EditionData

log = logging.getLogger(__name__)

FEEDBACK_KINDS = {"more": "More like this", "less": "Not interested"}
FEEDBACK_MAX_AGE_DAYS = 60
PART = "recommended"


class FeedbackError(Exception):
    """The feedback link cannot be used (the message says why, for a person)."""


@dataclass(frozen=True)
class FeedbackPayload:
    user_id: int
    paper_id: str
    kind: str


@dataclass(frozen=True)
class RecommendedItem:
    paper: DigestPaper
    reason: str
    more_url: str = ""
    less_url: str = ""


def _signer(secret_key: str) -> TimestampSigner:
    return TimestampSigner(secret_key, salt="paperwire.recommendation.feedback")


def make_feedback_token(secret_key: str, user_id: int, paper_id: str, kind: str) -> str:
    if kind not in FEEDBACK_KINDS:
        raise ValueError(f"unknown feedback kind {kind!r}")
    return _signer(secret_key).sign(f"{int(user_id)}|{kind}|{paper_id}").decode("ascii")


def verify_feedback_token(
    settings: Settings, token: str, *, now: float | None = None
) -> FeedbackPayload:
    signer = _signer(settings.effective_secret_key())
    try:
        require_canonical_signature(signer, token or "")
        value, ts = signer.unsign(token or "", return_timestamp=True)
        age = (now if now is not None else time.time()) - ts.timestamp()
        if age > FEEDBACK_MAX_AGE_DAYS * 86400:
            raise SignatureExpired("expired")
        uid, kind, paper_id = value.decode("utf-8").split("|", 2)
        if kind not in FEEDBACK_KINDS or not paper_id:
            raise ValueError(kind)
        return FeedbackPayload(int(uid), paper_id, kind)
    except SignatureExpired:
        raise FeedbackError(
            "This link has expired; use the buttons on the For you page instead."
        ) from None
    except (BadSignature, UnicodeError, ValueError, TypeError):
        raise FeedbackError("This link is not valid (it may have been cut or altered).") from None


def feedback_urls(
    settings: Settings, base_url: str, user_id: int, paper_id: str
) -> tuple[str, str]:
    from urllib.parse import quote

    key = settings.effective_secret_key()
    more, less = (
        f"{base_url}/r/feedback?t={quote(make_feedback_token(key, user_id, paper_id, k))}"
        for k in ("more", "less")
    )
    return more, less


class Suggestion(Protocol):
    """One recommendation as the section needs it (services.recommendations.Recommended)."""

    @property
    def paper_id(self) -> str: ...

    @property
    def reason(self) -> str: ...


# Who computes a member's recommendations: the digest is a feature below services/, so the
# entry points (jobs, cli) hand it services.recommendations.recommendations_for.
Recommender = Callable[[Settings, Database, int], Sequence[Suggestion]]


def choose(
    settings: Settings,
    db: Database,
    data: EditionData,
    user_id: int | None,
    *,
    exclude: set[str],
    recommender: Recommender | None,
) -> list[RecommendedItem]:
    """The member's top recommendations not already in the digest (nothing without an
    account, with ``DIGEST_RECOMMENDATIONS=0``, or without a ``recommender``)."""
    n = settings.digest_recommendations
    if not user_id or n <= 0 or recommender is None:
        return []
    from paperwire.digest.build import paper_from_row
    from paperwire.store.deliveries import papers_by_id

    try:
        recs = [r for r in recommender(settings, db, user_id) if r.paper_id not in exclude]
    except Exception:  # noqa: BLE001 - a digest goes out without the section rather than not
        log.exception("recommendations for member %s failed; digest sent without them", user_id)
        return []
    recs = recs[:n]
    missing = [r.paper_id for r in recs if r.paper_id not in data.papers]
    if missing:
        with db.session() as s:
            data.papers.update(
                {row[0]: paper_from_row(row, data.base_url) for row in papers_by_id(s, missing)}
            )
    out = []
    for r in recs:
        paper = data.papers.get(r.paper_id)
        if paper is not None:
            more, less = feedback_urls(settings, data.base_url, user_id, r.paper_id)
            out.append(RecommendedItem(paper, _sentence(r.reason), more, less))
    return out


def _sentence(reason: str) -> str:
    return reason[:1].upper() + reason[1:]


def freeze(items: Sequence[RecommendedItem]) -> list[dict[str, Any]]:
    return [
        {"id": i.paper.id, "part": PART, "reason": i.reason, "more": i.more_url, "less": i.less_url}
        for i in items
    ]


def thaw(frozen: Sequence[dict[str, Any]], papers: dict[str, DigestPaper]) -> list[RecommendedItem]:
    return [
        RecommendedItem(
            papers[i["id"]], i.get("reason") or "", i.get("more") or "", i.get("less") or ""
        )
        for i in frozen or ()
        if isinstance(i, dict) and i.get("part") == PART and i.get("id") in papers
    ]


# --- rendering (called by digest/render.py) ---------------------------------------------------


def text_lines(
    items: Sequence[RecommendedItem], paper_lines: Callable[[int, DigestPaper, str], list[str]]
) -> list[str]:
    if not items:
        return []
    lines = ["RECOMMENDED FOR YOU", ""]
    for n, item in enumerate(items, 1):
        body = paper_lines(n, item.paper, item.reason)
        lines += body[:-1] + [
            f"   More like this: {item.more_url}",
            f"   Not interested: {item.less_url}",
            "",
        ]
    return lines


def html_rows(
    items: Sequence[RecommendedItem], paper_html: Callable[..., str], section: Callable[..., str]
) -> list[str]:
    if not items:
        return []
    rows = [section("Recommended for you")]
    for item in items:
        row = paper_html(item.paper, item.reason)
        links = (
            f'<div style="font-size:13px;margin-top:4px">'
            f'<a href="{escape(item.more_url)}" style="color:#2563eb">More like this</a> · '
            f'<a href="{escape(item.less_url)}" style="color:#6b7280">Not interested</a>'
            f"</div></td></tr>"
        )
        rows.append(row[: -len("</td></tr>")] + links if row.endswith("</td></tr>") else row)
    return rows
