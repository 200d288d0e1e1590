"""What a run of ``send_edition`` or ``dry_run_edition`` reports: its counts
(``RunSummary``) and the progress bar on stderr."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm


@dataclass
class RunSummary:
    edition: str
    period: str
    planned: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retry_later: int = 0
    paused: int = 0
    resent: int = 0  # taken over from a dead sender: each may be a duplicate
    candidates: int = 0
    elapsed: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.retry_later == 0

    def line(self) -> str:
        rate = self.sent / self.elapsed if self.elapsed > 0 else 0.0
        return (
            f"{self.edition} {self.period}: {self.sent} sent, {self.skipped} skipped "
            f"(nothing new or unsubscribed), {self.failed} failed permanently, "
            f"{self.retry_later} left for retry, {self.paused} subscriptions paused, "
            f"{self.resent} resent after an interrupted run (possible duplicates); "
            f"{self.candidates} papers in the period; {self.elapsed:.1f}s "
            f"({rate:.0f} messages/s)"
        )


def progress_bar(total: int, enabled: bool, desc: str) -> Any:
    return tqdm(
        total=total, disable=not enabled, unit="msg", desc=desc, file=sys.stderr, dynamic_ncols=True
    )
