"""Moved to ``paperwire.services.submissions`` (issue 15: a service, not a web module).

This alias remains only because web/routes/actions.py imports from here; once that module
imports ``paperwire.services.submissions`` directly, delete this file."""

from paperwire.services.submissions import (  # noqa: F401
    UNREACHABLE, ArxivUnavailable, Duplicate, HiddenPaper, InvalidId, QuotaExceeded,
    Submitted, SubmitRefused, TooOld, UnknownPaper, local_day_bounds, submit_paper, used_today,
)
