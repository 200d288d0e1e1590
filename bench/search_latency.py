"""Search latency at 1M papers: lexical and hybrid `SearchService.search` beside SQLite FTS5.

    flock /tmp/paperwire-bench.lock python bench/search_latency.py \
        [--db /tmp/pwbench/papers_1m.db] [--work /tmp/pwsearch/bench1m] [--out docs/img]
    python bench/search_latency.py --real ../shared/data/arxiv/real/arxiv-2025-2026.sample.jsonl.gz \
        --work /tmp/pwsearch/real [--synthetic]

- Corpus: the 1M synthetic papers the ingest benchmark writes (bench/synth.py, imported into a
  migrated SQLite DB at /tmp/pwbench/papers_1m.db). It is only read. With ``--real FILE``: the
  real arXiv records of FILE (snapshot format, e.g. the 82,997 records of
  ``arxiv-2025-2026.sample.jsonl.gz``) imported with the real importer into WORK/real.db
  (``--real-limit N``: the first N only), and a "title" query kind drawn from their titles.
- Lexical: the real tantivy index under WORK/index/lexical, built here from that DB (build
  time and size reported).
- Semantic side of hybrid: the real ``SemanticIndex`` that bench/semantic_memory.py builds
  from 1M synthetic embeddings it stores in that DB (when present); otherwise 1M synthetic
  384-d vectors (2,000 Gaussian clusters, seed 7) in a usearch HNSW index with the same
  parameters as ``paperwire.search.semantic.HNSW``. Either way the query is embedded by the
  real encoder, so hybrid latency includes query embedding.
- Baseline: SQLite FTS5 (porter + unicode61, title/abstract/authors, ``bm25()`` with title
  weight 2) over the same papers, ``ORDER BY bm25 LIMIT 20`` for the same queries.
- One client, sequential queries, 20 results per page, full page build (rows, snippets),
  sorted by relevance and by newest. Every response's total is recorded with whether it is
  exact or labelled an estimate (``total_is_estimate``); FTS5 answers the same two orders
  and counts its matches (``count(*)``) so both sides report a total.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DIM = 384
N_CLUSTERS = 2000


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def pct(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


# ------------------------------------------------------------------------------------------
class SyntheticSemantic:
    """The SemanticIndex interface SearchService uses, over synthetic vectors."""

    def __init__(self, index, ids):
        self.index = index
        self.ids = ids
        self.pos = {pid: i for i, pid in enumerate(ids)}

    def search(self, query_vec, k, *, candidate_ids=None, exclude=()):
        q = np.asarray(query_vec, dtype=np.float32)
        if candidate_ids is not None:
            cands = [self.pos[p] for p in candidate_ids if p in self.pos]
            if not cands:
                return []
            # usearch's get() of several keys returns one vector per key (a tuple).
            vecs = np.vstack(
                self.index.get(np.array(cands, dtype=np.uint64), dtype=np.float32)
            ).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9
            sims = vecs @ q
            order = np.argsort(-sims)[:k]
            return [(self.ids[cands[i]], float(sims[i])) for i in order]
        m = self.index.search(q, k)
        return [(self.ids[int(key)], 1.0 - float(d)) for key, d in zip(m.keys, m.distances)]

    def refresh(self):
        return 0

    def version(self):
        return (0, 0)  # built once, never changes

    def close(self):
        pass


def build_vectors(n: int, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((N_CLUSTERS, DIM)).astype(np.float32)
    out = np.empty((n, DIM), dtype=np.float32)
    step = 100_000
    for s in range(0, n, step):
        e = min(n, s + step)
        labels = rng.integers(0, N_CLUSTERS, e - s)
        v = centers[labels] + 0.8 * rng.standard_normal((e - s, DIM)).astype(np.float32)
        out[s:e] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def semantic_side(work: Path, ids: list[str]):
    from usearch.index import Index

    from paperwire.search.semantic import HNSW  # before usearch (see search/semantic.py)

    path = work / "synthetic.usearch"
    t0 = time.perf_counter()
    if path.exists():
        index = Index.restore(str(path), view=True)
        built = None
    else:
        vecs = build_vectors(len(ids))
        index = Index(ndim=DIM, metric="cos", dtype="i8", **HNSW)
        log(f"building HNSW over {len(ids)} synthetic vectors ...")
        index.add(np.arange(len(ids), dtype=np.uint64), vecs, threads=0, log=True)
        index.save(str(path))
        built = time.perf_counter() - t0
        del vecs
        index = Index.restore(str(path), view=True)
    return SyntheticSemantic(index, ids), built, path.stat().st_size


# ------------------------------------------------------------------------------------------
def build_fts(db_path: Path, fts_path: Path) -> tuple[float | None, int]:
    if fts_path.exists():
        return None, fts_path.stat().st_size
    t0 = time.perf_counter()
    con = sqlite3.connect(fts_path)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute(f"ATTACH DATABASE 'file:{db_path}?mode=ro' AS src")
    con.execute(
        "CREATE VIRTUAL TABLE fts USING fts5(title, abstract, authors, tokenize='porter unicode61')"
    )
    log("building FTS5 baseline ...")
    con.execute(
        "INSERT INTO fts(rowid, title, abstract, authors) "
        "SELECT rowid, title, abstract, authors FROM src.papers WHERE hidden = 0"
    )
    con.commit()
    con.execute("INSERT INTO fts(fts) VALUES('optimize')")
    con.commit()
    con.close()
    return time.perf_counter() - t0, fts_path.stat().st_size


# ------------------------------------------------------------------------------------------
def make_queries(db_path: Path, n_each: int, seed: int = 3, *, titles: bool = False) -> list[dict]:
    """Deterministic query mix drawn from the corpus itself (``titles``: plus a "title" kind,
    3-5 consecutive words of a real title, as a reader would paste them)."""
    rng = random.Random(seed)
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    n_papers = con.execute("SELECT count(*) FROM papers").fetchone()[0]
    step = max(1, min(97, n_papers // 200))  # ~10,000 sampled papers at 1M, all when tiny
    sample = con.execute(
        "SELECT title, abstract, categories, authors FROM papers "
        f"WHERE rowid % {step} = 0 LIMIT 10000"
    ).fetchall()
    con.close()
    counts = Counter()
    bigrams = Counter()
    stop = set(
        "the of and in to a we for is that with on by this are an as from be which "
        "our it at can these also".split()
    )
    for title, abstract, *_ in sample:
        words = re.findall(r"[a-z][a-z0-9]+", f"{title} {abstract}".lower())
        counts.update(set(words))
        bigrams.update(zip(words, words[1:]))
    # Sorted by (count, word): the counters are filled from sets, whose order changes from
    # process to process (string hashing), and the query set must not.
    by_count = sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))
    common = [w for w, _ in by_count[:120] if w not in stop and len(w) > 3][:60]
    rare = sorted(w for w, c in counts.items() if 2 <= c <= 3 and len(w) > 5)
    phrases = [
        f'"{a} {b}"' for (a, b), c in bigrams.most_common(20000) if a not in stop and b not in stop
    ][:80]
    cats = sorted({c for _, _, cj, _ in sample for c in json.loads(cj)})
    names = sorted(
        {
            a["name"].split()[-1]
            for *_, aj in sample
            for a in json.loads(aj or "[]")
            if a.get("name")
        }
    )
    prefixes = sorted({w[:4] for w in common if len(w) > 6} | {"seq", "spec", "quant"})
    qs: list[dict] = []
    for w in rng.sample(common, min(n_each, len(common))):
        qs.append({"kind": "common", "q": w, "fts": w})
    for w in rng.sample(common, min(n_each // 2, len(common))):
        w2 = rng.choice(common)
        qs.append({"kind": "common", "q": f"{w} {w2}", "fts": f"{w} OR {w2}"})
    for w in rng.sample(rare, min(n_each, len(rare))):
        qs.append({"kind": "rare", "q": w, "fts": w})
    for p in rng.sample(phrases, min(n_each, len(phrases))):
        qs.append({"kind": "phrase", "q": p, "fts": p})
    for p in prefixes[:n_each]:
        qs.append({"kind": "prefix", "q": p, "fts": f"{p}*"})
    for _ in range(n_each):
        w = rng.choice(common)
        choice = rng.random()
        if choice < 0.4 or not names:
            c = rng.choice(cats)
            qs.append(
                {
                    "kind": "filter",
                    "q": f"{w} cat:{c}",
                    "fts": w,
                    "sql": ("categories LIKE ?", f'%"{c}"%'),
                }
            )
        elif choice < 0.7:
            y = rng.randint(2012, 2024)
            qs.append(
                {
                    "kind": "filter",
                    "q": f"{w} after:{y}",
                    "fts": w,
                    "sql": ("published_at >= ?", f"{y}-01-01"),
                }
            )
        else:
            a = rng.choice(names)
            fts_a = re.sub(r"[^\w]", "", a) or w
            qs.append(
                {"kind": "filter", "q": f"{w} author:{a}", "fts": f'{w} AND authors:"{fts_a}"'}
            )
    if titles:
        for title, *_ in rng.sample(sample, min(n_each, len(sample))):
            words = re.findall(r"[A-Za-z][A-Za-z0-9]+", title)
            if len(words) < 3:
                continue
            start = rng.randrange(max(1, len(words) - 4))
            chosen = words[start : start + rng.randint(3, 5)]
            # Plain words: the search page ranks papers matching any of them; FTS5 likewise.
            qs.append(
                {
                    "kind": "title",
                    "q": " ".join(chosen),
                    "fts": " OR ".join(f'"{w}"' for w in chosen),
                }
            )
    return qs


def fts_query(con, q: dict, order: str = "relevance") -> tuple[list, int]:
    """The first page (20) in relevance (bm25) or newest order, and the exact match count."""
    where, params = "fts MATCH ?", [q["fts"]]
    if "sql" in q:
        cond, val = q["sql"]
        where += f" AND p.{cond}"
        params.append(val)
    by = "bm25(fts, 2.0, 1.0, 1.0)" if order == "relevance" else "p.published_at DESC"
    rows = con.execute(
        "SELECT fts.rowid FROM fts JOIN src.papers p ON p.rowid = fts.rowid "
        f"WHERE {where} ORDER BY {by} LIMIT 20",
        params,
    ).fetchall()
    total = con.execute(
        f"SELECT count(*) FROM fts JOIN src.papers p ON p.rowid = fts.rowid WHERE {where}", params
    ).fetchone()[0]
    return rows, total


def prepare_real(source: Path, work: Path, limit: int | None) -> Path:
    """Import the real records of ``source`` (first ``limit``) with the real importer into
    WORK/real.db, once (a stamp names the source and limit)."""
    import gzip

    from paperwire.config import load_settings
    from paperwire.ingest.importer import import_file
    from paperwire.store.db import open_database

    db_path = work / "real.db"
    stamp = work / "real.stamp.json"
    want = {"source": str(source.resolve()), "size": source.stat().st_size, "limit": limit}
    if db_path.exists() and stamp.exists() and json.loads(stamp.read_text()) == want:
        return db_path
    for suffix in ("", "-wal", "-shm"):
        Path(str(db_path) + suffix).unlink(missing_ok=True)
    src = source
    if limit:
        src = work / "real_subset.jsonl"
        opener = gzip.open if source.suffix == ".gz" else open
        with opener(source, "rt", encoding="utf-8") as fh, open(src, "w", encoding="utf-8") as out:
            for n, line in enumerate(fh):
                if n >= limit:
                    break
                out.write(line)
    settings = load_settings(
        env={}, data_dir=work / "import", database_url=f"sqlite:///{db_path}", load_demo_data=False
    )
    db = open_database(settings)
    t0 = time.perf_counter()
    summary = import_file(settings, db, src, "kaggle", progress=True)
    log(f"real records: {summary.line()} in {time.perf_counter() - t0:.0f}s")
    with db.engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    stamp.write_text(json.dumps(want))
    return db_path


def preload(paths: list[Path]) -> int:
    """Read every file under ``paths`` once (into the page cache); returns the bytes read."""
    total = 0
    for root in paths:
        files = [root] if root.is_file() else sorted(f for f in root.rglob("*") if f.is_file())
        for f in files:
            with open(f, "rb") as fh:
                while chunk := fh.read(1 << 24):
                    total += len(chunk)
    return total


# ------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="/tmp/pwbench/papers_1m.db")
    ap.add_argument("--work", default="/tmp/pwsearch/bench1m")
    ap.add_argument(
        "--out", default=str(ROOT / "docs" / "img"), help="directory of the plot ('' for no plot)"
    )
    ap.add_argument(
        "--json-out",
        default=None,
        help="default: bench/results/search_latency.json (search_latency_real.json with --real)",
    )
    ap.add_argument("--per-kind", type=int, default=40)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument(
        "--real",
        default=None,
        metavar="FILE",
        help="real arXiv records (snapshot format, .jsonl or .jsonl.gz) instead of "
        "--db: imported into WORK/real.db with the real importer",
    )
    ap.add_argument(
        "--real-limit", type=int, default=None, help="with --real: import only the first N records"
    )
    ap.add_argument(
        "--synthetic",
        action="store_true",
        help="without the real 1M semantic index, build a usearch one here",
    )
    ap.add_argument(
        "--prepare-only",
        action="store_true",
        help="build the indexes (lexical, FTS5) and stop; measure in a later run",
    )
    ap.add_argument(
        "--cold",
        action="store_true",
        help="do not read the database and index files into the page cache before timing",
    )
    ap.add_argument(
        "--semantic-dir",
        default="/tmp/pwbench/semantic_data/index/semantic",
        help="the 1M semantic index bench/semantic_memory.py builds (synthetic "
        "vectors stored in the DB's embeddings table); used when present",
    )
    args = ap.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    db_path = prepare_real(Path(args.real), work, args.real_limit) if args.real else Path(args.db)
    json_out = Path(
        args.json_out
        or ROOT
        / "bench"
        / "results"
        / ("search_latency_real.json" if args.real else "search_latency.json")
    )

    from paperwire.config import load_settings
    from paperwire.search import service as service_mod
    from paperwire.search.embed import get_encoder
    from paperwire.search.lexical import LexicalIndex
    from paperwire.store.db import Database

    settings = load_settings(
        env={}, data_dir=work, database_url=f"sqlite:///{db_path}", load_demo_data=False
    )
    db = Database(settings.database_url)
    results: dict = {
        "papers": None,
        "corpus": (
            f"real arXiv records from {args.real}"
            if args.real
            else f"synthetic papers in {db_path}"
        ),
    }

    lex = LexicalIndex(settings, db)
    if args.rebuild or not (lex.root / "CURRENT").exists():
        t0 = time.perf_counter()
        n = lex.rebuild(progress=True)
        results["lexical_build_seconds"] = round(time.perf_counter() - t0, 1)
        results["papers"] = n
    lex.ensure_open()
    # As a serving process's refresher does every few seconds: fold what changed since the
    # build and move the watermark past the overlap window. Without it, an index built right
    # after the import keeps every paper of the last two minutes in that window, and each
    # search would count them (store.search.count_modified_between) - a cost no server pays
    # once its refresher has run.
    lex.refresh(block=True)
    gen = (lex.root / "CURRENT").read_text().strip()
    results["lexical_index_bytes"] = dir_size(lex.root / gen)
    results["papers"] = results["papers"] or lex.doc_count()
    lex.close()
    log(f"lexical index: {results['papers']} papers, {results['lexical_index_bytes'] / 1e6:.0f} MB")

    fts_build, fts_bytes = build_fts(db_path, work / "fts.db")
    results["fts5_build_seconds"] = round(fts_build, 1) if fts_build else None
    results["fts5_bytes"] = fts_bytes
    if args.prepare_only:
        print(json.dumps(results, indent=2))
        return

    real_sem = Path(args.semantic_dir)
    sem = None
    if (real_sem / "manifest.json").exists() and not args.real:
        # The real SemanticIndex over the synthetic embeddings bench/semantic_memory.py wrote.
        link = work / "index" / "semantic"
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(real_sem.resolve())
        results["semantic_index"] = f"real SemanticIndex at {real_sem} (synthetic vectors)"
    elif not args.synthetic:
        results["semantic_index"] = None
        log(f"no semantic index at {real_sem}: hybrid not measured (pass --synthetic)")
    else:
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        ids = [r[0] for r in con.execute("SELECT id FROM papers WHERE hidden = 0 ORDER BY rowid")]
        con.close()
        sem, sem_build, sem_bytes = semantic_side(work, ids)
        results["semantic_index"] = "usearch over synthetic vectors built here"
        results["synthetic_semantic_build_seconds"] = round(sem_build, 1) if sem_build else None
        results["synthetic_semantic_index_bytes"] = sem_bytes

    queries = make_queries(db_path, args.per_kind, titles=bool(args.real))
    log(f"{len(queries)} queries: {Counter(q['kind'] for q in queries)}")

    # The synthetic vector index (when built here) is handed to the service with the real
    # query encoder; otherwise the service opens the real one itself.
    svc = service_mod.SearchService(
        settings,
        db,
        background=False,
        semantic=sem,
        encoder=get_encoder(settings) if sem is not None else None,
    )
    hybrid = results["semantic_index"] is not None
    if sem is None and hybrid and svc.semantic() is None:
        raise SystemExit("semantic side unavailable (see the log above)")
    modes = ("lexical", "hybrid") if hybrid else ("lexical",)
    sorts = ("relevance", "newest")

    fts = sqlite3.connect(work / "fts.db")
    fts.execute(f"ATTACH DATABASE 'file:{db_path}?mode=ro' AS src")

    # Steady state of a server that has been answering for a while: the database, the indexes
    # and the FTS5 table are in the page cache (they fit in memory at 1M here), so the first
    # mode timed for a query does not pay disk reads the later ones do not. Read each file
    # once; the queries themselves stay unseen.
    if not args.cold:
        started = time.perf_counter()
        sem_files = [Path(args.semantic_dir)] if results["semantic_index"] else []
        read = preload([db_path, work, *[d for d in sem_files if d.exists()]])
        results["preloaded_bytes"] = read
        log(f"page cache: read {read / 1e9:.1f} GB in {time.perf_counter() - started:.0f} s")
    results["page_cache"] = "cold" if args.cold else "preloaded"
    # Warm-up: tantivy readers, encoder session, FTS pages.
    for q in queries[::5]:
        svc.search(q["q"], mode="hybrid" if hybrid else "lexical", limit=20)
        fts_query(fts, q)

    # The warm-up must not pre-fill the per-process query-vector cache for measured queries:
    # every measured hybrid query pays its embedding (cleared before each one below).
    timings: dict[str, dict[str, list[float]]] = {}
    totals: dict[str, list[tuple[int, bool]]] = {}
    for q in queries:
        kind = q["kind"]
        for mode in modes:
            for sort in sorts:
                name = f"{mode} {sort}"
                svc.forget_query_vectors()
                t = time.perf_counter()
                r = svc.search(q["q"], mode=mode, sort=sort, limit=20)
                timings.setdefault(name, {}).setdefault(kind, []).append(
                    (time.perf_counter() - t) * 1000
                )
                totals.setdefault(name, []).append((r.total, bool(r.total_is_estimate)))
        for sort in sorts:
            name = f"fts5 {sort}"
            t = time.perf_counter()
            _rows, total = fts_query(fts, q, sort)
            timings.setdefault(name, {}).setdefault(kind, []).append(
                (time.perf_counter() - t) * 1000
            )
            totals.setdefault(name, []).append((total, False))
    svc.close()

    summary = {}
    for mode, by_kind in timings.items():
        every = [x for v in by_kind.values() for x in v]
        summary[mode] = {
            "all": {
                "p50": pct(every, 50),
                "p95": pct(every, 95),
                "p99": pct(every, 99),
                "n": len(every),
            }
        }
        for kind, vals in by_kind.items():
            summary[mode][kind] = {
                "p50": pct(vals, 50),
                "p95": pct(vals, 95),
                "p99": pct(vals, 99),
                "n": len(vals),
            }
    for mode in summary:
        for kind in summary[mode]:
            for k in ("p50", "p95", "p99"):
                summary[mode][kind][k] = round(summary[mode][kind][k], 2)
    results["latency_ms"] = summary
    results["fts5_over_lexical_p95_common"] = round(
        summary["fts5 relevance"]["common"]["p95"]
        / max(summary["lexical relevance"]["common"]["p95"], 1e-9),
        1,
    )
    # Totals: every figure above includes a total; how many were exact, and their mean.
    results["totals"] = {
        name: {
            "exact_share": round(sum(not est for _, est in v) / len(v), 3),
            "mean_total": round(statistics.mean(t for t, _ in v), 1),
        }
        for name, v in totals.items()
    }
    results["queries"] = [q["q"] for q in queries]
    results["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results["loadavg"] = [round(x, 2) for x in os.getloadavg()]
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(results, indent=2))
    print(json.dumps({k: v for k, v in results.items() if k != "queries"}, indent=2))
    if args.out:
        plot(
            summary,
            list(timings),
            results["papers"],
            Path(args.out) / ("search_latency_real.png" if args.real else "search_latency.png"),
        )


def plot(summary: dict, modes: list[str], papers: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [
        k
        for k in ["common", "rare", "phrase", "prefix", "filter", "title", "all"]
        if k in summary[modes[0]]
    ]
    fig, ax = plt.subplots(figsize=(10, 4))
    width = 0.8 / len(modes)
    for i, mode in enumerate(modes):
        vals = [summary[mode][k]["p95"] for k in kinds]
        ax.bar(
            [x + (i - (len(modes) - 1) / 2) * width for x in range(len(kinds))],
            vals,
            width,
            label=mode,
        )
    ax.set_yscale("log")
    ax.set_xticks(range(len(kinds)), kinds)
    ax.set_ylabel("p95 latency (ms, log scale)")
    ax.set_title(f"Search latency, {papers:,} papers, one client, 20 results/page")
    ax.axhline(12, color="C0", ls=":", lw=1)
    ax.axhline(35, color="C1", ls=":", lw=1)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
