"""Build the shared benchmark data other areas use (/tmp/pwbench):

- synth_1m.jsonl: 1M synthetic papers in the arXiv snapshot format (bench/synth.py)
- papers_1m.db:   those papers imported with the real importer (as `paperwire import` does),
                  plus N feed entries over the last D days with random upvotes, added through
                  the real Daily Papers importer (a generated Daily Papers API JSON file).

    flock /tmp/paperwire-bench.lock python bench/shared_data.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

HERE = Path(__file__).resolve().parent


def daily_papers_file(db, out: Path, n: int, days: int, seed: int = 7) -> None:
    """A Daily Papers API JSON list putting n random stored papers on the last `days` days."""
    from paperwire.store.models import Paper

    rng = random.Random(seed)
    with db.session() as session:
        ids = list(session.scalars(select(Paper.id).order_by(Paper.id)))
        chosen = sorted(rng.sample(ids, min(n, len(ids))))
        rows = {}
        for start in range(0, len(chosen), 900):
            for pid, title, abstract in session.execute(
                select(Paper.id, Paper.title, Paper.abstract).where(
                    Paper.id.in_(chosen[start : start + 900])
                )
            ):
                rows[pid] = (title, abstract)
    today = dt.datetime.now(dt.UTC).replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    items = []
    for pid in chosen:
        title, abstract = rows[pid]
        day = today - dt.timedelta(days=rng.randrange(days))
        at = day + dt.timedelta(seconds=rng.randrange(86400))
        upvotes = min(500, int(rng.paretovariate(1.2)) - 1)
        items.append(
            {
                "paper": {
                    "id": pid,
                    "title": title,
                    "summary": abstract,
                    "authors": [],
                    "publishedAt": at.isoformat() + "Z",
                    "upvotes": upvotes,
                },
                "submittedOnDailyAt": at.isoformat() + "Z",
                "submittedBy": {
                    "name": f"user{rng.randrange(500)}",
                    "fullname": f"Bench User {rng.randrange(500)}",
                },
                "numComments": 0,
            }
        )
    out.write_text(json.dumps(items))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default="/tmp/pwbench")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--feed", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=60)
    args = parser.parse_args(argv)
    base = Path(args.dir)
    base.mkdir(parents=True, exist_ok=True)
    synth = base / "synth_1m.jsonl"
    if not synth.exists():
        subprocess.run(
            [sys.executable, str(HERE / "synth.py"), str(args.n), str(synth)], check=True
        )
    db_path = base / "papers_1m.db"
    partial = base / "papers_1m.db.partial"
    for p in (partial, Path(str(partial) + "-wal"), Path(str(partial) + "-shm")):
        p.unlink(missing_ok=True)
    env_url = f"sqlite:///{partial}"
    from paperwire.config import load_settings
    from paperwire.ingest.importer import import_file
    from paperwire.store.db import open_database

    settings = load_settings(
        env={}, data_dir=base / "data", database_url=env_url, load_demo_data=False
    )
    db = open_database(settings)
    t0 = time.time()
    summary = import_file(settings, db, synth, progress=True)
    print(f"papers: {summary.line()} in {time.time() - t0:.0f}s", flush=True)
    feed_file = base / "daily_papers_10k.json"
    daily_papers_file(db, feed_file, args.feed, args.days)
    summary = import_file(settings, db, feed_file, progress=False)
    print(f"feed: {summary.line()}", flush=True)
    with db.engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    partial.rename(db_path)
    for suffix in ("-wal", "-shm"):
        Path(str(partial) + suffix).unlink(missing_ok=True)
    (base / "READY").write_text(
        f"{synth}: {args.n} synthetic papers, arXiv snapshot format (bench/synth.py, seed 42)\n"
        f"{db_path}: SQLite, migrated Paperwire schema, those {args.n} papers imported with "
        f"the real importer + {args.feed} feed entries over the last {args.days} days "
        f"(ending {dt.date.today()}) with random upvotes (Pareto, 0..500), imported from "
        f"{feed_file} (Daily Papers API format)\n"
    )
    print((base / "READY").read_text())


if __name__ == "__main__":
    main()
