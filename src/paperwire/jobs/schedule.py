"""When jobs are due: a pure function of the time and the settings.

Every minute the worker asks ``due(now)`` and enqueues what it returns; the job ledger
(unique name + key) makes a job that already ran, or that another worker took, a no-op. Keys
name the unit of work, so a worker that was down at 07:00 still sends the day's digest when
it comes back (until the end of that day), and never twice.

- harvest: daily at ``harvest_time``; key = local date.
- digest: daily edition on weekdays at ``digest_daily_time``, weekly on Mondays at
  ``digest_weekly_time``; key = ``daily:YYYY-MM-DD`` / ``weekly:YYYY-MM-DD`` (the Monday).
- embed: every ``embed_interval_minutes``; key = the slot's start.
- notify-mail: every ``notify_mail_interval_minutes``; key = the slot's start.
- cleanup: hourly; key = the hour.
- recommend: daily at ``recommend_time`` (after the harvest and the embedding of its papers);
  key = local date.
- library-imports: every ``library_import_interval_minutes``; key = the slot's start.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from paperwire.config import Settings
from paperwire.digest.edition import parse_hhmm


def due(now_utc: dt.datetime, settings: Settings) -> list[tuple[str, str]]:
    if now_utc.tzinfo is None:
        now_utc = now_utc.replace(tzinfo=dt.UTC)
    local = now_utc.astimezone(ZoneInfo(settings.timezone))
    today = local.date()
    hm = local.time().replace(second=0, microsecond=0)
    jobs: list[tuple[str, str]] = []
    if hm >= parse_hhmm(settings.harvest_time, "HARVEST_TIME"):
        jobs.append(("harvest", today.isoformat()))
    if today.weekday() < 5 and hm >= parse_hhmm(settings.digest_daily_time, "DIGEST_DAILY_TIME"):
        jobs.append(("digest", f"daily:{today.isoformat()}"))
    if today.weekday() == 0 and hm >= parse_hhmm(settings.digest_weekly_time, "DIGEST_WEEKLY_TIME"):
        jobs.append(("digest", f"weekly:{today.isoformat()}"))
    if hm >= parse_hhmm(settings.recommend_time, "RECOMMEND_TIME"):
        jobs.append(("recommend", today.isoformat()))
    every = max(1, settings.embed_interval_minutes)
    minute_of_day = local.hour * 60 + local.minute
    slot = minute_of_day - minute_of_day % every
    jobs.append(("embed", f"{today.isoformat()}T{slot // 60:02d}:{slot % 60:02d}"))
    every = max(1, settings.notify_mail_interval_minutes)
    slot = minute_of_day - minute_of_day % every
    jobs.append(("notify-mail", f"{today.isoformat()}T{slot // 60:02d}:{slot % 60:02d}"))
    jobs.append(("cleanup", f"{today.isoformat()}T{local.hour:02d}"))
    every = max(1, settings.library_import_interval_minutes)
    slot = minute_of_day - minute_of_day % every
    jobs.append(("library-imports", f"{today.isoformat()}T{slot // 60:02d}:{slot % 60:02d}"))
    enabled = {j.strip() for j in settings.scheduled_jobs.split(",") if j.strip()}
    return [(name, key) for name, key in jobs if name in enabled]
