"""The digest's "New from authors you follow" section.

A subscription linked to an account (proven address, ``services.subscriptions``) gets the
papers of the authors that account follows (``store.authors``), published within
``settings.followed_authors_digest_days`` days before the edition is sent, at most
``max_papers`` of them, newest first.

Invariants:
- A paper is in one section of a digest only: papers already in the trending or topic parts,
  or mailed to the subscriber before (``sent_papers``), are left out.
- Frozen in the delivery's contents as ``{"id", "part": "followed", "matched": [names]}``, so
  a resend rebuilds the same section (``split_contents``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from paperwire.config import Settings
from paperwire.digest.model import DigestPaper, PersonalItem
from paperwire.store import Session

PART = "followed"


def candidates(
    settings: Settings,
    session: Session,
    user_by_sub: Mapping[int, int | None],
    *,
    now: dt.datetime,
    base_url: str,
) -> dict[int, list[PersonalItem]]:
    """{subscription id: followed authors' new papers, newest first, not yet mailed}."""
    from paperwire.digest.build import paper_from_row
    from paperwire.store import authors as store
    from paperwire.store.deliveries import already_sent

    days = settings.followed_authors_digest_days
    if days <= 0:
        return {}
    follows = store.follows_of_users(session, [u for u in user_by_sub.values() if u])
    if not follows:
        return {}
    since = (now.astimezone(dt.UTC).replace(tzinfo=None) if now.tzinfo else now) - dt.timedelta(
        days=days
    )
    rows = store.digest_rows_by_keys(session, {k for ks in follows.values() for k in ks}, since)
    papers: dict[str, DigestPaper] = {}
    names: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        pid, key, name = row[0], row[-2], row[-1]
        if pid not in papers:
            papers[pid] = paper_from_row(row[:-2], base_url)
        names.setdefault((pid, key), []).append(name)
    subs = [sid for sid, uid in user_by_sub.items() if uid is not None and uid in follows]
    sent = already_sent(session, subs, list(papers))
    out: dict[int, list[PersonalItem]] = {}
    for sid in subs:
        uid = user_by_sub[sid]
        assert uid is not None  # subs holds only linked subscriptions
        keys = follows[uid]
        items = []
        for pid, paper in papers.items():
            if (sid, pid) in sent:
                continue
            by = [n for k in keys for n in names.get((pid, k), [])]
            if by:
                items.append(PersonalItem(paper, tuple(dict.fromkeys(by))))
        if items:
            out[sid] = items
    return out


def pick(items: Sequence[PersonalItem], *, taken: set[str], max_papers: int) -> list[PersonalItem]:
    """The section's papers: those not in another part, at most ``max_papers``."""
    return [i for i in items if i.paper.id not in taken][:max_papers]


def contents(items: Sequence[PersonalItem]) -> list[dict[str, Any]]:
    return [{"id": i.paper.id, "part": PART, "matched": list(i.matched)} for i in items]


def split_contents(
    frozen: Sequence[dict[str, Any]], papers: Mapping[str, DigestPaper]
) -> tuple[list[dict[str, Any]], list[PersonalItem]]:
    """(the other parts' frozen items, this section's items) of a delivery's contents."""
    rest, mine = [], []
    for item in frozen:
        if isinstance(item, dict) and item.get("part") == PART:
            paper = papers.get(str(item.get("id")))
            if paper is not None:
                mine.append(PersonalItem(paper, tuple(item.get("matched") or ())))
        else:
            rest.append(item)
    return rest, mine


def reason(item: PersonalItem) -> str:
    """The line under a paper of the section ("By Ann Lee, whom you follow")."""
    names = ", ".join(item.matched)
    return f"By {names}, whom you follow" if names else ""
