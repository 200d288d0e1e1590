"""The semantic index at 1M papers: build time, file size, query latency, recall, memory.

    flock /tmp/paperwire-bench.lock python bench/semantic_memory.py [--db /tmp/pwbench/papers_1m.db]

Embedding a million abstracts is out of reach on 2 cores (~4 h with the fast model), so the
vectors are SYNTHETIC: 384-d unit vectors with a realistic structure — a shared mean
direction, one centroid per arXiv primary category, 24 sub-topics per category and per-paper
noise, calibrated so that random-pair and nearest-neighbour cosines resemble real
all-MiniLM-L6-v2 embeddings of SciFact abstracts (both printed). They are written to the
``embeddings`` table of the 1M-paper database under the real model's model_id (with the
papers' content hashes), so the index is built by the real code path
(``SemanticIndex.rebuild`` reading from the database), and a search service opened on that
database finds them.

Measured:
- build: ``rebuild()`` wall time (DB read + HNSW insert + save), index file size;
- in a fresh process that opens the saved index (memory-mapped view): RSS after load and
  after the queries, latency p50/p95/p99 of ``search(q, 10)`` and ``search(q, 100)`` (the
  hybrid candidate pool), and of filtered search among 20,000 candidates (exact path);
- recall@10 of the ANN (int8 HNSW) against exact float32 search, on sampled queries.

Writes ``bench/results/semantic_1m.json`` and ``docs/img/semantic_1m_latency.png``.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DIM = 384
SUBTOPICS = 24


def synth_vectors(categories: list[str], seed: int = 7) -> np.ndarray:
    """Clustered unit vectors: mean direction + category centroid + sub-topic + noise."""
    rng = np.random.default_rng(seed)
    cats = sorted(set(categories))
    cat_index = {c: i for i, c in enumerate(cats)}
    # Anisotropic directions (decaying spectrum), like real sentence embeddings.
    scales = (1.0 / np.sqrt(np.arange(1, DIM + 1))).astype(np.float32)
    mean = rng.normal(size=DIM).astype(np.float32)
    mean /= np.linalg.norm(mean)
    cat_c = rng.normal(size=(len(cats), DIM)).astype(np.float32) * scales
    cat_c /= np.linalg.norm(cat_c, axis=1, keepdims=True)
    sub_c = rng.normal(size=(len(cats), SUBTOPICS, DIM)).astype(np.float32) * scales
    sub_c /= np.linalg.norm(sub_c, axis=2, keepdims=True)
    n = len(categories)
    out = np.empty((n, DIM), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        stop = min(n, start + step)
        ci = np.array([cat_index[c] for c in categories[start:stop]])
        si = rng.integers(0, SUBTOPICS, size=stop - start)
        noise = rng.normal(size=(stop - start, DIM)).astype(np.float32)
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        v = 0.35 * mean + 0.55 * cat_c[ci] + 0.55 * sub_c[ci, si] + 0.75 * noise
        out[start:stop] = v / np.linalg.norm(v, axis=1, keepdims=True)
    return out


def cosine_stats(vecs: np.ndarray, rng, sample: int = 500) -> dict:
    idx = rng.choice(len(vecs), size=min(sample, len(vecs)), replace=False)
    s = vecs[idx] @ vecs.T
    s[np.arange(len(idx)), idx] = -2  # not itself
    pairs = vecs[idx] @ vecs[rng.choice(len(vecs), size=len(idx))].T
    return {
        "random_pair_cos_mean": round(float(np.mean(pairs)), 3),
        "nn1_cos_mean": round(float(np.mean(s.max(axis=1))), 3),
    }


def write_embeddings(db_path: Path, model_id: str, ids, hashes, vecs) -> float:
    started = time.perf_counter()
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("DELETE FROM embeddings")
    # Stamped an hour back, as if an embedder had written them long before the index is built
    # (as on a running server): the index's change window (OVERLAP, 120 s) then starts empty.
    # Stamped "now", all 1M rows sat in that window with one timestamp, and every process
    # that opened the index re-read them on its first refresh, page by page (minutes).
    now = time.strftime("%Y-%m-%d %H:%M:%S.000000", time.gmtime(time.time() - 3600))
    step = 20_000
    for start in range(0, len(ids), step):
        rows = [
            (ids[i], model_id, DIM, vecs[i].astype("<f4").tobytes(), hashes[i], now)
            for i in range(start, min(len(ids), start + step))
        ]
        conn.executemany(
            "INSERT INTO embeddings (paper_id, model, dim, vector, content_hash, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.commit()
    conn.close()
    return time.perf_counter() - started


CHILD = r"""
import json, sys, time, os, numpy as np, psutil
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from paperwire.config import load_settings
from paperwire.store.db import Database
from paperwire.search.semantic import SemanticIndex, VectorSpace
proc = psutil.Process()
def mem():
    full = proc.memory_full_info()
    return {"rss_mb": round(full.rss / 2**20, 1), "uss_mb": round(full.uss / 2**20, 1)}
args = json.loads(sys.argv[2])
base = mem()
settings = load_settings(env={}, data_dir=Path(args["data_dir"]), database_url=args["db_url"])
db = Database(args["db_url"])
t = time.perf_counter()
index = SemanticIndex(settings, db, VectorSpace(args["model_id"], args["dim"]))
n = len(index)
load_s = time.perf_counter() - t
after_load = mem()
q = np.load(args["queries"])
cands = json.load(open(args["cands"]))
def lat(fn, reps):
    out = []
    for i in range(reps):
        t = time.perf_counter(); fn(i); out.append((time.perf_counter() - t) * 1000)
    return out
res = {"count": n, "load_s": round(load_s, 3), "mem_start": base, "mem_after_load": after_load}
for i in range(20):  # warm-up
    index.search(q[i], 10)
res["lat_k10"] = lat(lambda i: index.search(q[i % len(q)], 10), len(q))
res["lat_k100"] = lat(lambda i: index.search(q[i % len(q)], 100), len(q))
res["lat_filtered_20k"] = lat(lambda i: index.search(q[i], 10, candidate_ids=cands), 30)
ann = [[p for p, _ in index.search(q[i], 10)] for i in range(args["recall_queries"])]
res["ann_top10"] = ann
res["mem_after_queries"] = mem()
print(json.dumps(res))
"""


SERVE = r"""
import json, sys, time, random, numpy as np, psutil
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from paperwire.config import load_settings
from paperwire.store.db import Database
from paperwire.search.service import SearchService
args = json.loads(sys.argv[2])
proc = psutil.Process()
def mem():
    full = proc.memory_full_info()
    return {"rss_mb": round(full.rss / 2**20, 1), "uss_mb": round(full.uss / 2**20, 1)}
settings = load_settings(env={}, data_dir=Path(args["data_dir"]), database_url=args["db_url"])
db = Database(args["db_url"])
svc = SearchService(settings, db, background=False)
t = time.perf_counter()
svc.search("warmup", mode="hybrid", limit=20)
res = {"open_s": round(time.perf_counter() - t, 2), "mem_after_open": mem()}
words = args["words"]
rng = random.Random(3)
lat = []
for i in range(args["queries"]):
    q = " ".join(rng.sample(words, rng.choice([1, 2, 3])))
    t = time.perf_counter()
    r = svc.search(q, mode="hybrid", limit=20)
    lat.append((time.perf_counter() - t) * 1000)
res["hybrid_ms"] = lat
res["semantic_entries"] = len(svc._semantic) if svc._semantic is not None else None
res["mem_after_queries"] = mem()
print(json.dumps(res))
"""

WORDS = (
    "neural network protein galaxy quantum sequence graph learning transformer "
    "diffusion lattice spectral bayesian inference magnetic cosmological gene "
    "optimization sparse kernel embedding robust causal dark matter"
).split()


def serve_stage(args, db_url: str, result: dict) -> None:
    """RSS of a real search service (both indexes, real encoder) over the 1M database."""
    lexical = args.lexical_index
    if not (lexical / "CURRENT").exists() and not any(lexical.glob("*")):
        print(f"no lexical index at {lexical}: serve stage skipped", file=sys.stderr)
        return
    serve = args.data_dir.parent / "serve_data"
    (serve / "index").mkdir(parents=True, exist_ok=True)
    for name, target in (("lexical", lexical), ("semantic", args.data_dir / "index" / "semantic")):
        link = serve / "index" / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(target.resolve())
    child_args = {
        "data_dir": str(serve),
        "db_url": db_url,
        "words": WORDS,
        "queries": args.serve_queries,
    }
    out = subprocess.run(
        [sys.executable, "-c", SERVE, str(ROOT / "src"), json.dumps(child_args)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        print(out.stderr[-3000:], file=sys.stderr)
        return
    child = json.loads(out.stdout.strip().splitlines()[-1])
    lat = child.pop("hybrid_ms")
    child["hybrid_ms"] = {"p50": pct(lat, 50), "p95": pct(lat, 95), "p99": pct(lat, 99)}
    result["serve_both_indexes"] = child
    print(json.dumps(child, indent=2), file=sys.stderr)


def pct(values, p):
    return round(float(np.percentile(values, p)), 3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, default=Path("/tmp/pwbench/papers_1m.db"))
    ap.add_argument("--data-dir", type=Path, default=Path("/tmp/pwbench/semantic_data"))
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--recall-queries", type=int, default=300)
    ap.add_argument(
        "--real-vectors",
        type=Path,
        default=None,
        help="a .npy of real embeddings (bench/embed.py cache) to compare cosines",
    )
    ap.add_argument("--skip-write", action="store_true", help="embeddings already written")
    ap.add_argument("--limit", type=int, default=0, help="only the first N papers (smoke run)")
    ap.add_argument(
        "--lexical-index",
        type=Path,
        default=Path("/tmp/pwsearch/bench1m/index/lexical"),
        help="a 1M lexical index (bench/search_latency.py) for the serve stage",
    )
    ap.add_argument("--serve-queries", type=int, default=300)
    ap.add_argument(
        "--serve-only",
        action="store_true",
        help="only the serve stage, adding its figures to --out",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "semantic_1m.json")
    ap.add_argument("--plot", type=Path, default=ROOT / "docs" / "img" / "semantic_1m_latency.png")
    args = ap.parse_args()

    from paperwire.config import load_settings
    from paperwire.search.embed import model_id_for
    from paperwire.search.semantic import SemanticIndex, VectorSpace
    from paperwire.store.db import Database

    if args.serve_only:
        result = json.loads(args.out.read_text())
        serve_stage(args, f"sqlite:///{args.db}", result)
        args.out.write_text(json.dumps(result, indent=2))
        return

    model_id = model_id_for(load_settings(env={}))
    conn = sqlite3.connect(args.db)
    rows = conn.execute(
        "SELECT id, coalesce(primary_category, ''), content_hash FROM papers "
        "ORDER BY id" + (f" LIMIT {int(args.limit)}" if args.limit else "")
    ).fetchall()
    conn.close()
    ids = [r[0] for r in rows]
    cats = [r[1] for r in rows]
    hashes = [r[2] for r in rows]
    del rows
    print(f"{len(ids)} papers, model_id {model_id}", file=sys.stderr)
    t = time.perf_counter()
    vecs = synth_vectors(cats)
    result = {
        "papers": len(ids),
        "model_id": model_id,
        "dim": DIM,
        "dtype": "i8",
        "synthetic_vectors": True,
        "generate_s": round(time.perf_counter() - t, 1),
    }
    rng = np.random.default_rng(1)
    result["synthetic_cosines"] = cosine_stats(vecs, rng)
    if args.real_vectors and args.real_vectors.exists():
        result["real_scifact_cosines"] = cosine_stats(np.load(args.real_vectors), rng)
    print(json.dumps(result), file=sys.stderr)
    if not args.skip_write:
        result["write_embeddings_s"] = round(
            write_embeddings(args.db, model_id, ids, hashes, vecs), 1
        )
        print(f"wrote embeddings in {result['write_embeddings_s']} s", file=sys.stderr)

    # Build through the real code path: SemanticIndex.rebuild() reads the embeddings table.
    import shutil

    shutil.rmtree(args.data_dir, ignore_errors=True)
    db_url = f"sqlite:///{args.db}"
    settings = load_settings(env={}, data_dir=args.data_dir, database_url=db_url)
    db = Database(db_url)
    index = SemanticIndex(settings, db, VectorSpace(model_id, DIM))
    t = time.perf_counter()
    n = index.rebuild(progress=True)
    result["build_s"] = round(time.perf_counter() - t, 1)
    index.close()
    db.dispose()
    folder = args.data_dir / "index" / "semantic"
    # Entries are files (the graph, the manifest) and folders (the table's .npy arrays).
    sizes = {
        p.name: (
            p.stat().st_size
            if p.is_file()
            else sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
        )
        for p in folder.iterdir()
        if not p.name.startswith(".")
    }
    result["index_files_mb"] = {
        name: round(size / 2**20, 1) for name, size in sizes.items() if size
    }
    result["indexed"] = n
    print(f"built {n} in {result['build_s']} s: {result['index_files_mb']}", file=sys.stderr)

    # Queries: fresh points from the same generator (perturbed papers: realistic neighbours).
    qidx = rng.choice(len(ids), size=args.queries, replace=False)
    noise = rng.normal(size=(args.queries, DIM)).astype(np.float32)
    noise /= np.linalg.norm(noise, axis=1, keepdims=True)
    queries = vecs[qidx] + 0.6 * noise
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    qfile = args.data_dir / "queries.npy"
    np.save(qfile, queries.astype(np.float32))
    cands = [ids[i] for i in rng.choice(len(ids), size=20_000, replace=False)]
    cfile = args.data_dir / "cands.json"
    cfile.write_text(json.dumps(cands))

    child_args = {
        "data_dir": str(args.data_dir),
        "db_url": db_url,
        "model_id": model_id,
        "dim": DIM,
        "queries": str(qfile),
        "cands": str(cfile),
        "recall_queries": args.recall_queries,
    }
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT / "src"), json.dumps(child_args)],
        capture_output=True,
        text=True,
        check=True,
    )
    child = json.loads(out.stdout.strip().splitlines()[-1])

    # Exact float32 ground truth for recall@10.
    hits = 0
    for i in range(args.recall_queries):
        exact = np.argpartition(-(vecs @ queries[i]), 10)[:10]
        truth = {ids[j] for j in exact}
        hits += len(truth & set(child["ann_top10"][i]))
    result["recall@10_vs_exact"] = round(hits / (10 * args.recall_queries), 4)
    for key in ("lat_k10", "lat_k100", "lat_filtered_20k"):
        result[key + "_ms"] = {
            "p50": pct(child[key], 50),
            "p95": pct(child[key], 95),
            "p99": pct(child[key], 99),
        }
    for key in ("count", "load_s", "mem_start", "mem_after_load", "mem_after_queries"):
        result["serving_" + key] = child[key]
    serve_stage(args, db_url, result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    plot(child, result, args.plot)


def plot(child: dict, result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.6))
    labels = {
        "lat_k10": "ANN top-10",
        "lat_k100": "ANN top-100",
        "lat_filtered_20k": "exact among 20k candidates",
    }
    for key, label in labels.items():
        vals = np.sort(child[key])
        ax.plot(vals, np.linspace(0, 1, len(vals)), label=label)
    ax.set_xscale("log")
    ax.set_xlabel("query latency (ms, log scale)")
    ax.set_ylabel("fraction of queries")
    ax.set_title(
        f"Semantic index, {result['indexed']:,} papers (synthetic vectors), "
        f"recall@10 {result['recall@10_vs_exact']:.3f}",
        fontsize=9,
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
