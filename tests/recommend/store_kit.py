"""The real-record fixture (tests/fixtures/arxiv/real/recommend-sample.jsonl) in a database:
of each interest's 40 papers, ``OLD_PER_INTEREST`` were published 40 days ago (a member's
history: what they save) and the rest 2 days ago (this week's candidates); the 160 others are
split the same way (old ones are the negatives' pool)."""

from __future__ import annotations

import datetime as dt

from paperwire.store.models import utcnow
from paperwire.store.papers import upsert_papers
from tests.factories import make_record
from tests.recommend.fixtures import primary, sample_records

OLD_PER_INTEREST = 10


def load_sample(db, now: dt.datetime | None = None) -> dict[str, dict]:
    """Insert the sample; returns {id: record dict + "old": bool}."""
    now = now or utcnow()
    records = sample_records()
    seen: dict[str, int] = {}
    out, rows = {}, []
    for i, r in enumerate(records):
        cat = primary(r)
        k = seen[cat] = seen.get(cat, 0) + 1
        old = k <= OLD_PER_INTEREST if cat in ("physics.ao-ph", "cs.CR", "cs.IR") else i % 2 == 0
        when = now - dt.timedelta(days=40 if old else 2)
        rows.append(
            make_record(
                id=r["id"],
                title=r["title"],
                abstract=r["abstract"],
                categories=r["categories"].split(),
                authors=[
                    {"name": a.strip(), "affiliations": []}
                    for a in r["authors"].split(",")
                    if a.strip()
                ],
                published_at=when,
                updated_at=when,
                versions=[{"version": 1, "created": when.isoformat()}],
            )
        )
        out[r["id"]] = dict(r, old=old)
    with db.session() as s:
        upsert_papers(s, rows)
    return out


def ids_of(sample: dict, interest: str, *, old: bool) -> list[str]:
    return sorted(pid for pid, r in sample.items() if primary(r) == interest and r["old"] == old)
