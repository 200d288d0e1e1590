"""Ingest benchmark: import N synthetic snapshot records with the real importer (exactly as
`paperwire import` runs), on SQLite and PostgreSQL, beside a baseline measured in the same run.

Importer: `python -m paperwire import --no-progress FILE` in a subprocess, into a freshly
migrated database (the migration is not timed). Reported: wall time, records/s, CPU time and
peak RSS of that process (from wait4).

Baseline: the simplest loader of the same file into the same database: read it line by line,
decode each line with the same JSON decoder the importer uses, map the record to a tuple of the
same 25 column values without any normalization, and `executemany` the tuples into a bare table
(same column types, no primary key, no indexes, no constraints) committing every
`import_batch_size` rows, through the plain DB-API driver (sqlite3 / psycopg). Also measured in
its own subprocess.

    flock /tmp/paperwire-bench.lock python bench/ingest.py            # 100k and 1M, both DBs
    python bench/ingest.py --sizes 20000 --backends sqlite --no-docs   # quick check

PostgreSQL runs use the database `pwbench` on the local server (created when missing), one
fresh schema per run, dropped afterwards; never the `test` database the test suite uses.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_SERVER = os.environ.get("PWBENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
PG_DB = "pwbench"
BATCH = 5000
SECTION = "## Ingest"
# docs/benchmarks.md keeps hand-written notes (known limits) after this line inside the section;
# the writer replaces only the part before it (the whole section if the line is missing).
GENERATED_END = "<!-- end of the part bench/ingest.py writes -->"


# --- measurement ----------------------------------------------------------------------------


def measure(cmd: list[str], env: dict | None = None) -> dict:
    """Run cmd; wall time, CPU time (the process and its parser processes, from wait4) and
    peak memory: the largest sum of RSS over the process and its children, sampled every
    50 ms (shared copy-on-write pages count once per process: an overestimate)."""
    import threading

    import psutil

    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        try:
            root = psutil.Process(proc.pid)
            while not done.is_set():
                try:
                    total = root.memory_info().rss + sum(
                        c.memory_info().rss for c in root.children(recursive=True)
                    )
                except psutil.Error:
                    total = 0
                peak[0] = max(peak[0], total)
                done.wait(0.05)
        except psutil.Error:
            pass

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out_r, err_r = proc.stdout, proc.stderr
    stdout_chunks, stderr_chunks = [], []
    readers = [
        threading.Thread(target=lambda: stdout_chunks.append(out_r.read())),
        threading.Thread(target=lambda: stderr_chunks.append(err_r.read())),
    ]
    for t in readers:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    for t in readers:
        t.join()
    sampler.join()
    stdout = b"".join(stdout_chunks).decode()
    stderr = b"".join(stderr_chunks).decode()
    code = os.waitstatus_to_exitcode(status)
    proc.returncode = code
    if code != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({code}):\n{stderr[-3000:]}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": max(peak[0] / 2**20, usage.ru_maxrss / 1024),
        "stdout": stdout.strip(),
    }


# --- databases ------------------------------------------------------------------------------


def pg_admin(sql: str, dbname: str = "postgres") -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/{dbname}", autocommit=True) as conn:
        conn.execute(sql)


def ensure_pg_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DB,)).fetchone():
            conn.execute(f'CREATE DATABASE "{PG_DB}"')


class Target:
    """A fresh, empty database for one run; `url` for Paperwire, `dsn` for the raw driver."""

    def __init__(self, backend: str, name: str, workdir: Path) -> None:
        self.backend = backend
        self.name = name
        if backend == "sqlite":
            self.path = workdir / f"{name}.db"
            self.drop()
            self.url = f"sqlite:///{self.path}"
            self.dsn = str(self.path)
        else:
            self.schema = f"bench_{name}"
            pg_admin(
                f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE; CREATE SCHEMA "{self.schema}"',
                PG_DB,
            )
            self.dsn = f"{PG_SERVER}/{PG_DB}?options=-csearch_path%3D{self.schema}"
            self.url = self.dsn

    def drop(self) -> None:
        if self.backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
        else:
            pg_admin(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE', PG_DB)

    def count(self, table: str) -> int:
        if self.backend == "sqlite":
            import sqlite3

            with sqlite3.connect(self.dsn) as conn:
                return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        import psycopg

        with psycopg.connect(self.dsn) as conn:
            return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


# --- the two contenders ---------------------------------------------------------------------


def run_importer(target: Target, path: Path, workdir: Path) -> dict:
    env = dict(
        os.environ,
        PAPERWIRE_DATABASE_URL=target.url,
        PAPERWIRE_DATA_DIR=str(workdir / "data"),
        PAPERWIRE_LOAD_DEMO_DATA="false",
        PAPERWIRE_LOG_LEVEL="WARNING",
        PAPERWIRE_IMPORT_BATCH_SIZE=str(BATCH),
    )
    subprocess.run(
        [sys.executable, "-m", "paperwire", "migrate"], env=env, check=True, capture_output=True
    )
    return measure([sys.executable, "-m", "paperwire", "import", "--no-progress", str(path)], env)


def run_baseline(target: Target, path: Path) -> dict:
    return measure([sys.executable, __file__, "_baseline", target.backend, target.dsn, str(path)])


BARE_COLUMNS = [
    ("id", "TEXT"),
    ("source", "TEXT"),
    ("version", "INTEGER"),
    ("title", "TEXT"),
    ("abstract", "TEXT"),
    ("authors", "JSON"),
    ("author_count", "INTEGER"),
    ("primary_category", "TEXT"),
    ("categories", "JSON"),
    ("published_at", "TIMESTAMP"),
    ("updated_at", "TIMESTAMP"),
    ("versions", "JSON"),
    ("comments", "TEXT"),
    ("journal_ref", "TEXT"),
    ("doi", "TEXT"),
    ("license", "TEXT"),
    ("abs_url", "TEXT"),
    ("pdf_url", "TEXT"),
    ("content_hash", "TEXT"),
    ("imported_upvotes", "INTEGER"),
    ("upvotes", "INTEGER"),
    ("num_comments", "INTEGER"),
    ("hidden", "BOOLEAN"),
    ("created_at", "TIMESTAMP"),
    ("modified_at", "TIMESTAMP"),
]


def baseline_main(backend: str, dsn: str, path: str) -> None:
    """The bare executemany loader (runs in its own process)."""
    import orjson

    from paperwire.ingest.text import parse_rfc2822

    dumps = lambda v: orjson.dumps(v).decode()  # noqa: E731
    cols = ", ".join(f"{name} {typ}" for name, typ in BARE_COLUMNS)
    marker = "?" if backend == "sqlite" else "%s"
    insert = f"INSERT INTO bare VALUES ({', '.join([marker] * len(BARE_COLUMNS))})"
    if backend == "sqlite":
        import sqlite3

        conn = sqlite3.connect(dsn)
        # The same connection settings as Paperwire's engine (store/db.py).
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
    else:
        import psycopg

        conn = psycopg.connect(dsn)
    conn.execute(f"CREATE TABLE bare ({cols})")
    conn.commit()
    now = dt.datetime.utcnow()
    rows, total = [], 0
    with open(path, "rb") as fh:
        for line in fh:
            o = orjson.loads(line)
            versions = o["versions"]
            cats = o["categories"].split()
            rows.append(
                (
                    o["id"],
                    "arxiv",
                    len(versions),
                    o["title"],
                    o["abstract"],
                    dumps(o["authors_parsed"]),
                    len(o["authors_parsed"]),
                    cats[0],
                    dumps(cats),
                    parse_rfc2822(versions[0]["created"]),
                    parse_rfc2822(versions[-1]["created"]),
                    dumps(versions),
                    o["comments"],
                    o["journal-ref"],
                    o["doi"],
                    o["license"],
                    "https://arxiv.org/abs/" + o["id"],
                    "https://arxiv.org/pdf/" + o["id"],
                    "",
                    0,
                    0,
                    0,
                    False,
                    now,
                    now,
                )
            )
            if len(rows) >= BATCH:
                conn.cursor().executemany(insert, rows)
                conn.commit()
                total += len(rows)
                rows = []
    if rows:
        conn.cursor().executemany(insert, rows)
        conn.commit()
        total += len(rows)
    conn.close()
    print(total)


# --- driver ---------------------------------------------------------------------------------


def synth_file(n: int, workdir: Path) -> Path:
    label = (
        f"{n // 1_000_000}m"
        if n % 1_000_000 == 0
        else (f"{n // 1000}k" if n % 1000 == 0 else str(n))
    )
    shared = Path("/tmp/pwbench") / f"synth_{label}.jsonl"
    if shared.exists():
        return shared
    path = workdir / f"synth_{label}.jsonl"
    if not path.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / "synth.py"), str(n), str(path)], check=True
        )
    return path


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_baseline":
        baseline_main(*argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--workdir", default="/tmp/pwbench/ingest")
    parser.add_argument("--results", default=str(ROOT / "bench" / "results" / "ingest.json"))
    parser.add_argument("--no-docs", action="store_true", help="Do not rewrite docs.")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    backends = args.backends.split(",")
    if "postgresql" in backends:
        ensure_pg_database()
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        path = synth_file(n, workdir)
        for backend in backends:
            row = {"n": n, "backend": backend, "file_mb": path.stat().st_size / 2**20}
            for kind, runner in (
                ("baseline", lambda t, path=path: run_baseline(t, path)),
                ("importer", lambda t, path=path: run_importer(t, path, workdir)),
            ):
                target = Target(backend, f"{kind}_{n}", workdir)
                try:
                    m = runner(target)
                    stored = target.count("bare" if kind == "baseline" else "papers")
                finally:
                    target.drop()
                if stored != n:
                    raise SystemExit(f"{kind} on {backend} stored {stored} of {n} rows")
                m["rate"] = n / m["wall_s"]
                m["cpu_rate"] = n / m["cpu_s"]
                row[kind] = m
                print(
                    f"{backend:10} n={n:>8} {kind:8} {m['wall_s']:7.1f}s "
                    f"{m['rate']:8.0f} rec/s  cpu {m['cpu_s']:6.1f}s  "
                    f"peak RSS {m['peak_rss_mb']:6.0f} MB  {m['stdout'][-80:]}",
                    flush=True,
                )
            row["ratio"] = row["importer"]["rate"] / row["baseline"]["rate"]
            print(f"{backend:10} n={n:>8} importer/baseline = {row['ratio']:.0%}", flush=True)
            results.append(row)
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg(),
        "batch": BATCH,
        "python": sys.version.split()[0],
    }
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    Path(args.results).write_text(json.dumps({"meta": meta, "results": results}, indent=2))
    if not args.no_docs:
        write_docs(meta, results)
    shutil.rmtree(workdir / "data", ignore_errors=True)


def write_docs(meta: dict, results: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img = ROOT / "docs" / "img" / "ingest.png"
    img.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    labels, base, imp = [], [], []
    for r in results:
        labels.append(f"{r['backend']}\n{r['n'] // 1000}k")
        base.append(r["baseline"]["rate"])
        imp.append(r["importer"]["rate"])
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], base, 0.4, label="baseline: bare executemany")
    ax.bar([x + 0.2 for x in xs], imp, 0.4, label="paperwire import")
    for x, r in zip(xs, results):
        ax.text(
            x + 0.2,
            r["importer"]["rate"],
            f"{r['ratio']:.0%}",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_xticks(list(xs), labels)
    ax.set_ylabel("records / s (wall)")
    ax.set_title("Snapshot import throughput (higher is better)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(img, dpi=110)

    lines = [
        SECTION,
        "",
        "Measured by `bench/ingest.py` (synthetic arXiv-snapshot files from "
        "`bench/synth.py`: 150-250-word Zipf abstracts, 1-20 authors, 1-3 versions). "
        f"Run {meta['date']} on {meta['cpus']} cores (load average before the run "
        f"{meta['load_before'][0]:.1f}; other work may share the machine), batch "
        f"{meta['batch']} records per transaction.",
        "",
        "- **importer**: `paperwire import --no-progress FILE` in its own process "
        "(parse, normalize, hash, upsert with existence check, primary key + 3 indexes, "
        "resume checkpoint per batch). On PostgreSQL new rows go in by `COPY` (rows "
        "encoded to COPY text by the parser processes) and batches commit with "
        "`synchronous_commit = off` (a server crash can lose the last batches together "
        "with their resume point, which a rerun redoes; the final commit flushes all); "
        "SQLite uses `executemany` with WAL and synchronous=NORMAL.",
        "- **baseline**: same file, same JSON decoder, each record mapped to the same 25 "
        "column values without normalization, plain DB-API `executemany` into a bare "
        "table (no key, no index), commit per batch, default commit durability; own "
        "process. It is deliberately not given COPY: it stands for the plain way of "
        "loading the rows, and the target is relative to it.",
        "- **peak RSS**: largest sum of RSS over the importing process and its parser "
        "processes (shared pages counted per process), sampled every 50 ms.",
        "",
        "| DB | records | baseline rec/s | importer rec/s | importer/baseline | "
        "importer wall | importer CPU | importer peak RSS |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        b, i = r["baseline"], r["importer"]
        lines.append(
            f"| {r['backend']} | {r['n']:,} | {b['rate']:,.0f} | {i['rate']:,.0f} | "
            f"{r['ratio']:.0%} | {i['wall_s']:.0f} s | {i['cpu_s']:.0f} s | "
            f"{i['peak_rss_mb']:.0f} MB |"
        )
    big = [r for r in results if r["n"] >= 1_000_000]
    lines += [
        "",
        "Targets: 1M records in under 5 minutes, peak memory under 1 GB, at least "
        "50% of the baseline's rate.",
    ]
    for r in big:
        i = r["importer"]
        ok = i["wall_s"] < 300 and i["peak_rss_mb"] < 1024 and r["ratio"] >= 0.5
        lines.append(
            f"- {r['backend']}: {i['wall_s']:.0f} s, {i['peak_rss_mb']:.0f} MB, "
            f"{r['ratio']:.0%} of baseline: {'met' if ok else 'NOT met'}."
        )
    lines += [
        "",
        "Notes: the machine is shared; the load average above shows how busy it was, "
        "and runs minutes apart differ by up to 2x in either column (compare the "
        "PostgreSQL baseline at 100k and 1M). On PostgreSQL the server's own work "
        "(JSON validation, 4 indexes — kept during the load so the database stays usable "
        "and a killed import needs no repair — WAL) runs on the same 2 cores as the importer's "
        "writer and its 2 parser processes, which the single-process baseline does not "
        "compete with.",
        "",
        "![ingest throughput](img/ingest.png)",
        "",
        "",
    ]
    section = "\n".join(lines)
    doc = ROOT / "docs" / "benchmarks.md"
    text = doc.read_text() if doc.exists() else "# Benchmarks\n"
    if SECTION in text:
        start = text.index(SECTION)
        nxt = text.find("\n## ", start + len(SECTION))
        end = text.find(GENERATED_END, start)
        if end >= 0 and (nxt == -1 or end < nxt):
            text = text[:start] + section + text[end:]
        else:
            text = text[:start] + section + (text[nxt + 1 :] if nxt != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    doc.write_text(text)


if __name__ == "__main__":
    main()
