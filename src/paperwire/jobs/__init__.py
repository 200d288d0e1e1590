"""Scheduled and queued work: ``paperwire worker`` (huey on SQLite or Redis), the schedule,
the job definitions and their ledger (``store/jobs.py``)."""
