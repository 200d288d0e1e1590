"""Real arXiv records for the recommender's tests: 280 records of the 2025-2026 sample
(tests/fixtures/arxiv/real/recommend-sample.jsonl): 40 each whose primary category is
physics.ao-ph, cs.CR or cs.IR, and 160 others (none in those three)."""

from __future__ import annotations

import json
from pathlib import Path

from paperwire.recommend.features import PaperText

SAMPLE = (
    Path(__file__).resolve().parents[1] / "fixtures" / "arxiv" / "real" / "recommend-sample.jsonl"
)
INTERESTS = ("physics.ao-ph", "cs.CR", "cs.IR")


def sample_records() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text().splitlines() if line.strip()]


def paper_text(r: dict) -> PaperText:
    return PaperText(
        r["id"],
        r["title"],
        r["abstract"],
        tuple(r["categories"].split()),
        tuple(a.strip() for a in r["authors"].split(",") if a.strip()),
    )


def primary(r: dict) -> str:
    return r["categories"].split()[0]
