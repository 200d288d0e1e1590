"""The data a digest is made of: plain frozen values, so composing is a pure function."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from paperwire.config import Settings


@dataclass(frozen=True)
class DigestPaper:
    id: str
    title: str
    authors: tuple[str, ...] = ()
    author_count: int = 0
    categories: tuple[str, ...] = ()
    abstract: str = ""
    url: str = ""  # the paper's page on this site
    abs_url: str | None = None  # arXiv (or source) abstract page
    pdf_url: str | None = None
    upvotes: int = 0
    num_comments: int = 0
    published: dt.date | None = None
    # One sentence of the abstract chosen as its summary (summary/read.py); "" without one.
    key_sentence: str = ""


@dataclass(frozen=True)
class PersonalItem:
    paper: DigestPaper
    # Why it is there, one reason per topic that found it ("your topic “x” — by keyword").
    matched: tuple[str, ...]
    relevance: float = 1.0


@dataclass(frozen=True)
class Digest:
    """One subscriber's digest for one edition and period."""

    edition: str  # daily | weekly
    period: str  # 2026-11-26 | 2026-W48
    period_label: str  # "Thursday 26 November 2026" | "week 48, 2026"
    recipient_email: str
    trending: tuple[DigestPaper, ...] = ()
    personal: tuple[PersonalItem, ...] = ()
    recipient_name: str | None = None
    has_topics: bool = False
    unsubscribe_url: str = ""
    preferences_url: str = ""
    # "New from authors you follow" (digest/followed_authors.py); ``matched``: the names.
    followed: tuple[PersonalItem, ...] = ()
    # "Recommended for you" (digest/recommended.py RecommendedItem), account-linked members only.
    recommended: tuple[Any, ...] = ()

    @property
    def paper_ids(self) -> list[str]:
        return (
            [p.id for p in self.trending]
            + [i.paper.id for i in self.personal]
            + [i.paper.id for i in self.followed]
            + [i.paper.id for i in self.recommended]
        )

    @property
    def is_empty(self) -> bool:
        return (
            not self.trending and not self.personal and not self.followed and not self.recommended
        )


@dataclass(frozen=True)
class MailIdentity:
    """Site-wide values every message needs (from settings)."""

    site_name: str
    base_url: str
    mail_from: str
    reply_to: str = ""
    unsubscribe_mailto: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings) -> MailIdentity:
        return cls(
            site_name=settings.site_name,
            base_url=settings.base_url.rstrip("/"),
            mail_from=settings.mail_from,
            reply_to=settings.mail_reply_to,
            unsubscribe_mailto=settings.mail_unsubscribe_mailto,
        )
