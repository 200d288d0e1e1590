"""From the database to ``Digest`` values: the edition's trending papers and candidates are
loaded once per run; each subscriber's digest is then chosen from them, each topic's papers
found by the site's search function among the candidates (digest/matching.py, cached per
distinct topic).

Invariants:
- A paper already in ``sent_papers`` for a subscriber is never chosen for them again.
- A paper appears once per digest: in the trending part, or else in the personal part.
- ``choose`` is deterministic for the same inputs (ties broken by paper id).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from paperwire import stored
from paperwire.config import Settings
from paperwire.digest.edition import Edition, local_to_utc
from paperwire.digest.matching import TopicSearch
from paperwire.digest.model import Digest, DigestPaper, PersonalItem
from paperwire.digest.tokens import make_token
from paperwire.digest.topics import topic_reason
from paperwire.store import Session
from paperwire.store.db import Database
from paperwire.summary.read import resolve as key_sentence_resolve

TRENDING_POOL = 50  # the most any subscriber can ask for (MAX_PAPERS_RANGE)


def paper_from_row(row: tuple[Any, ...], base_url: str) -> DigestPaper:
    """A ``DigestPaper`` from a row of ``store.deliveries.period_papers`` /
    ``papers_by_id`` (or ``store.authors.digest_rows_by_keys`` without its last two)."""
    (
        pid,
        title,
        abstract,
        authors,
        author_count,
        categories,
        published_at,
        abs_url,
        pdf_url,
        upvotes,
        num_comments,
    ) = row[:11]
    # The rest (store.deliveries): content_hash and the stored key sentence's columns.
    key_sentence = key_sentence_resolve(abstract, *row[11:15])
    # Through paperwire.stored: rows stored before the record schema may hold anything, and a
    # mail client has no CSP to stop a javascript: link.
    names = tuple(stored.author_names(authors))
    return DigestPaper(
        id=pid,
        title=stored.text(title),
        authors=names,
        author_count=author_count or len(names),
        categories=tuple(stored.strings(categories)),
        abstract=stored.text(abstract),
        url=f"{base_url}/papers/{pid}",
        abs_url=stored.http_url(abs_url),
        pdf_url=stored.http_url(pdf_url),
        upvotes=upvotes or 0,
        num_comments=num_comments or 0,
        published=published_at.date() if published_at else None,
        key_sentence=key_sentence.text if key_sentence else "",
    )


@dataclass
class EditionData:
    edition: Edition
    trending: list[DigestPaper]
    papers: dict[str, DigestPaper]
    topics: TopicSearch
    base_url: str
    stats: dict[str, Any] = field(default_factory=dict)

    def all_ids(self) -> list[str]:
        return list(self.papers)


def load_edition(settings: Settings, session: Session, ed: Edition, *, db: Database) -> EditionData:
    """The edition's papers; ``db``: the database whose search service matches topics."""
    from paperwire.search.service import get_search_service
    from paperwire.store.deliveries import period_papers
    from paperwire.store.feed import trending

    base_url = settings.base_url.rstrip("/")
    rows = period_papers(
        session,
        published_from=local_to_utc(ed.start, dt.time(0, 0), settings.timezone),
        published_to=local_to_utc(ed.end + dt.timedelta(days=1), dt.time(0, 0), settings.timezone),
        feed_from=ed.start,
        feed_to=ed.end,
    )
    papers = {r[0]: paper_from_row(r, base_url) for r in rows}
    top = trending(session, start=ed.start, end=ed.end, now=ed.send_at_utc, limit=TRENDING_POOL)
    trending_papers = []
    for paper, _entry, _score in top:
        if paper.id not in papers:
            papers[paper.id] = paper_from_row(
                (
                    paper.id,
                    paper.title,
                    paper.abstract,
                    paper.authors,
                    paper.author_count,
                    paper.categories,
                    paper.published_at,
                    paper.abs_url,
                    paper.pdf_url,
                    paper.upvotes,
                    paper.num_comments,
                    paper.content_hash,
                    paper.key_sentence,
                    paper.key_sentence_hash,
                    paper.key_sentence_scorer,
                ),
                base_url,
            )
        trending_papers.append(papers[paper.id])
    topics = TopicSearch(lambda: get_search_service(settings, db), papers)
    return EditionData(
        ed,
        trending_papers,
        papers,
        topics,
        base_url,
        stats={"candidates": len(papers), "trending": len(trending_papers)},
    )


def links(
    settings: Settings, base_url: str, subscription_id: int, token_version: int
) -> tuple[str, str]:
    key = settings.effective_secret_key()
    unsub = make_token(key, "unsubscribe", subscription_id, token_version)
    prefs = make_token(key, "preferences", subscription_id, token_version)
    return f"{base_url}/unsubscribe/{unsub}", f"{base_url}/subscription/{prefs}"


def choose(
    data: EditionData, *, topics: Sequence[dict[str, Any]], max_papers: int, already: set[str]
) -> tuple[list[DigestPaper], list[PersonalItem]]:
    """The trending part and the personal part for one subscriber.

    Personal papers: every topic's results (``TopicSearch.match``), most relevant first
    (a paper found by several topics ranks by its best relevance, then by how many topics
    found it), each with the reasons it is there (``topic_reason``)."""
    trending = [p for p in data.trending if p.id not in already][:max_papers]
    taken = {p.id for p in trending} | already
    best: dict[str, tuple[float, list[str]]] = {}
    for topic in topics:
        for m in data.topics.match(topic):
            if m.paper_id in taken or m.paper_id not in data.papers:
                continue
            rel, reasons = best.get(m.paper_id, (0.0, []))
            reasons.append(topic_reason(topic, m.matched_by))
            best[m.paper_id] = (max(rel, m.relevance), reasons)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], -len(kv[1][1]), kv[0]))
    personal = [
        PersonalItem(data.papers[pid], tuple(reasons), rel)
        for pid, (rel, reasons) in ranked[:max_papers]
    ]
    return trending, personal


def contents(
    trending: Iterable[DigestPaper], personal: Iterable[PersonalItem]
) -> list[dict[str, Any]]:
    """What is frozen in ``digest_deliveries.paper_ids`` (enough to rebuild the digest)."""
    out: list[dict[str, Any]] = [{"id": p.id, "part": "trending"} for p in trending]
    out += [
        {"id": i.paper.id, "part": "personal", "matched": list(i.matched), "relevance": i.relevance}
        for i in personal
    ]
    return out


def from_contents(
    frozen: Sequence[dict[str, Any]], papers: dict[str, DigestPaper]
) -> tuple[list[DigestPaper], list[PersonalItem]]:
    trending, personal = [], []
    for item in frozen:
        p = papers.get(item["id"])
        if p is None:
            continue  # deleted since: nothing to show for it
        if item.get("part") == "recommended":
            continue  # digest/recommended.py thaws its own part
        if item.get("part") == "personal":
            personal.append(
                PersonalItem(
                    p, tuple(item.get("matched") or ()), float(item.get("relevance") or 1.0)
                )
            )
        else:
            trending.append(p)
    return trending, personal


def make_digest(
    settings: Settings,
    data: EditionData,
    *,
    email: str,
    name: str | None,
    subscription_id: int,
    token_version: int,
    topics: Sequence[dict[str, Any]],
    trending: list[DigestPaper],
    personal: list[PersonalItem],
    followed: Sequence[PersonalItem] = (),
    recommended: Sequence[Any] = (),
) -> Digest:
    unsub, prefs = links(settings, data.base_url, subscription_id, token_version)
    ed = data.edition
    return Digest(
        edition=ed.edition,
        period=ed.period,
        period_label=ed.label,
        recipient_email=email,
        recipient_name=name,
        trending=tuple(trending),
        personal=tuple(personal),
        has_topics=bool(topics),
        followed=tuple(followed),
        unsubscribe_url=unsub,
        preferences_url=prefs,
        recommended=tuple(recommended),
    )
