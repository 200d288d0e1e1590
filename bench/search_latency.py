"""Search latency at 1M papers: lexical and hybrid `SearchService.search` beside SQLite FTS5.

    flock /tmp/paperwire-bench.lock python bench/search_latency.py \
        [--db /tmp/pwbench/papers_1m.db] [--work /tmp/pwsearch/bench1m] [--out docs/img]

- Corpus: the 1M synthetic papers the ingest benchmark writes (bench/synth.py, imported into a
  migrated SQLite DB at /tmp/pwbench/papers_1m.db). It is only read.
- Lexical: the real tantivy index under WORK/index/lexical, built here from that DB (build
  time and size reported).
- Semantic side of hybrid: the real ``SemanticIndex`` that bench/semantic_memory.py builds
  from 1M synthetic embeddings it stores in that DB (when present); otherwise 1M synthetic
  384-d vectors (2,000 Gaussian clusters, seed 7) in a usearch HNSW index with the same
  parameters as ``paperwire.search.semantic.HNSW``. Either way the query is embedded by the
  real encoder, so hybrid latency includes query embedding.
- Baseline: SQLite FTS5 (porter + unicode61, title/abstract/authors, ``bm25()`` with title
  weight 2) over the same papers, ``ORDER BY bm25 LIMIT 20`` for the same queries.
- One client, sequential queries, 20 results per page, full page build (rows, snippets).
"""

from __future__ import annotations

import argparse
import json
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
            vecs = self.index.get(np.array(cands, dtype=np.uint64)).astype(np.float32)
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True) + 1e-9
            sims = vecs @ q
            order = np.argsort(-sims)[:k]
            return [(self.ids[cands[i]], float(sims[i])) for i in order]
        m = self.index.search(q, k)
        return [(self.ids[int(key)], 1.0 - float(d)) for key, d in zip(m.keys, m.distances)]

    def refresh(self):
        return 0

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

    from paperwire.search.semantic import HNSW

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
    con.execute("CREATE VIRTUAL TABLE fts USING fts5(title, abstract, authors, "
                "tokenize='porter unicode61')")
    log("building FTS5 baseline ...")
    con.execute("INSERT INTO fts(rowid, title, abstract, authors) "
                "SELECT rowid, title, abstract, authors FROM src.papers WHERE hidden = 0")
    con.commit()
    con.execute("INSERT INTO fts(fts) VALUES('optimize')")
    con.commit()
    con.close()
    return time.perf_counter() - t0, fts_path.stat().st_size


# ------------------------------------------------------------------------------------------
def make_queries(db_path: Path, n_each: int, seed: int = 3) -> list[dict]:
    """Deterministic query mix drawn from the corpus itself."""
    rng = random.Random(seed)
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    sample = con.execute("SELECT title, abstract, categories, authors FROM papers "
                         "WHERE rowid % 97 = 0 LIMIT 10000").fetchall()
    con.close()
    counts = Counter()
    bigrams = Counter()
    stop = set("the of and in to a we for is that with on by this are an as from be which "
               "our it at can these also".split())
    for title, abstract, *_ in sample:
        words = re.findall(r"[a-z][a-z0-9]+", f"{title} {abstract}".lower())
        counts.update(set(words))
        bigrams.update(zip(words, words[1:]))
    # Sorted by (count, word): the counters are filled from sets, whose order changes from
    # process to process (string hashing), and the query set must not.
    by_count = sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))
    common = [w for w, _ in by_count[:120] if w not in stop and len(w) > 3][:60]
    rare = sorted(w for w, c in counts.items() if 2 <= c <= 3 and len(w) > 5)
    phrases = [f'"{a} {b}"' for (a, b), c in bigrams.most_common(20000)
               if a not in stop and b not in stop][:80]
    cats = sorted({c for _, _, cj, _ in sample for c in json.loads(cj)})
    names = sorted({a["name"].split()[-1] for *_, aj in sample for a in json.loads(aj)})
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
        if choice < 0.4:
            c = rng.choice(cats)
            qs.append({"kind": "filter", "q": f"{w} cat:{c}", "fts": w,
                       "sql": ("categories LIKE ?", f'%"{c}"%')})
        elif choice < 0.7:
            y = rng.randint(2012, 2024)
            qs.append({"kind": "filter", "q": f"{w} after:{y}", "fts": w,
                       "sql": ("published_at >= ?", f"{y}-01-01")})
        else:
            a = rng.choice(names)
            qs.append({"kind": "filter", "q": f"{w} author:{a}", "fts": f"{w} AND authors:{a}"})
    return qs


def fts_query(con, q: dict) -> list:
    sql = ("SELECT fts.rowid FROM fts WHERE fts MATCH ? "
           "ORDER BY bm25(fts, 2.0, 1.0, 1.0) LIMIT 20")
    params = [q["fts"]]
    if "sql" in q:
        cond, val = q["sql"]
        sql = ("SELECT fts.rowid FROM fts JOIN src.papers p ON p.rowid = fts.rowid "
               f"WHERE fts MATCH ? AND p.{cond} ORDER BY bm25(fts, 2.0, 1.0, 1.0) LIMIT 20")
        params.append(val)
    return con.execute(sql, params).fetchall()


# ------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="/tmp/pwbench/papers_1m.db")
    ap.add_argument("--work", default="/tmp/pwsearch/bench1m")
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"))
    ap.add_argument("--json-out", default=str(ROOT / "bench" / "results" / "search_latency.json"))
    ap.add_argument("--per-kind", type=int, default=40)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--synthetic", action="store_true",
                    help="without the real 1M semantic index, build a usearch one here")
    ap.add_argument("--prepare-only", action="store_true",
                    help="build the indexes (lexical, FTS5) and stop; measure in a later run")
    ap.add_argument("--semantic-dir", default="/tmp/pwbench/semantic_data/index/semantic",
                    help="the 1M semantic index bench/semantic_memory.py builds (synthetic "
                         "vectors stored in the DB's embeddings table); used when present")
    args = ap.parse_args()
    db_path = Path(args.db)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    from paperwire.config import load_settings
    from paperwire.search import service as service_mod
    from paperwire.search.embed import get_encoder
    from paperwire.search.lexical import LexicalIndex
    from paperwire.store.db import Database

    settings = load_settings(env={}, data_dir=work, database_url=f"sqlite:///{db_path}",
                             load_demo_data=False)
    db = Database(settings.database_url)
    results: dict = {"papers": None}

    lex = LexicalIndex(settings, db)
    if args.rebuild or not (lex.root / "CURRENT").exists():
        t0 = time.perf_counter()
        n = lex.rebuild(progress=True)
        results["lexical_build_seconds"] = round(time.perf_counter() - t0, 1)
        results["papers"] = n
    lex.ensure_open()
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
    if (real_sem / "manifest.json").exists():
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
        ids = [r[0] for r in con.execute("SELECT id FROM papers WHERE hidden = 0 "
                                         "ORDER BY rowid")]
        con.close()
        sem, sem_build, sem_bytes = semantic_side(work, ids)
        results["semantic_index"] = "usearch over synthetic vectors built here"
        results["synthetic_semantic_build_seconds"] = round(sem_build, 1) if sem_build else None
        results["synthetic_semantic_index_bytes"] = sem_bytes

    queries = make_queries(db_path, args.per_kind)
    log(f"{len(queries)} queries: {Counter(q['kind'] for q in queries)}")

    svc = service_mod.SearchService(settings, db, background=False)
    hybrid = results["semantic_index"] is not None
    if sem is not None:
        svc._encoder = get_encoder(settings)
        svc._semantic = sem
    elif hybrid and svc.semantic() is None:
        raise SystemExit(f"semantic side unavailable: {svc._semantic_error}")
    modes = ("lexical", "hybrid", "fts5") if hybrid else ("lexical", "fts5")

    fts = sqlite3.connect(work / "fts.db")
    fts.execute(f"ATTACH DATABASE 'file:{db_path}?mode=ro' AS src")

    # Warm-up: page cache, tantivy readers, encoder session, FTS pages.
    for q in queries[::5]:
        svc.search(q["q"], mode="hybrid" if hybrid else "lexical", limit=20)
        fts_query(fts, q)

    # The warm-up must not pre-fill the per-process query-vector cache for measured queries:
    # every measured hybrid query pays its embedding.
    svc._query_vectors.clear()

    timings: dict[str, dict[str, list[float]]] = {m: {} for m in modes}
    hits: dict[str, list[int]] = {"lexical": [], "fts5": []}
    for q in queries:
        kind = q["kind"]
        t = time.perf_counter()
        r = svc.search(q["q"], mode="lexical", limit=20)
        timings["lexical"].setdefault(kind, []).append((time.perf_counter() - t) * 1000)
        hits["lexical"].append(len(r.hits))
        if hybrid:
            t = time.perf_counter()
            svc.search(q["q"], mode="hybrid", limit=20)
            timings["hybrid"].setdefault(kind, []).append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        rows = fts_query(fts, q)
        timings["fts5"].setdefault(kind, []).append((time.perf_counter() - t) * 1000)
        hits["fts5"].append(len(rows))
    svc.close()

    summary = {}
    for mode, by_kind in timings.items():
        every = [x for v in by_kind.values() for x in v]
        summary[mode] = {"all": {"p50": pct(every, 50), "p95": pct(every, 95),
                                 "p99": pct(every, 99), "n": len(every)}}
        for kind, vals in by_kind.items():
            summary[mode][kind] = {"p50": pct(vals, 50), "p95": pct(vals, 95),
                                   "p99": pct(vals, 99), "n": len(vals)}
    for mode in summary:
        for kind in summary[mode]:
            for k in ("p50", "p95", "p99"):
                summary[mode][kind][k] = round(summary[mode][kind][k], 2)
    results["latency_ms"] = summary
    results["fts5_over_lexical_p95_common"] = round(
        summary["fts5"]["common"]["p95"] / summary["lexical"]["common"]["p95"], 1)
    results["queries"] = [q["q"] for q in queries]
    results["mean_hits"] = {k: statistics.mean(v) for k, v in hits.items()}
    Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json_out).write_text(json.dumps(results, indent=2))
    print(json.dumps({k: v for k, v in results.items() if k != "queries"}, indent=2))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = ["common", "rare", "phrase", "prefix", "filter", "all"]
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.27
    for i, mode in enumerate(modes):
        vals = [summary[mode][k]["p95"] for k in kinds]
        ax.bar([x + (i - 1) * width for x in range(len(kinds))], vals, width, label=mode)
    ax.set_yscale("log")
    ax.set_xticks(range(len(kinds)), kinds)
    ax.set_ylabel("p95 latency (ms, log scale)")
    ax.set_title(f"Search latency, {results['papers']:,} papers, one client, 20 results/page")
    ax.axhline(15, color="C0", ls=":", lw=1)
    ax.axhline(40, color="C1", ls=":", lw=1)
    ax.legend()
    fig.tight_layout()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    fig.savefig(Path(args.out) / "search_latency.png", dpi=110)


if __name__ == "__main__":
    main()
