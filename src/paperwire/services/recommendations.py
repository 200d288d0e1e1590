"""Recommendations for members ("For you"): what the web page, the API, the CLI, the digest
and the nightly job share.

A member's recommendations are the period's candidate papers (on the feed or first published
in the last ``RECOMMEND_DAYS`` days) ranked by recommend/engine.py from their signals
(store.library.member_signals: upvotes, saves, list items, "more like this", "not
interested", followed topics; followed authors from store.authors when present).

Invariants:
- Private: a member's recommendations are computed from their own signals and read only for
  them (``user_id`` always comes from the signed-in session, the token, or an operator's
  command); account deletion removes the stored rows.
- Stored rows (store/recommendations.py) are reused only while their ``signature`` (a hash of
  the member's signals and the candidate window's first day) is current: a new save or a "not
  interested" computes afresh on the next read, so a rejected paper never shows again.
- The candidate pool (its papers, vectors and lexical features) is built once per window day
  and database per process and shared by every member of a run (``pool_for``); the nightly
  job builds it once for all members.
- No mail, no network; one short transaction per member to replace their rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from paperwire.config import Settings
from paperwire.recommend import engine
from paperwire.recommend.features import FeatureMatrix
from paperwire.services.recommend_pool import (
    CACHE,
    POOL_TTL_SECONDS,
    Pool,
    clear_pools,
    paper_text,
    pool_for,
    vectors_for,
    wait_for_refreshes,
    window_start,
)
from paperwire.store import Session
from paperwire.store import recommendations as store
from paperwire.store.db import Database
from paperwire.store.library import MemberSignals

log = logging.getLogger(__name__)

# The pool's interface stays importable from here (web, CLI, jobs and tests use it).
__all__ = [
    "CACHE",
    "POOL_TTL_SECONDS",
    "Pool",
    "Recommended",
    "clear_pools",
    "compute",
    "for_list",
    "pool_for",
    "precompute_all",
    "recommendations_for",
    "signature",
    "wait_for_refreshes",
    "window_start",
]


@dataclass(frozen=True)
class Recommended:
    paper_id: str
    score: float
    reason: str
    reason_kind: str
    reason_label: str
    reason_paper_id: str | None


def _followed_authors(session: Session, user_id: int) -> list[tuple[str, str]]:
    """(strict key, display name) of the member's followed authors."""
    from paperwire.store.authors import followed_author_names

    return followed_author_names(session, user_id)


def signature(sig: MemberSignals, authors: list[tuple[str, str]], since: dt.datetime) -> str:
    data = {
        "since": since.isoformat(),
        "upvoted": sorted(p for p, _ in sig.upvoted),
        "saved": sorted(p for p, _ in sig.saved),
        "more": sorted(p for p, _ in sig.more_like_this),
        "less": sorted(p for p, _ in sig.not_interested),
        "lists": sorted((lst.name, sorted(lst.paper_ids)) for lst in sig.lists),
        "topics": sorted(sig.topics),
        "authors": sorted(k for k, _ in authors),
    }
    return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _positives(sig: MemberSignals, titles: dict[str, str]) -> list[engine.Positive]:
    out = [engine.Positive(p, "more_like_this", titles.get(p, p)) for p, _ in sig.more_like_this]
    out += [engine.Positive(p, "saved", titles.get(p, p)) for p, _ in sig.saved]
    out += [engine.Positive(p, "upvoted", titles.get(p, p)) for p, _ in sig.upvoted]
    for lst in sig.lists:
        out += [engine.Positive(p, "list", titles.get(p, p), lst.name) for p in lst.paper_ids]
    return out


def _topic_hits(
    settings: Settings, db: Database, topics: list[str], candidates: list[str]
) -> dict[str, list[str]]:
    """Each followed topic's results among the candidates, by the site's search (the digest's
    topic matcher: the same query language and similarity floor as the search page)."""
    if not topics or not candidates:
        return {}
    from paperwire.digest.matching import TopicSearch
    from paperwire.search.service import get_search_service

    search = TopicSearch(lambda: get_search_service(settings, db), candidates)
    out = {}
    for t in topics:
        try:
            out[t] = [
                h.paper_id for h in search.match({"kind": "query", "value": t, "threshold": None})
            ]
        except Exception as exc:  # noqa: BLE001 - one bad topic must not hide the others
            log.warning("topic %r could not be searched: %s", t, exc)
    return out


def _author_hits(authors: list[tuple[str, str]], pool: Pool) -> dict[str, list[str]]:
    if not authors:
        return {}
    from paperwire.authors.names import strict_key

    wanted = {k: name for k, name in authors}
    hits: dict[str, list[str]] = {}
    for pid in pool.candidates:
        for a in pool.texts[pid].authors:
            name = wanted.get(strict_key(a))
            if name is not None:
                hits.setdefault(name, []).append(pid)
                break
    return hits


def _features_with(
    session: Session, settings: Settings, pool: Pool, pos_ids: Iterable[str], rejected: list[str]
) -> tuple[FeatureMatrix, dict[str, str]]:
    """The pool's features plus rows for the positives and rejected papers outside it, and
    the positives' titles (for the reasons)."""
    pos_ids = set(pos_ids)
    outside = [p for p in list(pos_ids) + list(rejected) if p not in pool.texts]
    rows = store.papers_by_id(session, outside)
    extra = [paper_text(r) for r in rows.values()]
    X = pool.with_papers(extra, vectors_for(session, settings, list(rows)))
    titles = {p: t.title for p, t in pool.texts.items() if p in pos_ids}
    titles.update({r.id: r.title for r in rows.values()})
    return X, titles


def compute(
    session: Session,
    settings: Settings,
    db: Database,
    user_id: int,
    pool: Pool,
    limit: int | None = None,
) -> tuple[str, list[Recommended]]:
    """(signature, recommendations) of one member from their current signals (no writes)."""
    from paperwire.store.library import member_signals

    limit = limit or settings.recommend_limit
    sig = member_signals(session, user_id)
    authors = _followed_authors(session, user_id)
    sign = signature(sig, authors, pool.since)
    pos_ids = (
        {p for p, _ in sig.upvoted}
        | {p for p, _ in sig.saved}
        | {p for p, _ in sig.more_like_this}
        | {p for lst in sig.lists for p in lst.paper_ids}
    )
    rejected = [p for p, _ in sig.not_interested]
    X, titles = _features_with(session, settings, pool, pos_ids, rejected)
    signals = engine.Signals(positives=_positives(sig, titles), not_interested=rejected)
    if (
        len(engine.best_positive([p for p in signals.positives if p.paper_id in set(X.ids)]))
        < engine.MIN_POSITIVES
    ):
        signals.topic_hits = _topic_hits(settings, db, sig.topics, pool.candidates)
        signals.author_hits = _author_hits(authors, pool)
    recs = engine.recommend(X, pool.candidates, signals, pool.negatives, limit=limit)
    return sign, [
        Recommended(
            r.paper_id, r.score, r.reason.text, r.reason.kind, r.reason.label, r.reason.paper_id
        )
        for r in recs
    ]


def _store(db: Database, user_id: int, sign: str, recs: list[Recommended]) -> None:
    with db.session() as s:
        store.replace_recommendations(
            s,
            user_id,
            sign,
            [
                store.StoredRecommendation(
                    i, r.paper_id, r.score, r.reason_kind, r.reason_label, r.reason_paper_id
                )
                for i, r in enumerate(recs, 1)
            ],
        )


def _from_stored(rows: Sequence[store.StoredRecommendation]) -> list[Recommended]:
    from paperwire.recommend.reasons import reason_text

    return [
        Recommended(
            r.paper_id,
            r.score,
            reason_text(r.reason_kind, r.reason_label),
            r.reason_kind,
            r.reason_label,
            r.reason_paper_id,
        )
        for r in rows
    ]


def recommendations_for(
    settings: Settings,
    db: Database,
    user_id: int,
    *,
    limit: int | None = None,
    now: dt.datetime | None = None,
) -> list[Recommended]:
    """The member's recommendations: the stored ones while their signature is current (the
    nightly job's, or a previous read's), else computed now and stored."""
    from paperwire.store.library import member_signals

    limit = limit or settings.recommend_limit
    since = window_start(settings, now)
    with db.session() as s:
        current = signature(member_signals(s, user_id), _followed_authors(s, user_id), since)
        stored_sign, _, rows = store.stored_recommendations(s, user_id)
        if stored_sign == current and rows:
            return _from_stored(rows)[:limit]
        pool = pool_for(s, settings, now=now, db=db)
        sign, recs = compute(s, settings, db, user_id, pool, max(limit, settings.recommend_limit))
    _store(db, user_id, sign, recs)
    return recs[:limit]


def precompute_all(
    settings: Settings, db: Database, *, progress: bool = False, now: dt.datetime | None = None
) -> tuple[int, int]:
    """Compute and store every member-with-signals' recommendations (the nightly job).
    Returns (members, recommendations stored)."""
    from paperwire.store.library import members_with_signals

    with db.session() as s:
        members = members_with_signals(s)
        pool = pool_for(s, settings, now=now, fresh=True)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(members), unit="member", desc="recommendations")
    total = 0
    for uid in members:
        with db.session() as s:
            sign, recs = compute(s, settings, db, uid, pool)
        _store(db, uid, sign, recs)
        total += len(recs)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    return len(members), total


# --- one list's recommendations (arxiv-sanity-lite's per-tag model) ----------------------------


def for_list(
    db: Database,
    settings: Settings,
    user_id: int,
    list_id: int,
    *,
    limit: int | None = None,
    now: dt.datetime | None = None,
) -> list[Recommended]:
    """Recommendations for one of the member's lists: the list's papers are the positives
    (the member's other signals are not), against the same sampled negatives and features
    as the member's own, with the member's "not interested" papers (and their near
    duplicates) excluded like the papers already in the list; scored over the same candidate
    pool. Reasons read "close to your list “x”: similar to “<its nearest paper>”".

    Invariants: only the owner gets them (another member's list, or none, raises NotFound,
    which the web layer answers 404); nothing is written to the database. Results are kept in
    this process while the list's papers, the member's "not interested" papers and the
    window hold (and at most ``POOL_TTL_SECONDS``), so a page reload does not retrain.
    """
    from paperwire.recommend.reasons import list_reason_text
    from paperwire.store import lists as list_store
    from paperwire.store.library import member_signals

    limit = limit or settings.recommend_limit
    since = window_start(settings, now)
    with db.session() as s:
        name = list_store.get_owned(s, user_id, list_id).name
        sig = member_signals(s, user_id)
        paper_ids = next((lst.paper_ids for lst in sig.lists if lst.id == list_id), [])
        rejected = [p for p, _ in sig.not_interested]
        key = (
            settings.effective_database_url,
            user_id,
            list_id,
            hashlib.sha1(
                json.dumps([name, sorted(paper_ids), sorted(rejected), since.isoformat()]).encode()
            ).hexdigest(),
        )
        hit = CACHE.get_list(key)
        if (
            hit is not None
            and time.monotonic() - hit[0] < POOL_TTL_SECONDS
            and len(hit[1]) >= min(limit, settings.recommend_limit)
        ):
            return hit[1][:limit]
        if not paper_ids:
            return []
        pool = pool_for(s, settings, now=now, db=db)
        X, titles = _features_with(s, settings, pool, paper_ids, rejected)
    positives = [engine.Positive(p, "list", titles.get(p, p), name) for p in paper_ids]
    signals = engine.Signals(positives=positives, not_interested=rejected)
    n = max(limit, settings.recommend_limit)
    recs = [
        Recommended(
            r.paper_id,
            r.score,
            list_reason_text(name, titles.get(r.reason.paper_id or "", "")),
            "list",
            name,
            r.reason.paper_id,
        )
        for r in engine.recommend(X, pool.candidates, signals, pool.negatives, limit=n)
    ]
    CACHE.keep_list(key, recs)
    return recs[:limit]
