"""Authors as actions: follow / unfollow an author, claim authorship, and the admin's
approve / revoke. The web pages, the API and the CLI call these; SQL stays in ``store/``.

Invariants:
- An author is named by any spelling; it is stored by strict key
  (``paperwire.authors.names.strict_key``). A name that no visible paper lists is refused
  (``NotFound``): nobody follows or claims an author Paperwire does not know.
- **Only administrators approve or revoke** a claim; **only the claimant releases** theirs
  (``Forbidden`` otherwise, nothing changes).
- At most one approved claim per author: approving a second one is a ``Conflict`` (the first
  must be released or revoked).
- **Automatic approval** (``settings.author_claim_auto_approve``): a claim is approved at once
  when the member has a *proven* address -- the address of an active digest subscription
  linked to the account, which is linked only after the member followed a confirmation link
  mailed there while signed in (``services.subscriptions``) -- and the domain of that address
  (the part after ``@``, lower-cased) occurs whole in an affiliation listed for the claimed
  name on one of its papers: ``alice@cs.example.edu`` matches an affiliation mentioning
  ``cs.example.edu`` (e.g. an address in it), not one mentioning only ``example.edu`` or
  ``cs.example.edu.au`` (``domain_matches``). The account's own e-mail address is never used:
  it is not verified.
  arXiv records rarely carry affiliations, so most claims wait for an administrator.
- Claims and follows are private to the member except what pages show publicly: an approved
  claim links the author's name to the member's profile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from paperwire.authors.names import strict_key
from paperwire.config import Settings
from paperwire.errors import BadInput, NotFound, PaperwireError
from paperwire.store import Session
from paperwire.store import author_claims as claims_store
from paperwire.store import authors as store
from paperwire.store import subscriptions as subscriptions_store
from paperwire.store.db import Database
from paperwire.store.models import AuthorClaim, User


class Forbidden(PaperwireError):
    """Not allowed for this member (the web answers 403)."""

    status_code, code = 403, "forbidden"


@dataclass(frozen=True)
class Operator:
    """Whoever runs the CLI (``paperwire authors approve|revoke``): shell access to the
    server is an administrator's authority. Decisions record no member (``decided_by``
    NULL)."""

    id: None = None
    is_admin: bool = True
    username: str = "(command line)"


OPERATOR = Operator()


class Conflict(PaperwireError):
    """Would break a rule about the current state (the web answers 409)."""

    status_code, code = 409, "conflict"


def _known(session: Session, name: str) -> store.AuthorIdentity:
    name = " ".join((name or "").split())
    if not name:
        raise BadInput("the author's name is empty")
    if len(name) > 255:
        raise BadInput("an author's name has at most 255 characters")
    who = store.resolve(session, name)
    if who is None:
        raise NotFound(f"no paper lists an author named {name!r}")
    return who


# --- follows ---------------------------------------------------------------------------------


def follow(db: Database, user: User, name: str) -> tuple[store.AuthorIdentity, bool]:
    """Follow (idempotent); returns the author and whether it changed anything."""
    with db.session() as s:
        who = _known(s, name)
        return who, store.follow(s, user.id, who.strict_key, who.name)


def unfollow(db: Database, user: User, name: str) -> bool:
    """Stop following (idempotent). Works for a name no paper lists any more."""
    key = strict_key(name or "")
    if not key:
        raise BadInput("the author's name is empty")
    with db.session() as s:
        return store.unfollow(s, user.id, key)


# --- claims ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimView:
    id: int
    user_id: int
    username: str
    name: str
    strict_key: str
    status: str
    rule: str | None
    created_at: object
    decided_at: object


def _view(claim: AuthorClaim, username: str) -> ClaimView:
    return ClaimView(
        claim.id,
        claim.user_id,
        username,
        claim.name,
        claim.strict_key,
        claim.status,
        claim.rule,
        claim.created_at,
        claim.decided_at,
    )


def proven_address(session: Session, user_id: int) -> str | None:
    """The member's proven address: their linked, active digest subscription's, or None."""
    return subscriptions_store.proven_address(session, user_id)


def domain_matches(address: str | None, affiliations: list[str]) -> bool:
    """Does the domain of ``address`` occur, bounded by non-domain characters, in one of the
    affiliations? Pure (see the module docstring for the rule)."""
    if not address or "@" not in address:
        return False
    domain = address.rsplit("@", 1)[1].strip().lower()
    if "." not in domain:
        return False
    pattern = re.compile(r"(?<![\w.-])" + re.escape(domain) + r"(?![\w-]|\.\w)")
    return any(pattern.search(a.lower()) for a in affiliations)


def claim(settings: Settings, db: Database, user: User, name: str) -> ClaimView:
    """Claim authorship of ``name`` for ``user``: pending, or approved at once by the e-mail
    domain rule. Claiming again while a claim is pending or approved is a ``Conflict``, as is
    claiming an author another member holds."""
    with db.session() as s:
        who = _known(s, name)
        if claims_store.active_claim(s, user.id, who.strict_key) is not None:
            raise Conflict(f"you already claimed {who.name!r}")
        holder = claims_store.approved_claim(s, who.strict_key)
        if holder is not None:
            raise Conflict(
                f"another member is the approved author {who.name!r}; ask an "
                "administrator if that is wrong"
            )
        row = claims_store.add(s, user.id, who.strict_key, who.name)
        if settings.author_claim_auto_approve and domain_matches(
            proven_address(s, user.id), claims_store.affiliations_of(s, who.strict_key)
        ):
            claims_store.decide(s, row, "approved", by=None, rule="email-domain")
        return _view(row, user.username)


def _claim_or_404(s: Session, claim_id: int) -> AuthorClaim:
    row = claims_store.get(s, claim_id)
    if row is None:
        raise NotFound(f"no authorship claim with id {claim_id}")
    return row


def approve(db: Database, admin: User, claim_id: int) -> ClaimView:
    """Approve a pending claim (administrators only; idempotent for an approved one)."""
    if not getattr(admin, "is_admin", False):
        raise Forbidden("only administrators approve authorship claims")
    with db.session() as s:
        row = _claim_or_404(s, claim_id)
        if row.status == "approved":
            return _view(row, _username(s, row.user_id))
        if row.status != "pending":
            raise Conflict(
                f"claim {claim_id} is {row.status}; only a pending claim can be approved"
            )
        holder = claims_store.approved_claim(s, row.strict_key)
        if holder is not None and holder.id != row.id:
            raise Conflict(
                f"{row.name!r} is already claimed by another member (claim "
                f"{holder.id}); revoke that one first"
            )
        claims_store.decide(s, row, "approved", by=admin.id, rule="admin")
        return _view(row, _username(s, row.user_id))


def revoke(db: Database, admin: User, claim_id: int) -> ClaimView:
    """Revoke (or refuse, when pending) a claim: administrators only; idempotent."""
    if not getattr(admin, "is_admin", False):
        raise Forbidden("only administrators revoke authorship claims")
    with db.session() as s:
        row = _claim_or_404(s, claim_id)
        if row.status in ("pending", "approved"):
            claims_store.decide(s, row, "revoked", by=admin.id)
        return _view(row, _username(s, row.user_id))


def release(db: Database, user: User, claim_id: int) -> ClaimView:
    """The claimant gives up their claim (pending or approved); nobody else may."""
    with db.session() as s:
        row = _claim_or_404(s, claim_id)
        if row.user_id != user.id:
            raise Forbidden("only the member who made a claim can release it")
        if row.status in ("pending", "approved"):
            claims_store.decide(s, row, "released", by=user.id)
        return _view(row, user.username)


def list_claims(
    db: Database, status: str | None = None, *, user_id: int | None = None
) -> list[ClaimView]:
    if status is not None and status not in ("pending", "approved", "released", "revoked"):
        raise BadInput(f"status must be pending, approved, released or revoked, got {status!r}")
    with db.session() as s:
        return [_view(c, u) for c, u in claims_store.listing(s, status, user_id=user_id)]


def _username(s: Session, user_id: int) -> str:
    from paperwire.store.models import User

    user = s.get(User, user_id)
    return user.username if user is not None else "?"
