"""Give the 1M-paper benchmark database synthetic sentence vectors, so bench/search_latency.py
measures hybrid search with its sentence re-scoring reads at 1M papers.

    python bench/sentences_1m.py [--db /tmp/pwbench/papers_1m.db]

Embedding 8M sentences is out of reach on 2 cores, so each paper with a (synthetic) embedding
from bench/semantic_memory.py gets 5-12 "sentence" vectors = its paper vector + Gaussian noise,
renormalized, stored exactly as the embedder stores them (``store.sentences.pack``: int8,
one row per paper, same model id and content hash). Only the storage size and the per-query
read and re-scoring cost are realistic, not the rankings. The database is migrated first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main(argv=None) -> None:
    from paperwire.store.sentences import pack

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="/tmp/pwbench/papers_1m.db")
    ap.add_argument("--batch", type=int, default=20_000)
    args = ap.parse_args(argv)
    env = {"PAPERWIRE_DATABASE_URL": f"sqlite:///{args.db}", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "paperwire", "migrate"], env=env, check=True)
    conn = sqlite3.connect(args.db)
    total = conn.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    rng = np.random.default_rng(11)
    now = dt.datetime.utcnow().isoformat(" ", "microseconds")
    start, last, written = time.perf_counter(), "", 0
    bar = tqdm(total=total, unit="paper", desc="sentence vectors", file=sys.stderr)
    while True:
        rows = conn.execute(
            "SELECT paper_id, model, dim, vector, content_hash FROM embeddings "
            "WHERE paper_id > ? ORDER BY paper_id LIMIT ?",
            (last, args.batch),
        ).fetchall()
        if not rows:
            break
        out = []
        for pid, model, dim, blob, chash in rows:
            vec = np.frombuffer(blob, dtype=np.float32)
            n = int(rng.integers(5, 13))
            sent = vec[None, :] + rng.normal(0, 0.05, size=(n, dim)).astype(np.float32)
            sent /= np.linalg.norm(sent, axis=1, keepdims=True)
            out.append((pid, model, dim, n, pack(sent), chash, now))
        conn.executemany(
            "INSERT OR REPLACE INTO sentence_vectors (paper_id, model, dim, count, "
            "vectors, content_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            out,
        )
        conn.commit()
        written += len(out)
        last = rows[-1][0]
        bar.update(len(rows))
    bar.close()
    size = Path(args.db).stat().st_size
    print(
        f"{written} papers with sentence vectors in {time.perf_counter() - start:.0f} s; "
        f"database now {size / 1e9:.1f} GB"
    )


if __name__ == "__main__":
    main()
