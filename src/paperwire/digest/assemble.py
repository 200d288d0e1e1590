"""One subscriber's digest from an edition's data: choose its parts, then make the ``Digest``.

The one place the choose -> make_digest sequence is written; ``send`` (fresh and frozen
deliveries), ``dryrun`` and ``mailer.preview`` all call it, so the parts a subscriber gets
cannot differ between a preview, a dry run and the real send.

Invariants (with ``build``'s): a paper is in one part of a digest only, in the order trending,
topics, followed authors, recommended; a paper in ``already`` (mailed before) is in none.
``assemble`` returns ``None`` when every part is empty (nothing to send).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from paperwire.config import Settings
from paperwire.digest import build, followed_authors, recommended
from paperwire.digest.model import Digest, DigestPaper, PersonalItem
from paperwire.store.db import Database
from paperwire.store.mail_models import Subscription


@dataclass(frozen=True)
class Recipient:
    """What a digest needs to know about its subscription."""

    subscription_id: int
    email: str
    user_id: int | None
    name: str | None
    token_version: int
    topics: list[dict[str, Any]]
    max_papers: int


def recipient(sub: Subscription, names: Mapping[int, str]) -> Recipient:
    """``sub`` as a ``Recipient``; ``names``: ``store.subscriptions.display_names``."""
    return Recipient(
        sub.id,
        sub.email,
        sub.user_id,
        names.get(sub.user_id) if sub.user_id is not None else None,
        sub.token_version,
        list(sub.topics or []),
        sub.max_papers,
    )


@dataclass
class Parts:
    trending: list[DigestPaper] = field(default_factory=list)
    personal: list[PersonalItem] = field(default_factory=list)
    followed: list[PersonalItem] = field(default_factory=list)
    recommended: list[recommended.RecommendedItem] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.trending or self.personal or self.followed or self.recommended)

    def contents(self) -> list[dict[str, Any]]:
        """What ``digest_deliveries.paper_ids`` freezes (``thaw`` rebuilds the same parts)."""
        return (
            build.contents(self.trending, self.personal)
            + followed_authors.contents(self.followed)
            + recommended.freeze(self.recommended)
        )


def choose(
    settings: Settings,
    db: Database,
    data: build.EditionData,
    to: Recipient,
    *,
    already: set[str],
    follows: Sequence[PersonalItem] = (),
    recommender: recommended.Recommender | None = None,
) -> Parts:
    """Every part for ``to`` now; ``follows``: their ``followed_authors.candidates``;
    ``recommender``: the source of the "Recommended for you" part (none: no such part)."""
    trending, personal = build.choose(
        data, topics=to.topics, max_papers=to.max_papers, already=already
    )
    taken = {p.id for p in trending} | {i.paper.id for i in personal}
    followed = followed_authors.pick(follows, max_papers=to.max_papers, taken=taken)
    recs = recommended.choose(
        settings,
        db,
        data,
        to.user_id,
        exclude=already | taken | {i.paper.id for i in followed},
        recommender=recommender,
    )
    return Parts(trending, personal, followed, recs)


def thaw(data: build.EditionData, frozen: Sequence[dict[str, Any]]) -> Parts:
    """The parts a delivery froze (papers deleted since are left out)."""
    rest, followed = followed_authors.split_contents(frozen, data.papers)
    trending, personal = build.from_contents(rest, data.papers)
    return Parts(trending, personal, followed, recommended.thaw(frozen, data.papers))


def assemble(
    settings: Settings,
    data: build.EditionData,
    to: Recipient,
    parts: Parts,
    *,
    keep_empty: bool = False,
) -> Digest | None:
    """The ``Digest`` of these parts, or ``None`` when there is nothing to send (unless
    ``keep_empty``: a preview shows the empty digest)."""
    if parts.empty() and not keep_empty:
        return None
    return build.make_digest(
        settings,
        data,
        email=to.email,
        name=to.name,
        subscription_id=to.subscription_id,
        token_version=to.token_version,
        topics=to.topics,
        trending=parts.trending,
        personal=parts.personal,
        followed=parts.followed,
        recommended=parts.recommended,
    )
