"""Editions and their periods (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from paperwire.digest.edition import edition_for
from paperwire.errors import BadInput


@pytest.mark.parametrize(
    "day,start,end",
    [
        (dt.date(2026, 11, 26), dt.date(2026, 11, 25), dt.date(2026, 11, 25)),  # Thursday
        (dt.date(2026, 11, 23), dt.date(2026, 11, 20), dt.date(2026, 11, 22)),  # Monday: Fri-Sun
        (dt.date(2026, 11, 24), dt.date(2026, 11, 23), dt.date(2026, 11, 23)),  # Tuesday
    ],
)
def test_daily_covers_days_since_the_previous_weekday_edition(day, start, end):
    ed = edition_for("daily", day)
    assert (ed.start, ed.end, ed.period) == (start, end, day.isoformat())


@pytest.mark.parametrize(
    "day", [dt.date(2026, 11, 23), dt.date(2026, 11, 26), dt.date(2026, 11, 29)]
)
def test_weekly_is_the_monday_of_the_week_and_covers_the_week_before(day):
    ed = edition_for("weekly", day)
    assert ed.send_day == dt.date(2026, 11, 23) and ed.period == "2026-W48"
    assert (ed.start, ed.end) == (dt.date(2026, 11, 16), dt.date(2026, 11, 22))


@pytest.mark.parametrize("tz,hour", [("UTC", 7), ("Europe/Berlin", 6), ("America/New_York", 12)])
def test_send_time_is_local(tz, hour):
    assert edition_for("daily", dt.date(2026, 11, 26), timezone=tz).send_at_utc.hour == hour


@pytest.mark.parametrize("edition,daily_time", [("monthly", "07:00"), ("daily", "7am")])
def test_bad_values_are_clear_errors(edition, daily_time):
    with pytest.raises(BadInput):
        edition_for(edition, dt.date(2026, 11, 26), daily_time=daily_time)
