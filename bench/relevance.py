"""Relevance on SciFact (BEIR): nDCG@10 / Recall@100 of lexical, semantic and hybrid search.

    python bench/relevance.py [--data ../shared/data/scifact] [--work DIR] [--out docs/img]

Only the TRAIN split is used (it is the development set): fusion parameters are chosen by
5-fold cross-validation over the train queries (pick on 4 folds, score the 5th), and the
final figures come from the same code path as `paperwire eval` (SearchService.rank + ranx).

What is tuned (few parameters, all on train):
- lexical title boost (BM25 of title x boost + BM25 of abstract),
- fusion method and its one parameter (weighted: alpha; RRF: k) and the lexical-match floor.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from paperwire.search import evaluate as ev  # noqa: E402
from paperwire.search import fusion, lexical  # noqa: E402


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def runs_for(svc, queries, mode, depth=100):
    from paperwire.search.query import plain_query

    out = {}
    for qid, text in queries.items():
        _, ranking = svc.rank(plain_query(text), mode=mode, limit=depth)
        out[qid] = list(ranking.ids)
    return out


def as_run(ranked_lists, depth=100):
    return {q: {pid: float(depth - i) for i, (pid, _) in enumerate(lst[:depth])}
            for q, lst in ranked_lists.items()}


def fuse_all(lex, sem, params):
    return {q: fusion.fuse(lex[q], sem.get(q, []), params)[:100] for q in lex}


def folds(qids, k=5, seed=13):
    qids = sorted(qids)
    random.Random(seed).shuffle(qids)
    return [qids[i::k] for i in range(k)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "scifact"))
    ap.add_argument("--work", default="/tmp/pwsearch/scifact-work")
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"))
    ap.add_argument("--json-out", default=str(ROOT / "bench" / "results" / "relevance.json"))
    args = ap.parse_args()
    data = Path(args.data)
    corpus, queries_p, qrels_p = (data / "corpus.jsonl", data / "queries_train.jsonl",
                                  data / "qrels_train.tsv")
    queries = ev.read_queries(queries_p)
    qrels = ev.read_qrels(qrels_p)
    queries = {k: v for k, v in queries.items() if k in qrels}
    log(f"{len(queries)} train queries with judgements, corpus {corpus}")

    work = Path(args.work)
    from paperwire.config import load_settings
    from paperwire.search.service import SearchService
    from paperwire.store.db import open_database

    t0 = time.perf_counter()
    if not (work / "prepared").exists():
        import shutil

        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        ev.prepare(corpus, work, progress=True)
        (work / "prepared").write_text("ok")
    settings = load_settings(env={}, data_dir=work, database_url="", load_demo_data=False)
    db = open_database(settings)
    prep_s = time.perf_counter() - t0

    # 1. Lexical: title boost, chosen by CV below together with fusion.
    lex_runs = {}
    for boost in (1.0, 1.5, 2.0, 3.0):
        lexical.TITLE_BOOST = boost
        svc = SearchService(settings, db, background=False)
        svc.lexical.ensure_open()
        lex_runs[boost] = runs_for(svc, queries, "lexical")
        svc.close()
        log(f"title boost {boost}: lexical nDCG@10 {ev.score(qrels, as_run(lex_runs[boost]))}")
    svc = SearchService(settings, db, background=False)
    sem_run = runs_for(svc, queries, "semantic")
    svc.close()
    log(f"semantic: {ev.score(qrels, as_run(sem_run))}")

    # 2. Fusion candidates.
    cands = []
    for alpha in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7):
        for floor in (0.0, 0.2, 0.4):
            cands.append(fusion.FusionParams("weighted", alpha=alpha, lexical_floor=floor))
    for k in (10, 30, 60):
        cands.append(fusion.FusionParams("rrf", rrf_k=k))
    grid = list(itertools.product(lex_runs, cands))
    fused_cache = {}

    def ndcg(boost, params, qids):
        key = (boost, params)
        if key not in fused_cache:
            fused_cache[key] = as_run(fuse_all(lex_runs[boost], sem_run, params))
        run = {q: fused_cache[key][q] for q in qids}
        return ev.score({q: qrels[q] for q in qids}, run)["ndcg@10"]

    fold_list = folds(list(queries))
    cv_scores = []
    picks = []
    for i, held in enumerate(fold_list):
        train = [q for j, f in enumerate(fold_list) if j != i for q in f]
        best = max(grid, key=lambda g: ndcg(g[0], g[1], train))
        picks.append(best)
        cv_scores.append(ndcg(best[0], best[1], held))
        log(f"fold {i}: picked boost={best[0]} {best[1]} -> held-out nDCG@10 {cv_scores[-1]:.4f}")
    all_q = list(queries)
    final = max(grid, key=lambda g: ndcg(g[0], g[1], all_q))
    log(f"chosen on all train queries: boost={final[0]} {final[1]}")
    table = {f"{b}|{p.method}|{p.alpha}|{p.lexical_floor}|{p.rrf_k}": ndcg(b, p, all_q)
             for b, p in grid}

    # 3. Final figures through the service (the same code path as `paperwire eval`).
    lexical.TITLE_BOOST = final[0]
    svc = SearchService(settings, db, background=False, fusion_params=final[1])
    results = {}
    for mode in ("lexical", "semantic", "hybrid"):
        t = time.perf_counter()
        results[mode] = ev.score(qrels, ev.run_mode(svc, queries, mode, progress=False))
        results[mode]["seconds"] = round(time.perf_counter() - t, 1)
    rrf_default = ev.score(qrels, as_run(fuse_all(lex_runs[final[0]], sem_run,
                                                   fusion.FusionParams("rrf", rrf_k=60))))
    svc.close()
    out = {
        "split": "train", "queries": len(queries), "results": results,
        "rrf_k60_baseline": rrf_default,
        "cv": {"folds": 5, "held_out_ndcg@10": [round(x, 4) for x in cv_scores],
               "mean": round(sum(cv_scores) / len(cv_scores), 4),
               "picks": [[b, p.method, p.alpha, p.lexical_floor, p.rrf_k] for b, p in picks]},
        "chosen": {"title_boost": final[0], "method": final[1].method,
                   "alpha": final[1].alpha, "lexical_floor": final[1].lexical_floor,
                   "rrf_k": final[1].rrf_k},
        "grid_ndcg@10": table,
        "prepare_seconds": round(prep_s, 1),
    }
    Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json_out).write_text(json.dumps(out, indent=2))
    print(json.dumps({k: out[k] for k in ("results", "rrf_k60_baseline", "cv", "chosen")},
                     indent=2))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    Path(args.out).mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    modes = ["lexical", "semantic", "hybrid"]
    x = range(len(modes))
    axes[0].bar([i - 0.2 for i in x], [results[m]["ndcg@10"] for m in modes], 0.4,
                label="nDCG@10")
    axes[0].bar([i + 0.2 for i in x], [results[m]["recall@100"] for m in modes], 0.4,
                label="Recall@100")
    axes[0].set_xticks(list(x), modes)
    axes[0].set_ylim(0.5, 1.0)
    axes[0].set_title("SciFact train (809 queries)")
    axes[0].legend()
    for floor in (0.0, 0.2, 0.4):
        alphas = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
        axes[1].plot(alphas, [ndcg(final[0], fusion.FusionParams("weighted", alpha=a,
                                                                  lexical_floor=floor), all_q)
                              for a in alphas], marker="o", label=f"floor {floor}")
    axes[1].axhline(rrf_default["ndcg@10"], color="gray", ls="--", label="RRF k=60")
    axes[1].set_xlabel("alpha (lexical weight)")
    axes[1].set_ylabel("nDCG@10")
    axes[1].set_title(f"Weighted fusion (title boost {final[0]})")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(Path(args.out) / "relevance_scifact.png", dpi=110)
    log(f"plot: {Path(args.out) / 'relevance_scifact.png'}")


if __name__ == "__main__":
    main()
