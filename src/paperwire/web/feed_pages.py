"""The feed pages' contexts: the daily / weekly / monthly feed and trending. Each returns the
dict that both the HTML template and the JSON answer are made from.

Invariants:
- Every context is built with a constant number of SQL statements; anonymous visitors share
  it through the page cache (``page_common.cached``).
- Links to neighbouring periods are None where they would leave the representable dates
  (``periods.add_days`` / ``add_months`` / ``week_of``) and "Next" stops at the current
  period: the first and last pages simply have no such link.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from paperwire.errors import BadInput
from paperwire.services.api_objects import feed_item_json
from paperwire.store import Session, author_claims, listing
from paperwire.store.feed import trending as store_trending
from paperwire.store.models import User, utcnow
from paperwire.web import links as web_links
from paperwire.web import periods
from paperwire.web.appcontext import AppContext
from paperwire.web.page_common import cached, check_has, page_args, upvoted

FEED_SORTS = {"upvotes", "trending", "publishedAt"}
PERIOD_KINDS = ("day", "week", "month")


def mark_participation(session: Session, items: list[dict[str, Any]]) -> None:
    """Set ``isAuthorParticipating`` on feed items (one statement for the whole list)."""
    found = author_claims.participating(session, [i["paper"]["id"] for i in items])
    for item in items:
        item["isAuthorParticipating"] = item["paper"]["id"] in found


# --- period navigation -----------------------------------------------------------------------


def period_url(kind: str, day: dt.date | None) -> str | None:
    """The feed page of the ``kind`` period containing ``day`` (None: no such page)."""
    if day is None:
        return None
    if kind == "day":
        return f"/papers?date={day}"
    if kind == "week":
        label = periods.week_of(day)
        return f"/papers/week/{label}" if label else None
    return f"/papers/month/{periods.month_label(day)}"


def period_links(
    kind: str,
    start: dt.date,
    today: dt.date,
    *,
    prev_day: dt.date | None = None,
    next_day: dt.date | None = None,
) -> dict[str, str | None]:
    """The pager of a period page (previous / next period) and the links to the other kinds
    of period containing ``start``. A day's neighbours are the adjacent days that have
    entries (``prev_day``/``next_day``); a week's or month's are the calendar's."""
    if kind == "day":
        before, after = prev_day, next_day
    elif kind == "week":
        before, after = periods.add_days(start, -7), periods.next_start("week", start, today)
    else:
        before, after = periods.add_months(start, -1), periods.next_start("month", start, today)
    links: dict[str, str | None] = {
        "prev_url": period_url(kind, before),
        "next_url": period_url(kind, after),
        "prev_label": f"Previous {kind}",
        "next_label": f"Next {kind}",
    }
    for other in PERIOD_KINDS:
        if other != kind:
            links[f"{other}_url"] = period_url(other, start)
    return links


def _with_param(url: str | None, name: str, value: str | None) -> str | None:
    if url is None or not value:
        return url
    return f"{url}{'&' if '?' in url else '?'}{name}={value}"


def _filter_urls(ctx: dict[str, Any], here: str, has: str | None, keys: tuple[str, ...]) -> None:
    """The "All papers" / "With code" toggle, and the ``has`` filter kept by the pager and the
    links to other periods."""
    ctx["all_url"] = here
    ctx["with_code_url"] = _with_param(here, "has", "code")
    ctx["page_url"] = _with_param(here, "has", has)
    for key in keys:
        if ctx.get(key):
            ctx[key] = _with_param(ctx[key], "has", has)


# --- the feed --------------------------------------------------------------------------------


def _period(
    date: str | None, week: str | None, month: str | None
) -> tuple[str, dt.date | None, dt.date | None, str | None]:
    """``(kind, start, end, label)`` of the requested period; a day without ``date`` has no
    start yet (today, or the latest day with entries: decided with the data)."""
    given = [name for name, v in (("date", date), ("week", week), ("month", month)) if v]
    if len(given) > 1:
        raise BadInput(f"give only one of date, week, month (got {', '.join(given)})")
    if week:
        start, end = periods.parse_week(week)
        return "week", start, end, f"Week {periods.week_label(start)}"
    if month:
        start, end = periods.parse_month(month)
        return "month", start, end, start.strftime("%B %Y")
    day = periods.parse_day(date) if date else None
    return "day", day, day, None


def feed_context(
    ctx: AppContext,
    *,
    user: User | None = None,
    date: str | None = None,
    week: str | None = None,
    month: str | None = None,
    sort: str | None = None,
    page: int | None = None,
    limit: int | None = None,
    has: str | None = None,
) -> dict[str, Any]:
    """The daily / weekly / monthly feed. Without a period: today, or the latest day with
    entries when today has none. ``has``: only papers with a visible link of that kind
    (``code``: the "with code" toggle)."""
    has = check_has(has)
    db = ctx.db
    kind, start, end, label = _period(date, week, month)
    sort = sort or "upvotes"
    if sort not in FEED_SORTS:
        raise BadInput(f"sort must be one of {', '.join(sorted(FEED_SORTS))}, got {sort!r}")
    page, limit = page_args(page, limit, ctx.settings.feed_page_size)
    today = periods.today(ctx.settings)

    def compute() -> dict[str, Any]:
        with db.session() as s:
            first, last = start, end
            latest_fallback = False
            if kind == "day" and first is None:
                day = listing.latest_feed_day(s, on_or_before=today)
                if day is None:
                    day = listing.latest_feed_day(s)
                latest_fallback = day is not None and day != today
                first = last = day or today
            total = count = listing.count_feed(s, start=first, end=last, has=has)
            offset = (page - 1) * limit
            items: list[dict[str, Any]]
            if sort == "trending":
                scored = store_trending(
                    s, start=first, end=last, now=utcnow(), limit=limit, offset=offset, has=has
                )
                names = listing.feed_entries_for(s, [p.id for p, _, _ in scored])
                items = [
                    feed_item_json(p, e, names.get(p.id, (None, None))[1], score)
                    for p, e, score in scored
                ]
            else:
                rows = listing.feed_rows(
                    s,
                    start=first,
                    end=last,
                    sort="published" if sort == "publishedAt" else "upvotes",
                    limit=limit,
                    offset=offset,
                    has=has,
                )
                items = [feed_item_json(r.paper, r.entry, r.submitter) for r in rows]
            mark_participation(s, items)
            web_links.attach(s, [i["paper"] for i in items])
            prev_day = next_day = None
            if kind == "day" and first is not None:
                prev_day, next_day = listing.adjacent_feed_days(s, first)
        return {
            "start": first,
            "end": last,
            "items": items,
            "total": total,
            "count": count,
            "prev_day": prev_day,
            "next_day": next_day,
            "latest_fallback": latest_fallback,
        }

    data = cached(ctx, user, ("feed", kind, start, end, sort, page, limit, today, has), compute)
    start_d: dt.date = data["start"]
    out: dict[str, Any] = dict(data)
    out.update(
        kind=kind,
        sort=sort,
        page=page,
        limit=limit,
        today=today,
        has=has,
        has_more=page * limit < data["total"],
        upvoted=upvoted(ctx, user, data["items"]),
    )
    out["label"] = start_d.strftime("%A, %B %-d, %Y") if kind == "day" else label
    out.update(
        period_links(kind, start_d, today, prev_day=data["prev_day"], next_day=data["next_day"])
    )
    here = period_url(kind, start_d) or "/"
    if sort != "upvotes":
        here = _with_param(here, "sort", sort) or here
    _filter_urls(out, here, has, ("prev_url", "next_url", "week_url", "month_url", "day_url"))
    return out


# --- trending --------------------------------------------------------------------------------

TRENDING_WINDOWS = {"day": 1, "week": 7, "month": 30, "all": None}
_TRENDING_LABELS = {"day": " today", "week": " this week", "month": " this month", "all": ""}


def trending_context(
    ctx: AppContext,
    *,
    user: User | None = None,
    window: str | None = None,
    page: int | None = None,
    limit: int | None = None,
    has: str | None = None,
) -> dict[str, Any]:
    """Papers of the last day/week/month (or all time) by time-decayed score."""
    db = ctx.db
    has = check_has(has)
    window = window or "week"
    if window not in TRENDING_WINDOWS:
        raise BadInput(f"window must be one of {', '.join(TRENDING_WINDOWS)}, got {window!r}")
    page, limit = page_args(page, limit, ctx.settings.feed_page_size)
    today = periods.today(ctx.settings)
    days = TRENDING_WINDOWS[window]
    start = today - dt.timedelta(days=days - 1) if days else None

    def compute() -> dict[str, Any]:
        with db.session() as s:
            total = listing.count_feed(s, start=start, end=None, has=has)
            rows = store_trending(
                s,
                start=start,
                end=None,
                now=utcnow(),
                limit=limit,
                offset=(page - 1) * limit,
                has=has,
            )
            names = listing.feed_entries_for(s, [p.id for p, _, _ in rows])
            items = [
                feed_item_json(p, e, names.get(p.id, (None, None))[1], score)
                for p, e, score in rows
            ]
            mark_participation(s, items)
            web_links.attach(s, [i["paper"] for i in items])
        return {"items": items, "total": total}

    data = cached(ctx, user, ("trending", window, start, page, limit, has), compute)
    out = dict(data)
    out.update(
        kind="trending",
        window=window,
        windows=list(TRENDING_WINDOWS),
        page=page,
        has=has,
        limit=limit,
        has_more=page * limit < data["total"],
        start=start,
        upvoted=upvoted(ctx, user, data["items"]),
        label="Trending" + _TRENDING_LABELS[window],
    )
    _filter_urls(out, f"/trending?window={window}", has, ())
    return out
