"""Parsing and naming the feed's periods: a day, an ISO week, a month.

Invariants: every parser either returns inclusive (start, end) dates or raises ``BadInput``
naming the parameter, the expected format and the value received. Every period returned lies
wholly within the dates Python represents (0001-01-01 .. 9999-12-31): a week that would run
past them (9999-W52) is refused, not half-shown. The navigation helpers (``week_of``,
``add_days``, ``add_months``) answer None instead of stepping outside that range, so the pages
at the ends of time simply have no "next" or "previous" link.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from zoneinfo import ZoneInfo

from paperwire.config import Settings
from paperwire.errors import BadInput

_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$", re.I)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def today(settings: Settings) -> dt.date:
    """Today in the site's time zone (the feed's days are local days)."""
    tz: dt.tzinfo
    try:
        tz = ZoneInfo(settings.timezone)
    except Exception:  # noqa: BLE001 - a bad zone name falls back to UTC, not a crash
        tz = dt.UTC
    return dt.datetime.now(tz).date()


def parse_day(value: str, name: str = "date") -> dt.date:
    value = (value or "").strip()
    if _DAY.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise BadInput(f"{name} must be a date as YYYY-MM-DD, got {value!r}")


def parse_week(value: str) -> tuple[dt.date, dt.date]:
    m = _WEEK.match((value or "").strip())
    if m:
        try:
            start = dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        except ValueError:
            start = None
        end = add_days(start, 6) if start else None
        if start and end:
            return start, end
        if start:
            raise BadInput(
                f"week {value!r} ends after 9999-12-31, the last date this site can show"
            )
    raise BadInput(f"week must be an ISO week as YYYY-Www (e.g. 2026-W48), got {value!r}")


def parse_month(value: str) -> tuple[dt.date, dt.date]:
    m = _MONTH.match((value or "").strip())
    if m and 1 <= int(m.group(2)) <= 12 and int(m.group(1)) >= 1:
        start = dt.date(int(m.group(1)), int(m.group(2)), 1)
        return start, month_end(start)
    raise BadInput(f"month must be YYYY-MM (e.g. 2026-11), got {value!r}")


def month_end(start: dt.date) -> dt.date:
    return start.replace(day=calendar.monthrange(start.year, start.month)[1])


def week_label(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def month_label(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def shift_month(start: dt.date, months: int) -> dt.date:
    index = start.year * 12 + (start.month - 1) + months
    return dt.date(index // 12, index % 12 + 1, 1)


def add_days(day: dt.date | None, days: int) -> dt.date | None:
    """``day`` moved by ``days``, or None when that leaves the representable dates."""
    if day is None:
        return None
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return None


def add_months(start: dt.date, months: int) -> dt.date | None:
    """The first day of the month ``months`` away, or None outside the representable dates."""
    try:
        return shift_month(start, months)
    except ValueError:
        return None


def week_of(day: dt.date | None) -> str | None:
    """The label of the ISO week containing ``day`` (``2026-W48``) when the whole week is
    representable (``parse_week`` would accept it), else None."""
    monday = add_days(day, -day.weekday()) if day is not None else None
    if monday is None or add_days(monday, 6) is None:
        return None
    return week_label(monday)


def next_start(kind: str, start: dt.date, today: dt.date) -> dt.date | None:
    """The first day of the week or month after the one starting at ``start``, or None when
    that period has not begun by ``today`` (the feed's "Next" stops at the current period)
    or lies outside the representable dates."""
    following = add_days(start, 7) if kind == "week" else add_months(start, 1)
    return following if following is not None and following <= today else None
