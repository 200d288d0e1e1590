"""Authorship claims: SQL only; who may do what is decided by ``services.authors``.

Invariants:
- A claim is for a strict key (``paperwire.authors.names``) and moves pending -> approved ->
  released | revoked, or pending -> revoked (refused) / released (withdrawn). Nothing is
  deleted, so the admin queue keeps a record; account deletion removes a member's claims
  (foreign key cascade).
- At most one approved claim per strict key (checked here, under the caller's transaction).
- "Claimed authors of a paper" = members with an approved claim whose strict key is one of
  the paper's ``paper_authors`` rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from paperwire.store.models import AuthorClaim, Comment, PaperAuthor, User, utcnow

ACTIVE = ("pending", "approved")
_CHUNK = 900


def get(session: Session, claim_id: int) -> AuthorClaim | None:
    return session.get(AuthorClaim, claim_id)


def active_claim(session: Session, user_id: int, key: str) -> AuthorClaim | None:
    """The member's pending or approved claim on ``key``, if any."""
    return session.scalar(
        select(AuthorClaim).where(
            AuthorClaim.user_id == user_id,
            AuthorClaim.strict_key == key,
            AuthorClaim.status.in_(ACTIVE),
        )
    )


def approved_claim(session: Session, key: str) -> AuthorClaim | None:
    return session.scalar(
        select(AuthorClaim).where(AuthorClaim.strict_key == key, AuthorClaim.status == "approved")
    )


def add(
    session: Session, user_id: int, key: str, name: str, *, now: dt.datetime | None = None
) -> AuthorClaim:
    claim = AuthorClaim(
        user_id=user_id,
        strict_key=key,
        name=name[:255],
        status="pending",
        created_at=now or utcnow(),
    )
    session.add(claim)
    session.flush()
    return claim


def decide(
    session: Session, claim: AuthorClaim, status: str, *, by: int | None, rule: str | None = None
) -> AuthorClaim:
    claim.status = status
    claim.decided_by = by
    claim.decided_at = utcnow()
    if rule is not None:
        claim.rule = rule
    session.flush()
    return claim


def listing(
    session: Session, status: str | None = None, *, user_id: int | None = None, limit: int = 200
) -> list[tuple[AuthorClaim, str]]:
    """``(claim, claimant username)``, pending first then newest."""
    stmt = select(AuthorClaim, User.username).join(User, User.id == AuthorClaim.user_id)
    if status is not None:
        stmt = stmt.where(AuthorClaim.status == status)
    if user_id is not None:
        stmt = stmt.where(AuthorClaim.user_id == user_id)
    stmt = stmt.order_by(
        (AuthorClaim.status != "pending"), AuthorClaim.created_at.desc(), AuthorClaim.id.desc()
    ).limit(limit)
    return [(claim, username) for claim, username in session.execute(stmt)]


def claimants(session: Session, keys: Iterable[str]) -> dict[str, tuple[int, str]]:
    """{strict key: (user id, username)} of the approved claims on ``keys``."""
    keys = list(dict.fromkeys(keys))
    out: dict[str, tuple[int, str]] = {}
    for start in range(0, len(keys), _CHUNK):
        for key, uid, username in session.execute(
            select(AuthorClaim.strict_key, AuthorClaim.user_id, User.username)
            .join(User, User.id == AuthorClaim.user_id)
            .where(
                AuthorClaim.strict_key.in_(keys[start : start + _CHUNK]),
                AuthorClaim.status == "approved",
            )
        ):
            out[key] = (uid, username)
    return out


def paper_author_users(session: Session, paper_id: str) -> set[int]:
    """The members who are approved claimed authors of this paper."""
    return set(
        session.scalars(
            select(AuthorClaim.user_id)
            .join(PaperAuthor, PaperAuthor.strict_key == AuthorClaim.strict_key)
            .where(PaperAuthor.paper_id == paper_id, AuthorClaim.status == "approved")
        )
    )


def participating(session: Session, paper_ids: Sequence[str]) -> set[str]:
    """The papers among ``paper_ids`` on which a claimed author of the paper has a visible
    comment (the public API's ``isAuthorParticipating``). One statement per 900 ids."""
    ids = list(dict.fromkeys(paper_ids))
    found: set[str] = set()
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        found.update(
            session.scalars(
                select(Comment.paper_id)
                .distinct()
                .join(PaperAuthor, PaperAuthor.paper_id == Comment.paper_id)
                .join(
                    AuthorClaim,
                    and_(
                        AuthorClaim.strict_key == PaperAuthor.strict_key,
                        AuthorClaim.user_id == Comment.user_id,
                    ),
                )
                .where(
                    Comment.paper_id.in_(chunk),
                    Comment.deleted.is_(False),
                    AuthorClaim.status == "approved",
                )
            )
        )
    return found


def affiliations_of(session: Session, key: str) -> list[str]:
    """Every affiliation listed for ``key`` on its papers (from ``Paper.authors``)."""
    from paperwire import stored
    from paperwire.store.models import Paper

    out = []
    for authors, position in session.execute(
        select(Paper.authors, PaperAuthor.position)
        .join(PaperAuthor, PaperAuthor.paper_id == Paper.id)
        .where(PaperAuthor.strict_key == key)
    ):
        listed = authors if isinstance(authors, list) else []
        if position < len(listed) and isinstance(listed[position], dict):
            out += stored.strings(listed[position].get("affiliations"))
    return out


def approved_names(session: Session, user_id: int) -> list[str]:
    """The author names a member holds an approved claim on (their public profile shows
    them)."""
    return list(
        session.scalars(
            select(AuthorClaim.name)
            .where(AuthorClaim.user_id == user_id, AuthorClaim.status == "approved")
            .order_by(AuthorClaim.name)
        )
    )
