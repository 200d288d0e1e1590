"""Submitting a paper to today's feed: the rules, shared by the /submit page, the API and
any CLI or job that puts a paper on the feed for a member. SQL stays in ``store/``
(store/submissions.py, store/users.py, store/locks.py); handlers only parse, call, render.

``submit_paper(settings, db, user, id_or_url)`` either puts the paper on today's feed (local
day in ``settings.timezone``) and returns the new entry, or raises a ``SubmitRefused`` whose
message says why, with a status the API returns as is:

=====================  ======  ===============================================================
refusal                status  rule
=====================  ======  ===============================================================
invalid id             400     not an arXiv id or arxiv.org URL (nothing is sent to arXiv)
daily quota            429     ``settings.submit_daily_quota`` submissions per user and day
hidden                 403     moderators removed the paper from the feed
duplicate              409     a paper is on the feed once (whatever day it was put there)
unknown id             404     arXiv has no paper with that id
arXiv unreachable      503     the arXiv API could not be asked; nothing was changed
too old                422     first version older than ``settings.submit_max_age_days``
=====================  ======  ===============================================================

Invariants: the checks that need no network (id, quota, duplicate of a known paper) run
before arXiv is asked; a refused submission changes nothing on the feed; two racing
submissions of one paper create one entry (the unique feed entry per paper decides, the loser
gets the duplicate refusal); the daily quota holds under concurrency (PostgreSQL: a
transaction lock per user taken before the re-count; SQLite: the insert takes the write lock
first and the count after it rolls a losing submission back).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from paperwire.config import Settings
from paperwire.errors import BadInput, NotFound, PaperwireError
from paperwire.ingest.arxiv_ids import normalize_arxiv_id
from paperwire.store import Session
from paperwire.store.db import Database
from paperwire.store.locks import transaction_lock
from paperwire.store.models import FeedEntry, Paper, User, utcnow
from paperwire.store.submissions import feed_entry_of, insert_submission
from paperwire.store.users import count_submissions_since

log = logging.getLogger(__name__)

# Namespace of the per-user submission lock ('su'); kept from before store/locks.py existed.
_SUBMIT_LOCK_NAMESPACE = 0x7375


class SubmitRefused(PaperwireError):
    status_code = 400
    code = "bad_request"
    reason = "invalid"

    def __init__(
        self, detail: str, *, headers: dict[str, str] | None = None, paper_id: str | None = None
    ) -> None:
        super().__init__(detail)
        self.headers = headers or {}
        # Plain values only: the refusal outlives the (rolled back) session.
        self.paper_id = paper_id


class InvalidId(SubmitRefused):
    status_code, code, reason = 400, "bad_request", "invalid"


class QuotaExceeded(SubmitRefused):
    status_code, code, reason = 429, "rate_limited", "quota"


class HiddenPaper(SubmitRefused):
    status_code, code, reason = 403, "forbidden", "hidden"


class Duplicate(SubmitRefused):
    status_code, code, reason = 409, "conflict", "duplicate"


class UnknownPaper(SubmitRefused):
    status_code, code, reason = 404, "not_found", "unknown"


class ArxivUnavailable(SubmitRefused):
    status_code, code, reason = 503, "unavailable", "unavailable"


class TooOld(SubmitRefused):
    status_code, code, reason = 422, "invalid", "too_old"


@dataclass
class Submitted:
    paper: Paper
    entry: FeedEntry
    fetched: bool  # the paper was fetched from arXiv for this submission


def _tz(settings: Settings) -> dt.tzinfo:
    try:
        return ZoneInfo(settings.timezone)
    except Exception:  # noqa: BLE001 - a bad zone name falls back to UTC
        return dt.UTC


def _naive_utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.UTC).replace(tzinfo=None)


def local_day_bounds(
    settings: Settings, now: dt.datetime
) -> tuple[dt.date, dt.datetime, dt.datetime]:
    """(today, start of today, start of tomorrow), the instants as naive UTC; ``now`` naive UTC."""
    tz = _tz(settings)
    local_now = now.replace(tzinfo=dt.UTC).astimezone(tz)
    today = local_now.date()
    start = dt.datetime.combine(today, dt.time(0), tzinfo=tz)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(0), tzinfo=tz)
    return today, _naive_utc(start), _naive_utc(end)


def _first_version_date(paper: Paper) -> dt.datetime | None:
    return paper.published_at


def _duplicate(entry: FeedEntry | None, paper_id: str) -> Duplicate:
    since = f" (since {entry.day.isoformat()})" if entry is not None else ""
    return Duplicate(
        f"paper {paper_id} is already on the feed{since}; upvote it there instead",
        paper_id=paper_id,
    )


UNREACHABLE = "arXiv could not be reached; nothing was changed; try again later."


def _fetch(settings: Settings, db: Database, paper_id: str) -> None:
    """Fetch one paper from the arXiv API into the store (the ingest area's client), as a
    person waits: a short timeout, no retries. When arXiv cannot be asked the refusal says so
    in words; the technical detail (error, endpoint) goes to the log only."""
    from paperwire.ingest.arxiv_api import fetch_and_store
    from paperwire.search.notify import announcer

    try:
        fetch_and_store(settings, db, paper_id, interactive=True, on_change=announcer(settings, db))
    except NotFound as exc:
        raise UnknownPaper(f"arXiv has no paper with id {paper_id}") from exc
    except BadInput as exc:
        raise InvalidId(str(exc)) from exc
    except (PaperwireError, OSError) as exc:  # OSError: network trouble below the client
        log.warning("submit: arXiv fetch of %s failed: %s", paper_id, exc)
        raise ArxivUnavailable(UNREACHABLE, headers={"Retry-After": "60"}) from exc


def submit_paper(
    settings: Settings, db: Database, user: User, id_or_url: str, *, now: dt.datetime | None = None
) -> Submitted:
    now = now or utcnow()
    try:
        paper_id, _version = normalize_arxiv_id((id_or_url or "").strip())
    except BadInput as exc:
        raise InvalidId(str(exc)) from exc
    today, day_start, day_end = local_day_bounds(settings, now)

    with db.session() as session:
        _check_quota(settings, session, user, day_start, day_end, now)
        paper = session.get(Paper, paper_id)
        if paper is not None:
            _check_known(session, paper)

    fetched = False
    if paper is None:
        _fetch(settings, db, paper_id)
        fetched = True

    with db.session() as session:
        paper = session.get(Paper, paper_id)
        if paper is None:
            raise UnknownPaper(f"arXiv has no paper with id {paper_id}")
        _check_known(session, paper)
        published = _first_version_date(paper)
        max_age = settings.submit_max_age_days
        if published is not None and (now - published).days > max_age:
            age = (now - published).days
            raise TooOld(
                f"paper {paper_id} was first published on {published.date().isoformat()}"
                f", {age} days ago; only papers from the last {max_age} days can be "
                f"submitted to the feed"
            )
        # One submission of this user at a time, so two racing requests cannot both pass
        # the quota; released at commit (PostgreSQL only: False on SQLite, see below).
        locked = transaction_lock(session, _SUBMIT_LOCK_NAMESPACE, user.id)
        if locked:
            _check_quota(settings, session, user, day_start, day_end, now)
        entry = insert_submission(session, paper_id, today, user.id, now)
        if entry is None:
            raise _duplicate(feed_entry_of(session, paper_id), paper_id)
        if not locked:
            # SQLite: the insert took the write lock, so this count sees every committed
            # submission; over the quota means a concurrent one won: ours is rolled back.
            _check_quota(settings, session, user, day_start, day_end, now, after_insert=True)
        return Submitted(paper, entry, fetched)


def _check_quota(
    settings: Settings,
    session: Session,
    user: User,
    day_start: dt.datetime,
    day_end: dt.datetime,
    now: dt.datetime,
    *,
    after_insert: bool = False,
) -> None:
    used = count_submissions_since(session, user.id, day_start) - (1 if after_insert else 0)
    quota = settings.submit_daily_quota
    if used >= quota:
        wait = max(1, int((day_end - now).total_seconds()))
        raise QuotaExceeded(
            f"you have submitted {used} paper{'s' if used != 1 else ''} "
            f"today; the daily limit is {quota}. You can submit again "
            f"tomorrow.",
            headers={"Retry-After": str(wait)},
        )


def _check_known(session: Session, paper: Paper) -> None:
    if paper.hidden:
        raise HiddenPaper(
            f"paper {paper.id} was removed from the feed by the moderators "
            f"and cannot be submitted again"
        )
    entry = feed_entry_of(session, paper.id)
    if entry is not None:
        raise _duplicate(entry, paper.id)


def used_today(
    settings: Settings, db: Database, user: User, *, now: dt.datetime | None = None
) -> int:
    """How many papers ``user`` submitted today (local day in ``settings.timezone``)."""
    _today, start, _end = local_day_bounds(settings, now or utcnow())
    with db.session() as session:
        return count_submissions_since(session, user.id, start)
