"""Factories with random defaults: a test states only what it is about."""

from __future__ import annotations

import datetime as dt
import random
import string

from paperwire.records import PaperRecord
from paperwire.store.papers import upsert_papers

_WORDS = (
    "graph neural transformer protein cell sequence attention diffusion quantum "
    "lattice sparse kernel bayesian inference robust causal spectral manifold "
    "galaxy photon entropy tensor language vision reinforcement"
).split()


def _words(n: int) -> str:
    return " ".join(random.choice(_WORDS) for _ in range(n))


_ISSUED_IDS: set[str] = set()


def random_arxiv_id() -> str:
    """A random new-style arXiv id, never the same twice in a test process: with 3,000 papers
    plain draws from 61M ids collide in ~7% of runs (one paper short, a flaky count)."""
    while True:
        pid = f"{random.randint(2001, 2612):04d}.{random.randint(0, 99999):05d}"
        if pid not in _ISSUED_IDS:
            _ISSUED_IDS.add(pid)
            return pid


def make_record(**overrides) -> PaperRecord:
    pid = overrides.pop("id", None) or random_arxiv_id()
    published = overrides.pop("published_at", None) or (
        dt.datetime(2024, 1, 1)
        + dt.timedelta(days=random.randint(0, 900), seconds=random.randint(0, 86399))
    )
    n_authors = random.randint(1, 6)
    values = dict(
        id=pid,
        title=_words(6).capitalize(),
        abstract=_words(60),
        source="arxiv",
        version=1,
        authors=[
            {"name": "".join(random.choices(string.ascii_letters, k=8)), "affiliations": []}
            for _ in range(n_authors)
        ],
        categories=[random.choice(["cs.CL", "cs.LG", "q-bio.GN", "astro-ph.GA", "hep-th"])],
        published_at=published,
        updated_at=published,
        versions=[{"version": 1, "created": published.isoformat()}],
        abs_url=f"https://arxiv.org/abs/{pid}",
        pdf_url=f"https://arxiv.org/pdf/{pid}",
    )
    values.update(overrides)
    return PaperRecord(**values)


def make_papers(db, n: int = 1, **overrides) -> list[PaperRecord]:
    """Insert n random papers (committed) and return their records."""
    records = [make_record(**overrides) for _ in range(n)]
    with db.session() as session:
        upsert_papers(session, records)
    return records


def make_feed_papers(
    db,
    n: int = 1,
    *,
    day: dt.date,
    upvotes=0,
    num_comments: int = 0,
    submitted_at: dt.datetime | None = None,
    hidden: bool = False,
    submitted_by_name: str | None = None,
    **overrides,
) -> list[PaperRecord]:
    """Insert n papers and put them on ``day``'s feed; ``upvotes`` is an int or a list (one
    per paper). Counts are set directly (as an import would), not through the vote functions."""
    from sqlalchemy import update

    from paperwire.store.feed import add_feed_entry
    from paperwire.store.models import Paper

    records = make_papers(db, n, **overrides)
    votes = upvotes if isinstance(upvotes, (list, tuple)) else [upvotes] * n
    when = submitted_at or dt.datetime.combine(day, dt.time(9, 0))
    with db.session() as session:
        for rec, v in zip(records, votes):
            add_feed_entry(
                session, rec.id, day, submitted_at=when, submitted_by_name=submitted_by_name
            )
            session.execute(
                update(Paper)
                .where(Paper.id == rec.id)
                .values(upvotes=v, imported_upvotes=v, num_comments=num_comments, hidden=hidden)
            )
    return records


def make_subscription(
    db,
    email: str,
    *,
    status: str = "active",
    editions: str = "daily",
    topics: list | None = None,
    max_papers: int = 10,
    user_id=None,
) -> int:
    """A subscription in the given status (confirmed by default); returns its id."""
    from paperwire.store.models import Subscription, utcnow

    with db.session() as session:
        sub = Subscription(
            email=email.lower(),
            status=status,
            editions=editions,
            topics=topics or [],
            max_papers=max_papers,
            user_id=user_id,
            token_version=0,
            failure_count=0,
            confirmed_at=utcnow() if status == "active" else None,
        )
        session.add(sub)
        session.flush()
        return sub.id


def put_on_feed(db, paper_ids, day: dt.date, *, submitted_at: dt.datetime | None = None) -> None:
    """Put papers on a day's feed (submitted at noon UTC of that day unless given)."""
    from paperwire.store.feed import add_feed_entry

    at = submitted_at or dt.datetime.combine(day, dt.time(12, 0))
    with db.session() as session:
        for pid in paper_ids:
            add_feed_entry(session, pid, day, submitted_at=at)


def make_store_user(
    db, username: str | None = None, *, is_admin: bool = False, email: str | None = None
):
    """A user row made directly in the store (no password hashing; it cannot sign in).
    Web tests that sign in use ``tests.web.accountkit.make_user`` instead."""
    from paperwire.store.users import create_user

    username = username or "u" + "".join(random.choices(string.ascii_lowercase, k=8))
    with db.session() as session:
        return create_user(
            session, username, "!not-a-password-hash", email=email, is_admin=is_admin
        )
