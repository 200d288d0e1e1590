"""`paperwire export`: every paper as one JSON line (see ``export_format``), in id order."""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from tqdm import tqdm

from paperwire.ingest.export_format import dump_line
from paperwire.ingest.items import FeedInfo
from paperwire.store.papers import count_papers, iter_export_rows, paper_to_record


@contextmanager
def _output(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdout
        sys.stdout.flush()
        return
    tmp = path + ".partial"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(tmp, "wt", encoding="utf-8", newline="\n") as fh:  # type: ignore[operator]
        yield fh
    # Only a complete export takes the final name.
    import os

    os.replace(tmp, path)


def export_papers(db, path: str = "-", *, progress: bool = False) -> int:
    """Write all papers to ``path`` ('-' for stdout); returns how many were written."""
    count = 0
    with db.session() as session, _output(path) as out:
        bar = tqdm(
            total=count_papers(session),
            unit="paper",
            file=sys.stderr,
            disable=not progress,
            desc="export",
        )
        for batch in iter_export_rows(session):
            for paper, day, name, submitted_at in batch:
                feed = None if day is None else FeedInfo(day, name, submitted_at)
                out.write(dump_line(paper_to_record(paper), feed))
            count += len(batch)
            bar.update(len(batch))
        bar.close()
    return count
