"""Cost of sentence vectors (search/sentences.py): embedding time, storage, query time.

    python bench/sentences.py --work /tmp/pwsent/scifact-work [--papers 1000] [--queries 200]

``--work`` is a data dir prepared by bench/relevance.py (SciFact imported, embedded with
sentence vectors, indexes built; it also holds the ONNX export). Measures, in one run:
1. embedding: the embedder's batch (256 papers) encoded as paper texts only vs paper texts +
   "Title. Sentence" texts in one ``encode`` call (what embedding_jobs does), same encoder;
2. storage: sentence texts and bytes per paper in the ``sentence_vectors`` table;
3. query time: for SciFact train queries, hybrid ``rank`` with and without sentence
   re-scoring, and the re-scoring step alone split into reading the rows and scoring.
Run it under /work/tools/quiet (timings).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "scifact"))
    ap.add_argument("--work", default="/tmp/pwsent/scifact-work")
    ap.add_argument("--papers", type=int, default=1000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--json-out", default=str(ROOT / "bench" / "results" / "sentences.json"))
    args = ap.parse_args()

    import numpy as np
    from sqlalchemy import func, select

    from paperwire.config import load_settings
    from paperwire.search import evaluate as ev
    from paperwire.search.embed import get_encoder, paper_text
    from paperwire.search.embedding_jobs import _encode_batch
    from paperwire.search.filters import merge
    from paperwire.search.query import plain_query
    from paperwire.search.service import SearchService
    from paperwire.store.db import open_database
    from paperwire.store.embeddings import PendingPaper
    from paperwire.store.models import SentenceVectors
    from paperwire.store.sentences import get_sentence_vectors

    settings = load_settings(
        env={}, data_dir=Path(args.work), database_url="", load_demo_data=False
    )
    enc = get_encoder(settings)
    docs = [json.loads(line) for line in open(Path(args.data) / "corpus.jsonl")][: args.papers]
    pending = [
        PendingPaper(str(d["_id"]), d.get("title", ""), d.get("text", ""), "x") for d in docs
    ]
    enc.encode([paper_text(p.title, p.abstract) for p in pending[:64]])  # warm up
    t = time.perf_counter()
    for i in range(0, len(pending), 256):
        enc.encode([paper_text(p.title, p.abstract) for p in pending[i : i + 256]])
    paper_s = time.perf_counter() - t
    t = time.perf_counter()
    n_sent = 0
    for i in range(0, len(pending), 256):
        _, rows = _encode_batch(enc, paper_text, pending[i : i + 256])
        n_sent += sum(len(r[2]) for r in rows)
    both_s = time.perf_counter() - t
    embedding = {
        "papers": len(pending),
        "sentence_texts": n_sent,
        "sentence_texts_per_paper": round(n_sent / len(pending), 2),
        "paper_only_s": round(paper_s, 1),
        "papers_per_s": round(len(pending) / paper_s, 1),
        "with_sentences_s": round(both_s, 1),
        "papers_per_s_with_sentences": round(len(pending) / both_s, 1),
        "time_ratio": round(both_s / paper_s, 2),
    }
    log("embedding", embedding)

    db = open_database(settings)
    with db.session() as s:
        rows, total_count, total_bytes = s.execute(
            select(
                func.count(),
                func.sum(SentenceVectors.count),
                func.sum(func.length(SentenceVectors.vectors)),
            )
        ).one()
    storage = {
        "papers": rows,
        "sentences": int(total_count),
        "sentences_per_paper": round(total_count / rows, 2),
        "vector_bytes_per_paper": round(total_bytes / rows),
        "projected_1M_papers_GB": round(total_bytes / rows * 1e6 / 1e9, 2),
    }
    log("storage", storage)

    queries = ev.read_queries(Path(args.data) / "queries_train.jsonl")
    qs = list(queries.items())[: args.queries]
    svc = SearchService(settings, db, background=False)
    off = SearchService(dataclasses.replace(settings, sentence_weight=0.0), db, background=False)
    for s_ in (svc, off):  # warm up: indexes open, query vectors cached
        for _, text in qs:
            s_.rank(plain_query(text), mode="hybrid", limit=10)

    def timed(s_):
        out = []
        for _, text in qs:
            t0 = time.perf_counter()
            s_.rank(plain_query(text), mode="hybrid", limit=10)
            out.append((time.perf_counter() - t0) * 1000)
        return out

    on_ms, off_ms = timed(svc), timed(off)
    load_ms, score_ms, cands = [], [], []
    for _, text in qs:
        pq = plain_query(text)
        pool = svc.semantic_pool(pq, merge(pq, None), 100)
        lex = svc.lexical.search(pq, merge(pq, None), limit=100).hits
        ids = list(dict.fromkeys([p for p, _ in pool.hits] + [p for p, _ in lex]))
        cands.append(len(ids))
        t0 = time.perf_counter()
        with db.session() as s:
            get_sentence_vectors(s, enc.model_id, ids)
        load_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        svc.sentence_scores(pool, lex)
        score_ms.append((time.perf_counter() - t0) * 1000)
    svc.close()
    off.close()

    def pct(xs, p):
        return round(float(np.percentile(xs, p)), 2)

    query = {
        "queries": len(qs),
        "candidates_mean": round(statistics.mean(cands), 1),
        "hybrid_ms_p50": pct(on_ms, 50),
        "hybrid_ms_p95": pct(on_ms, 95),
        "hybrid_without_sentences_ms_p50": pct(off_ms, 50),
        "hybrid_without_sentences_ms_p95": pct(off_ms, 95),
        "read_rows_ms_p50": pct(load_ms, 50),
        "read_rows_ms_p95": pct(load_ms, 95),
        "rescore_total_ms_p50": pct(score_ms, 50),
        "rescore_total_ms_p95": pct(score_ms, 95),
    }
    log("query", query)
    out = {
        "embedding": embedding,
        "storage": storage,
        "query": query,
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }
    Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json_out).write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
