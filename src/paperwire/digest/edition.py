"""Editions and their periods (pure date arithmetic).

- daily, sent on weekdays for date D: covers the feed days after the previous weekday's
  digest up to D-1 (Tuesday: Monday; Monday: Friday to Sunday). Period key ``YYYY-MM-DD``.
- weekly, sent on Mondays: covers the seven days before that Monday. Any ``--date`` is moved
  to the Monday of its ISO week. Period key ``YYYY-Www``.

The scheduled send time (``digest_daily_time``/``digest_weekly_time`` in ``timezone``) is the
"now" of the edition's trending scores, so a rerun ranks papers the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from paperwire.config import Settings
from paperwire.errors import BadInput

EDITIONS = ("daily", "weekly")


@dataclass(frozen=True)
class Edition:
    edition: str
    period: str
    send_day: dt.date
    start: dt.date  # first feed day covered (inclusive)
    end: dt.date  # last feed day covered (inclusive)
    label: str
    send_at_utc: dt.datetime  # naive UTC

    @property
    def key(self) -> str:
        return f"{self.edition}:{self.period}"


def parse_hhmm(value: str, what: str = "time") -> dt.time:
    try:
        hh, mm = value.strip().split(":")
        return dt.time(int(hh), int(mm))
    except (ValueError, AttributeError):
        raise BadInput(f"{what} must be HH:MM, not {value!r}") from None


def local_to_utc(day: dt.date, at: dt.time, tz: str) -> dt.datetime:
    local = dt.datetime.combine(day, at, tzinfo=ZoneInfo(tz))
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def previous_weekday(day: dt.date) -> dt.date:
    d = day - dt.timedelta(days=1)
    while d.weekday() >= 5:
        d -= dt.timedelta(days=1)
    return d


def edition_for(
    edition: str,
    day: dt.date,
    *,
    timezone: str = "UTC",
    daily_time: str = "07:00",
    weekly_time: str = "07:30",
) -> Edition:
    if edition == "daily":
        start = previous_weekday(day)
        end = day - dt.timedelta(days=1)
        label = f"{day:%A} {day.day} {day:%B %Y}"
        send_at = local_to_utc(day, parse_hhmm(daily_time, "DIGEST_DAILY_TIME"), timezone)
        return Edition("daily", day.isoformat(), day, start, end, label, send_at)
    if edition == "weekly":
        monday = day - dt.timedelta(days=day.weekday())
        iso = monday.isocalendar()
        start, end = monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)
        label = (
            f"week {(monday - dt.timedelta(days=7)).isocalendar().week}, "
            f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
        )
        send_at = local_to_utc(monday, parse_hhmm(weekly_time, "DIGEST_WEEKLY_TIME"), timezone)
        return Edition("weekly", f"{iso.year}-W{iso.week:02d}", monday, start, end, label, send_at)
    raise BadInput(f"edition must be daily or weekly, not {edition!r}")


def edition_from_settings(settings: Settings, edition: str, day: dt.date) -> Edition:
    return edition_for(
        edition,
        day,
        timezone=settings.timezone,
        daily_time=settings.digest_daily_time,
        weekly_time=settings.digest_weekly_time,
    )


def today_local(timezone: str, now_utc: dt.datetime | None = None) -> dt.date:
    now = now_utc or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.UTC)
    return now.astimezone(ZoneInfo(timezone)).date()
