"""Authors: the ``paper_authors`` index, author pages' reads, follows. All SQL for authors
except claims (``store.author_claims``).

Invariants:
- ``paper_authors`` lists a paper's current authors in order, with the keys of
  ``paperwire.authors.names``; ``store.papers`` rewrites a paper's rows in the same
  transaction as its metadata (``replace_paper_authors``), migration 0005 backfilled them.
- An author is identified by a strict key; an author page never shows papers of another
  strict key, only lists them as variants (same loose key).
- Hidden papers never appear in an author's papers, co-authors, categories or feed list.
- ``followed_authors(session, user_id)`` is the public entry point other areas use (the
  library's signals page, For-you cold start): the strict keys a member follows.

Why this module is long: it is all of the authors' SQL over ``paper_authors`` and follows
(index, pages, digests, exports, deletion): some 25 small queries over the same tables.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from paperwire import stored
from paperwire.authors.names import compatible, loose_key, strict_key
from paperwire.store.db import Database, rowcount
from paperwire.store.models import AuthorFollow, FeedEntry, Paper, PaperAuthor, utcnow

_CHUNK = 900
_MAX = 255

# A SELECT of any columns, kept as its own type through ``_visible``.
_Q = TypeVar("_Q", bound="Select[*tuple[Any, ...]]")


def author_rows(paper_id: str, authors: Any) -> list[tuple[str, int, str, str, str]]:
    """``(paper_id, position, name, strict_key, loose_key)`` for a stored ``authors`` value.
    Pure; positions count every listed author, so they match ``Paper.authors`` indexes;
    names without letters or digits are skipped."""
    rows = []
    raw = authors if isinstance(authors, list) else []
    for position, author in enumerate(raw):
        if isinstance(author, dict):
            name = stored.text(author.get("name"))
        else:
            name = stored.text(author)
        name = " ".join(name.split())[:_MAX]
        key = strict_key(name)[:_MAX]
        if key:
            rows.append((paper_id, position, name, key, loose_key(name)[:_MAX]))
    return rows


def replace_paper_authors(
    session: Session, rows: Sequence[tuple[Any, ...]], *, replace_ids: Iterable[str] = ()
) -> None:
    """Delete the rows of ``replace_ids`` and insert ``rows``, in the caller's transaction
    (driver-level executemany: this runs inside snapshot imports)."""
    conn = session.connection()
    sqlite = conn.dialect.name == "sqlite"
    ids = list(replace_ids)
    for start in range(0, len(ids), _CHUNK):
        session.execute(
            delete(PaperAuthor).where(PaperAuthor.paper_id.in_(ids[start : start + _CHUNK]))
        )
    if not rows:
        return
    if sqlite:
        conn.exec_driver_sql(
            "INSERT INTO paper_authors (paper_id, position, name, strict_key, "
            "loose_key) VALUES (?, ?, ?, ?, ?)",
            list(rows),
        )
        return
    raw: Any = conn.connection.dbapi_connection  # psycopg 3 (COPY)
    with raw.cursor() as cur:
        with cur.copy(
            "COPY paper_authors (paper_id, position, name, strict_key, loose_key) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)


# --- author pages ----------------------------------------------------------------------------


@dataclass
class Variant:
    name: str
    strict_key: str
    papers: int
    compatible: bool  # may be the same person (initials agree), see names.compatible


@dataclass
class AuthorIdentity:
    strict_key: str
    name: str  # the most common spelling of the strict key
    papers: int
    spellings: list[str] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)


def _visible(stmt: _Q) -> _Q:
    return stmt.join(Paper, Paper.id == PaperAuthor.paper_id).where(Paper.hidden.is_(False))


def resolve(session: Session, name: str) -> AuthorIdentity | None:
    """The author a page name means (by strict key), or None when no visible paper has it."""
    key = strict_key(name)
    if not key:
        return None
    spellings = list(
        session.execute(
            _visible(
                select(PaperAuthor.name, func.count()).where(PaperAuthor.strict_key == key)
            ).group_by(PaperAuthor.name)
        )
    )
    if not spellings:
        return None
    spellings.sort(key=lambda r: (-r[1], r[0]))
    display = spellings[0][0]
    identity = AuthorIdentity(key, display, _count_papers(session, key), [s for s, _ in spellings])
    others = session.execute(
        _visible(
            select(
                PaperAuthor.strict_key,
                PaperAuthor.name,
                func.count(func.distinct(PaperAuthor.paper_id)),
            ).where(PaperAuthor.loose_key == loose_key(name), PaperAuthor.strict_key != key)
        ).group_by(PaperAuthor.strict_key, PaperAuthor.name)
    ).all()
    by_key: dict[str, list[Any]] = {}
    for other_key, spelling, count in others:
        entry = by_key.setdefault(other_key, [spelling, 0, 0])
        entry[1] += count
        if count > entry[2]:
            entry[0], entry[2] = spelling, count
    identity.variants = sorted(
        (Variant(n, k, c, compatible(display, n)) for k, (n, c, _) in by_key.items()),
        key=lambda v: (not v.compatible, -v.papers, v.name),
    )
    return identity


def _count_papers(session: Session, key: str) -> int:
    return (
        session.scalar(
            _visible(select(func.count(func.distinct(PaperAuthor.paper_id)))).where(
                PaperAuthor.strict_key == key
            )
        )
        or 0
    )


def author_papers(session: Session, key: str, *, page: int = 1, limit: int = 20) -> list[Paper]:
    """The author's visible papers, newest first (published date, then id: stable pages)."""
    ids = (
        select(PaperAuthor.paper_id)
        .where(PaperAuthor.strict_key == key)
        .distinct()
        .scalar_subquery()
    )
    return list(
        session.scalars(
            select(Paper)
            .where(Paper.id.in_(ids), Paper.hidden.is_(False))
            .order_by(Paper.published_at.desc().nulls_last(), Paper.id.desc())
            .offset((page - 1) * limit)
            .limit(limit)
        )
    )


def coauthors(session: Session, key: str, limit: int = 30) -> list[tuple[str, str, int]]:
    """``(display name, strict key, papers together)``, most frequent first."""
    mine = select(PaperAuthor.paper_id).where(PaperAuthor.strict_key == key).scalar_subquery()
    rows = list(
        session.execute(
            _visible(
                select(
                    PaperAuthor.strict_key,
                    func.min(PaperAuthor.name),
                    func.count(func.distinct(PaperAuthor.paper_id)),
                ).where(PaperAuthor.paper_id.in_(mine), PaperAuthor.strict_key != key)
            ).group_by(PaperAuthor.strict_key)
        )
    )
    rows.sort(key=lambda r: (-r[2], r[1]))
    return [(name, k, count) for k, name, count in rows[:limit]]


def categories(session: Session, key: str) -> list[tuple[str, int]]:
    """The categories of the author's visible papers with counts, most frequent first."""
    mine = select(PaperAuthor.paper_id).where(PaperAuthor.strict_key == key).scalar_subquery()
    counts: Counter[str] = Counter()
    for (cats,) in session.execute(
        select(Paper.categories).where(Paper.id.in_(mine), Paper.hidden.is_(False))
    ):
        counts.update(dict.fromkeys(stored.strings(cats), 1))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


def on_feed(session: Session, key: str, limit: int = 50) -> list[tuple[Paper, FeedEntry]]:
    """The author's papers currently on the daily feed, latest day first."""
    mine = select(PaperAuthor.paper_id).where(PaperAuthor.strict_key == key).scalar_subquery()
    return [
        (paper, entry)
        for paper, entry in session.execute(
            select(Paper, FeedEntry)
            .join(FeedEntry, FeedEntry.paper_id == Paper.id)
            .where(Paper.id.in_(mine), Paper.hidden.is_(False))
            .order_by(FeedEntry.day.desc(), Paper.id)
            .limit(limit)
        )
    ]


def keys_of_papers(session: Session, paper_ids: Sequence[str]) -> dict[str, list[str]]:
    """{paper id: strict keys of its authors, in order} (for links and badges)."""
    out: dict[str, list[str]] = {}
    ids = list(dict.fromkeys(paper_ids))
    for start in range(0, len(ids), _CHUNK):
        for pid, key in session.execute(
            select(PaperAuthor.paper_id, PaperAuthor.strict_key)
            .where(PaperAuthor.paper_id.in_(ids[start : start + _CHUNK]))
            .order_by(PaperAuthor.paper_id, PaperAuthor.position)
        ):
            out.setdefault(pid, []).append(key)
    return out


# --- follows ---------------------------------------------------------------------------------


def followed_authors(session: Session, user_id: int) -> list[str]:
    """The strict keys (``paperwire.authors.names.strict_key``) of the authors a member
    follows, oldest follow first. Match them against ``paper_authors.strict_key`` (or
    ``strict_key(name)`` of a paper's author names); ``followed_author_names`` gives the
    display names saved when following."""
    return list(
        session.scalars(
            select(AuthorFollow.strict_key)
            .where(AuthorFollow.user_id == user_id)
            .order_by(AuthorFollow.created_at, AuthorFollow.strict_key)
        )
    )


def followed_author_names(session: Session, user_id: int) -> list[tuple[str, str]]:
    """``(strict key, display name)`` of the authors a member follows, oldest first."""
    return [
        (key, name)
        for key, name in session.execute(
            select(AuthorFollow.strict_key, AuthorFollow.name)
            .where(AuthorFollow.user_id == user_id)
            .order_by(AuthorFollow.created_at, AuthorFollow.strict_key)
        )
    ]


def is_following(session: Session, user_id: int, key: str) -> bool:
    return session.get(AuthorFollow, (user_id, key)) is not None


def follow(session: Session, user_id: int, key: str, name: str) -> bool:
    """Follow; True when it changed something (following twice is one follow)."""
    if session.get(AuthorFollow, (user_id, key)) is not None:
        return False
    session.add(
        AuthorFollow(user_id=user_id, strict_key=key, name=name[:_MAX], created_at=utcnow())
    )
    session.flush()
    return True


def unfollow(session: Session, user_id: int, key: str) -> bool:
    return (
        rowcount(
            session.execute(
                delete(AuthorFollow).where(
                    AuthorFollow.user_id == user_id, AuthorFollow.strict_key == key
                )
            )
        )
        > 0
    )


def followers_count(session: Session, key: str) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(AuthorFollow).where(AuthorFollow.strict_key == key)
        )
        or 0
    )


def papers_by_keys_since(
    session: Session, keys: Sequence[str], since: dt.datetime, limit: int = 20
) -> list[tuple[Paper, list[str]]]:
    """Visible papers published at or after ``since`` by any of ``keys``, newest first, each
    with the names (as listed on the paper) of the matching authors."""
    if not keys:
        return []
    rows = session.execute(
        select(Paper, PaperAuthor.name)
        .join(PaperAuthor, PaperAuthor.paper_id == Paper.id)
        .where(
            PaperAuthor.strict_key.in_(list(keys)),
            Paper.hidden.is_(False),
            Paper.published_at >= since,
        )
        .order_by(Paper.published_at.desc(), Paper.id, PaperAuthor.position)
    ).all()
    out: dict[str, tuple[Paper, list[str]]] = {}
    for paper, name in rows:
        if paper.id not in out:
            if len(out) >= limit:
                break
            out[paper.id] = (paper, [])
        out[paper.id][1].append(name)
    return list(out.values())


def delete_member_authors(session: Session, user_id: int) -> None:
    """Account deletion: the member's follows and claims go (an approved claim with them, so
    the author's name stops linking to the account); decisions they made as an admin stay,
    without their name."""
    from sqlalchemy import update

    from paperwire.store.models import AuthorClaim

    session.execute(delete(AuthorFollow).where(AuthorFollow.user_id == user_id))
    session.execute(delete(AuthorClaim).where(AuthorClaim.user_id == user_id))
    session.execute(
        update(AuthorClaim)
        .where(AuthorClaim.decided_by == user_id)
        .values(decided_by=None)
        .execution_options(synchronize_session=False)
    )


def strict_keys_of(authors: Any) -> list[str]:
    """The strict keys of a stored ``authors`` value, in order (pure: no query)."""
    return [row[3] for row in author_rows("", authors)]


def follows_of_users(session: Session, user_ids: Iterable[int]) -> dict[int, list[str]]:
    """{user id: followed strict keys} for a batch of members (digest runs)."""
    ids = [u for u in dict.fromkeys(user_ids) if u is not None]
    out: dict[int, list[str]] = {}
    for start in range(0, len(ids), _CHUNK):
        for uid, key in session.execute(
            select(AuthorFollow.user_id, AuthorFollow.strict_key)
            .where(AuthorFollow.user_id.in_(ids[start : start + _CHUNK]))
            .order_by(AuthorFollow.user_id, AuthorFollow.created_at)
        ):
            out.setdefault(uid, []).append(key)
    return out


# A digest paper row (here and in ``store.deliveries``), in the order
# ``digest.build.paper_from_row`` reads: the paper's columns, then content_hash and the stored
# key sentence's (without them the section showed the rule's sentence, never the stored one).
DIGEST_COLUMNS = (
    Paper.id,
    Paper.title,
    Paper.abstract,
    Paper.authors,
    Paper.author_count,
    Paper.categories,
    Paper.published_at,
    Paper.abs_url,
    Paper.pdf_url,
    Paper.upvotes,
    Paper.num_comments,
    Paper.content_hash,
    Paper.key_sentence,
    Paper.key_sentence_hash,
    Paper.key_sentence_scorer,
)


def digest_rows_by_keys(
    session: Session, keys: Iterable[str], since: dt.datetime, limit: int = 5000
) -> list[tuple[Any, ...]]:
    """``(*DIGEST_COLUMNS, strict key, name as listed)`` for visible papers published at or
    after ``since`` by any of ``keys``, newest first (one row per matching author)."""
    keys = list(dict.fromkeys(keys))
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(keys), _CHUNK):
        rows += [
            tuple(r)
            for r in session.execute(
                select(*DIGEST_COLUMNS, PaperAuthor.strict_key, PaperAuthor.name)
                .join(PaperAuthor, PaperAuthor.paper_id == Paper.id)
                .where(
                    PaperAuthor.strict_key.in_(keys[start : start + _CHUNK]),
                    Paper.hidden.is_(False),
                    Paper.published_at >= since,
                )
                .order_by(Paper.published_at.desc(), Paper.id, PaperAuthor.position)
                .limit(limit)
            )
        ]
    rows.sort(key=lambda r: (r[6], r[0]), reverse=True)
    return rows


def iter_author_rows(
    db: Database, batch_size: int = 2000
) -> Iterator[tuple[list[str], list[tuple[Any, ...]]]]:
    """``(paper ids, author_rows)`` for every paper in id order, in batches (keyset: constant
    memory), each batch read in its own short session."""
    last = ""
    while True:
        with db.session() as s:
            batch = s.execute(
                select(Paper.id, Paper.authors)
                .where(Paper.id > last)
                .order_by(Paper.id)
                .limit(batch_size)
            ).all()
        if not batch:
            return
        yield (
            [pid for pid, _ in batch],
            [row for pid, authors in batch for row in author_rows(pid, authors)],
        )
        last = batch[-1][0]


def export_member_authors(session: Session, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """A member's authors data for an account export: the authors they follow and their
    authorship claims (every state), oldest first."""
    from paperwire.store.models import AuthorClaim

    follows = [
        {"name": name, "strictKey": key, "since": created.isoformat() + "Z"}
        for key, name, created in session.execute(
            select(AuthorFollow.strict_key, AuthorFollow.name, AuthorFollow.created_at)
            .where(AuthorFollow.user_id == user_id)
            .order_by(AuthorFollow.created_at, AuthorFollow.strict_key)
        )
    ]
    claims = [
        {
            "name": c.name,
            "strictKey": c.strict_key,
            "status": c.status,
            "rule": c.rule,
            "createdAt": c.created_at.isoformat() + "Z",
            "decidedAt": c.decided_at.isoformat() + "Z" if c.decided_at else None,
        }
        for c in session.scalars(
            select(AuthorClaim)
            .where(AuthorClaim.user_id == user_id)
            .order_by(AuthorClaim.created_at, AuthorClaim.id)
        )
    ]
    return {"followedAuthors": follows, "authorClaims": claims}
