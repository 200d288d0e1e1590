"""Helpers shared by the ingestion tests."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

from sqlalchemy import select

from paperwire.store.models import Checkpoint, FeedEntry, Paper

# Wall-clock columns: they say when this database saw a row, so two databases built at
# different moments differ there and only there.
WALL_CLOCK = {"created_at", "modified_at", "updated_at_checkpoint"}


def dump_tables(db) -> dict[str, list[tuple]]:
    """Every row of papers, feed_entries and checkpoints as plain tuples, in a fixed order,
    without the wall-clock columns."""
    out = {}
    with db.session() as session:
        cols = [c for c in Paper.__table__.columns if c.name not in WALL_CLOCK]
        out["papers"] = [tuple(row) for row in session.execute(select(*cols).order_by(Paper.id))]
        out["feed_entries"] = [
            tuple(row)
            for row in session.execute(
                select(
                    FeedEntry.paper_id,
                    FeedEntry.day,
                    FeedEntry.submitted_by,
                    FeedEntry.submitted_by_name,
                    FeedEntry.submitted_at,
                ).order_by(FeedEntry.paper_id)
            )
        ]
        out["checkpoints"] = [
            tuple(row)
            for row in session.execute(
                select(Checkpoint.name, Checkpoint.value).order_by(Checkpoint.name)
            )
        ]
    return out


def write_snapshot(path: Path, n: int, seed: int = 1, *, start: int = 1) -> list[str]:
    """n records in the arXiv snapshot format; returns their ids."""
    rng = random.Random(seed)
    ids = []
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            pid = f"2301.{i:05d}"
            ids.append(pid)
            created = dt.datetime(2023, 1, 1) + dt.timedelta(minutes=i)
            n_versions = rng.randint(1, 3)
            versions = [
                {
                    "version": f"v{v}",
                    "created": (created + dt.timedelta(days=30 * (v - 1))).strftime(
                        "%a, %-d %b %Y %H:%M:%S GMT"
                    ),
                }
                for v in range(1, n_versions + 1)
            ]
            fh.write(
                json.dumps(
                    {
                        "id": pid,
                        "title": f"Paper {i} on sparse  graphs\n and $\\alpha$",
                        "abstract": "  We study "
                        + " ".join(
                            rng.choice(["graph", "sparse", "kernel", "protein"]) for _ in range(40)
                        )
                        + ".\n",
                        "authors": "A. One and B. Two",
                        "categories": "cs.LG stat.ML",
                        "comments": None,
                        "journal-ref": None,
                        "doi": None,
                        "license": None,
                        "versions": versions,
                        "update_date": "2023-05-01",
                        "authors_parsed": [["One", "A.", "", "Uni A"], ["Two", "B.", ""]],
                    }
                )
                + "\n"
            )
    return ids
