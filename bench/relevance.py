"""Relevance on SciFact (BEIR): nDCG@10 / Recall@100 of lexical, semantic and hybrid search.

    python bench/relevance.py [--data ../shared/data/scifact] [--work DIR] [--out docs/img]

The final figures are taken with the query semantics of the product in place (the result
set: keyword matches plus papers above the similarity floor, constraints enforced), and the
floor is measured beside them (bench/floor.py: a generated nonsense set must return nothing,
SciFact train queries must keep their relevant papers in their result sets), per floor.

Only the TRAIN split is used (it is the development set): fusion parameters are chosen by
5-fold cross-validation over the train queries (pick on 4 folds, score the 5th), and the
final figures come from the same code path as `paperwire eval` (SearchService.rank + ranx).

What is tuned (few parameters, all on train):
- lexical title boost (BM25 of title x boost + BM25 of abstract),
- fusion method and its parameter (weighted: alpha; RRF: k), the lexical-match floor, and
  whether candidates' scores are completed (BM25 of semantic-only candidates, cosine of
  lexical-only ones) before fusing.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))  # bench/floor.py

from paperwire.search import evaluate as ev  # noqa: E402
from paperwire.search import fusion  # noqa: E402
from paperwire.search.lexical import weights as lexical_weights  # noqa: E402


def log(*args):
    print(*args, file=sys.stderr, flush=True)


TITLE_BOOSTS = (0.25, 0.5, 1.0, 1.5)
SENTENCE_WEIGHTS = (0.0, 1.0, 2.0, 4.0)  # settings.sentence_weight grid
# Smallest lexical floor / alpha for which hybrid `seq` keeps all 55 seed papers in its first
# 70 results (tests/search/test_seq.py); the shipped parameters are chosen within this region.
MIN_FLOOR = 0.4
MIN_ALPHA = 0.6


def runs_for(svc, queries, mode, depth=100):
    from paperwire.search.query import plain_query

    out = {}
    for qid, text in queries.items():
        _, ranking = svc.rank(plain_query(text), mode=mode, limit=depth)
        out[qid] = list(ranking.ids)
    return out


def as_run(ranked_lists, depth=100):
    return {
        q: {pid: float(depth - i) for i, (pid, _) in enumerate(lst[:depth])}
        for q, lst in ranked_lists.items()
    }


def fuse_all(lex, sem, params):
    return {q: fusion.fuse(lex[q], sem.get(q, []), params)[:100] for q in lex}


def folds(qids, k=5, seed=13):
    qids = sorted(qids)
    random.Random(seed).shuffle(qids)
    return [qids[i::k] for i in range(k)]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "scifact"))
    ap.add_argument("--work", default="/tmp/pwsearch/scifact-work")
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"), help="plots ('' for none)")
    ap.add_argument("--json-out", default=str(ROOT / "bench" / "results" / "relevance.json"))
    ap.add_argument(
        "--variants",
        action="store_true",
        help="run the variant study (PRF, smoothing, normalizations, RM3, ...) "
        "instead of the tuning run; writes bench/results/relevance_variants.json",
    )
    ap.add_argument("--queries", default=None, help="default: DATA/queries_train.jsonl")
    ap.add_argument("--qrels", default=None, help="default: DATA/qrels_train.tsv")
    ap.add_argument(
        "--floors",
        default=None,
        help="similarity floors to measure (comma-separated; default: "
        "bench/floor.py's grid plus the setting's)",
    )
    ap.add_argument(
        "--nonsense", type=int, default=100, help="generated nonsense queries of each kind"
    )
    ap.add_argument(
        "--sentences",
        action="store_true",
        help="with --variants: also embed every abstract sentence (cached in "
        "--work) for the doc-side max-sentence variant",
    )
    args = ap.parse_args(argv)
    data = Path(args.data)
    corpus, queries_p, qrels_p = (
        data / "corpus.jsonl",
        Path(args.queries or data / "queries_train.jsonl"),
        Path(args.qrels or data / "qrels_train.tsv"),
    )
    queries = ev.read_queries(queries_p)
    qrels = ev.read_qrels(qrels_p)
    queries = {k: v for k, v in queries.items() if k in qrels}
    log(f"{len(queries)} train queries with judgements, corpus {corpus}")

    work = Path(args.work)
    from paperwire.config import load_settings
    from paperwire.search.service import SearchService
    from paperwire.store.db import open_database

    t0 = time.perf_counter()
    import floor as floor_bench

    floor_bench.prepare_work(corpus, work)
    settings = load_settings(env={}, data_dir=work, database_url="", load_demo_data=False)
    db = open_database(settings)
    # A work dir prepared before sentence vectors existed gets them here (the product's own
    # upgrade path: the embedder finds papers without current sentence vectors).
    from paperwire.search.embedding_jobs import embed_pending

    t = time.perf_counter()
    n_embedded = embed_pending(settings, db, progress=True)
    log(f"embedded {n_embedded} papers (+ sentences) in {time.perf_counter() - t:.0f}s")
    prep_s = time.perf_counter() - t0

    # 1. Per query: both candidate pools and the completed scores, per title boost.
    from paperwire.search.filters import merge
    from paperwire.search.query import plain_query

    svc = SearchService(settings, db, background=False)
    # completed_scores returns nothing unless completion is on: without this the "completed"
    # grid points silently equalled the plain ones.
    svc.complete_scores = True
    pqs = {qid: plain_query(text) for qid, text in queries.items()}
    sem_pool, vecs, sem_objs = {}, {}, {}
    t = time.perf_counter()
    for qid, pq in pqs.items():
        sem_objs[qid] = svc.semantic_pool(pq, merge(pq, None), 100)
        sem_pool[qid] = sem_objs[qid].hits
        vecs[qid] = sem_objs[qid].vector
    log(f"semantic pools: {time.perf_counter() - t:.0f}s; {ev.score(qrels, as_run(sem_pool))}")
    pools = {}
    for boost in TITLE_BOOSTS:
        lexical_weights.TITLE_BOOST = boost
        lex_pool, more = {}, {}
        for qid, pq in pqs.items():
            cons = merge(pq, None)
            lex_pool[qid] = svc.lexical.search(pq, cons, limit=100).hits
            more[qid] = svc.completed_scores(pq, cons, lex_pool[qid], sem_objs[qid], True)
        pools[boost] = (lex_pool, more)
        log(f"title boost {boost}: lexical {ev.score(qrels, as_run(lex_pool))}")
    if args.variants:
        variants_main(args, svc, settings, corpus, queries, qrels, pqs, pools, sem_pool, vecs)
        svc.close()
        return
    # Sentence re-scoring through the product code (SearchService.sentence_scores: stored
    # int8 sentence vectors, exact cosine of lexical-only candidates), per sentence weight.
    lexical_weights.TITLE_BOOST = 0.25  # shipped
    sent_lists = {}
    t = time.perf_counter()
    for lam in SENTENCE_WEIGHTS:
        svc.sentence_weight = lam
        for qid in pqs:
            sent_lists[(lam, qid)] = svc.sentence_scores(sem_objs[qid], pools[0.25][0][qid])
    log(
        f"sentence re-scoring: {(time.perf_counter() - t) / len(pqs) / len(SENTENCE_WEIGHTS) * 1000:.1f}"
        " ms per query"
    )
    svc.close()

    # 2. Fusion candidates.
    cands = []
    for alpha in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8):
        for floor in (0.0, 0.2, 0.4, 0.6):
            for complete in (False, True):
                cands.append(
                    (fusion.FusionParams("weighted", alpha=alpha, lexical_floor=floor), complete)
                )
    for k in (10, 30, 60):
        cands.append((fusion.FusionParams("rrf", rrf_k=k), False))
    grid = [(b, p, c) for b in TITLE_BOOSTS for p, c in cands]
    fused_cache = {}

    def fused_run(boost, params, complete):
        key = (boost, params, complete)
        if key not in fused_cache:
            lex_pool, more = pools[boost]
            fused_cache[key] = as_run(
                {
                    q: fusion.fuse(
                        lex_pool[q],
                        sem_pool[q],
                        params,
                        lexical_more=more[q][0] if complete else None,
                        semantic_more=more[q][1] if complete else None,
                    )[:100]
                    for q in lex_pool
                }
            )
        return fused_cache[key]

    def ndcg(g, qids):
        run = fused_run(*g)
        return ev.score({q: qrels[q] for q in qids}, {q: run[q] for q in qids})["ndcg@10"]

    fold_list = folds(list(queries))
    all_q = list(queries)

    def cross_validate(grid_subset, label):
        scores, picks = [], []
        for i, held in enumerate(fold_list):
            train = [q for j, f in enumerate(fold_list) if j != i for q in f]
            best = max(grid_subset, key=lambda g: ndcg(g, train))
            picks.append(best)
            scores.append(ndcg(best, held))
            log(f"[{label}] fold {i}: picked {best} -> held-out nDCG@10 {scores[-1]:.4f}")
        return scores, picks

    # Unconstrained, for reference; then constrained to a lexical floor that keeps papers
    # containing the query words above papers only close in meaning (the product rule the
    # "seq" test checks; floor >= MIN_FLOOR). The constrained choice is what ships.
    free_scores, free_picks = cross_validate(grid, "free")
    allowed = [
        g
        for g in grid
        if g[1].method == "weighted" and g[1].lexical_floor >= MIN_FLOOR and g[1].alpha >= MIN_ALPHA
    ]
    cv_scores, picks = cross_validate(allowed, f"floor>={MIN_FLOOR:.1f}")
    final = max(allowed, key=lambda g: ndcg(g, all_q))
    log(f"chosen on all train queries (paper vectors only): {final}")

    # Sentence vectors: (lam, alpha, floor) picked on 4 folds, scored on the 5th; free and
    # within the seq-rule region (what ships).
    lex25 = pools[0.25][0]
    s_memo = {}

    def s_ndcg(g, qids):
        if g not in s_memo:
            lam, a, f = g
            s_memo[g] = {
                q: ndcg10(fusion.weighted(lex25[q], sent_lists[(lam, q)], a, f), qrels[q])
                for q in all_q
            }
        return sum(s_memo[g][q] for q in qids) / len(qids)

    s_grid = [
        (lam, a, f)
        for lam in SENTENCE_WEIGHTS
        for a in (0.4, 0.5, 0.6, 0.7, 0.8)
        for f in (0.2, 0.4, 0.6)
    ]
    s_allowed = [g for g in s_grid if g[1] >= MIN_ALPHA and g[2] >= MIN_FLOOR]

    def s_cv(grid_subset, label):
        scores, picks = [], []
        for i, held in enumerate(fold_list):
            train = [q for j, f in enumerate(fold_list) if j != i for q in f]
            best = max(grid_subset, key=lambda g: s_ndcg(g, train))
            picks.append(best)
            scores.append(s_ndcg(best, held))
            log(f"[sentences {label}] fold {i}: picked {best} -> held-out {scores[-1]:.4f}")
        return scores, picks

    s_free, s_free_picks = s_cv(s_grid, "free")
    s_scores, s_picks = s_cv(s_allowed, "seq region")
    s_final = max(s_allowed, key=lambda g: s_ndcg(g, all_q))
    shipped = (settings.sentence_weight, settings.hybrid_alpha, settings.hybrid_lexical_floor)
    log(
        f"sentences: chosen on all train {s_final}; shipped {shipped} "
        f"train {s_ndcg(shipped, all_q):.4f}"
    )
    table = {
        f"{b}|{p.method}|{p.alpha}|{p.lexical_floor}|{p.rrf_k}|{c}": round(
            ndcg((b, p, c), all_q), 4
        )
        for b, p, c in grid
    }

    # 3. Final figures through the service with the SHIPPED settings (the same code path as
    #    `paperwire eval`), and the previous default (paper vectors only, alpha 0.7, floor 0.4)
    #    measured in the same run.
    lexical_weights.TITLE_BOOST = 0.25
    svc = SearchService(settings, db, background=False)
    results = {}
    for mode in ("lexical", "semantic", "hybrid"):
        t = time.perf_counter()
        results[mode] = ev.score(qrels, ev.run_mode(svc, queries, mode, progress=False))
        results[mode]["seconds"] = round(time.perf_counter() - t, 1)
    svc.close()
    import dataclasses

    svc = SearchService(
        dataclasses.replace(
            settings, sentence_weight=0.0, hybrid_alpha=0.7, hybrid_lexical_floor=0.4
        ),
        db,
        background=False,
    )
    for mode in ("semantic", "hybrid"):
        t = time.perf_counter()
        results[mode + " (paper vectors only)"] = ev.score(
            qrels, ev.run_mode(svc, queries, mode, progress=False)
        )
        results[mode + " (paper vectors only)"]["seconds"] = round(time.perf_counter() - t, 1)
    rrf_default = ev.score(qrels, fused_run(final[0], fusion.FusionParams("rrf", rrf_k=60), False))
    svc.close()

    # 4. The similarity floor: nonsense must return nothing, relevance must stay (per floor;
    #    the shipped one is settings.semantic_floor).
    floors = sorted(
        {
            *(
                float(f)
                for f in (args.floors.split(",") if args.floors else floor_bench.DEFAULT_FLOORS)
            ),
            float(settings.semantic_floor),
        }
    )
    svc = SearchService(settings, db, background=False)
    floor_result = floor_bench.floor_study(
        svc,
        queries,
        qrels,
        floor_bench.nonsense_queries(
            floor_bench.Vocabulary(floor_bench.corpus_texts(corpus)), args.nonsense
        ),
        floors,
    )
    floor_result["shipped_floor"] = float(settings.semantic_floor)
    svc.close()
    out = {
        "split": "train",
        "queries": len(queries),
        "results": results,
        "rrf_k60_baseline": rrf_default,
        "floor": floor_result,
        "cv_unconstrained": {
            "held_out_ndcg@10": [round(x, 4) for x in free_scores],
            "mean": round(sum(free_scores) / len(free_scores), 4),
            "picks": [
                [b, p.method, p.alpha, p.lexical_floor, p.rrf_k, c] for b, p, c in free_picks
            ],
        },
        "cv": {
            "folds": 5,
            "min_floor": MIN_FLOOR,
            "min_alpha": MIN_ALPHA,
            "held_out_ndcg@10": [round(x, 4) for x in cv_scores],
            "mean": round(sum(cv_scores) / len(cv_scores), 4),
            "picks": [[b, p.method, p.alpha, p.lexical_floor, p.rrf_k, c] for b, p, c in picks],
        },
        "chosen": {
            "title_boost": final[0],
            "method": final[1].method,
            "alpha": final[1].alpha,
            "lexical_floor": final[1].lexical_floor,
            "rrf_k": final[1].rrf_k,
            "score_completion": final[2],
        },
        "sentences": {
            "shipped": {
                "sentence_weight": shipped[0],
                "alpha": shipped[1],
                "lexical_floor": shipped[2],
                "train_ndcg@10": round(s_ndcg(shipped, all_q), 4),
            },
            "cv_seq_region": {
                "held_out_ndcg@10": [round(x, 4) for x in s_scores],
                "mean": round(sum(s_scores) / len(s_scores), 4),
                "picks": [list(p) for p in s_picks],
            },
            "cv_unconstrained": {
                "held_out_ndcg@10": [round(x, 4) for x in s_free],
                "mean": round(sum(s_free) / len(s_free), 4),
                "picks": [list(p) for p in s_free_picks],
            },
            "chosen_on_train_seq_region": list(s_final),
            "grid_ndcg@10": {"|".join(map(str, g)): round(s_ndcg(g, all_q), 4) for g in s_grid},
        },
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg": [round(x, 2) for x in __import__("os").getloadavg()],
        "grid_ndcg@10": table,
        "prepare_seconds": round(prep_s, 1),
    }
    Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json_out).write_text(json.dumps(out, indent=2))
    print(
        json.dumps(
            {
                k: out[k]
                for k in (
                    "results",
                    "rrf_k60_baseline",
                    "cv_unconstrained",
                    "cv",
                    "chosen",
                    "floor",
                )
            }
            | {"sentences": {k: v for k, v in out["sentences"].items() if k != "grid_ndcg@10"}},
            indent=2,
        )
    )

    if not args.out:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    Path(args.out).mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    modes = ["lexical", "semantic", "hybrid"]
    x = range(len(modes))
    axes[0].bar([i - 0.2 for i in x], [results[m]["ndcg@10"] for m in modes], 0.4, label="nDCG@10")
    axes[0].bar(
        [i + 0.2 for i in x], [results[m]["recall@100"] for m in modes], 0.4, label="Recall@100"
    )
    axes[0].set_xticks(list(x), modes)
    axes[0].set_ylim(0.5, 1.0)
    axes[0].set_title("SciFact train (809 queries)")
    axes[0].legend()
    alphas = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8]
    for floor in (0.0, 0.2, 0.4, 0.6):
        for complete in (False, True):
            axes[1].plot(
                alphas,
                [
                    ndcg(
                        (
                            final[0],
                            fusion.FusionParams("weighted", alpha=a, lexical_floor=floor),
                            complete,
                        ),
                        all_q,
                    )
                    for a in alphas
                ],
                marker="o" if complete else "x",
                ls="-" if complete else ":",
                label=f"floor {floor}{' +completion' if complete else ''}",
            )
    axes[1].axhline(rrf_default["ndcg@10"], color="gray", ls="--", label="RRF k=60")
    axes[1].set_xlabel("alpha (lexical weight)")
    axes[1].set_ylabel("nDCG@10")
    axes[1].set_title(f"Weighted fusion (title boost {final[0]})")
    axes[1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(Path(args.out) / "relevance_scifact.png", dpi=110)
    log(f"plot: {Path(args.out) / 'relevance_scifact.png'}")


# ---------------------------------------------------------------------------------------------
# Variant study (--variants): every idea measured with the same 5-fold CV over train queries.
# Each family's own parameters AND the fusion parameters (alpha, floor) are picked jointly on
# 4 folds and scored on the 5th, so a family with more knobs gets no free lunch.
# ---------------------------------------------------------------------------------------------

FUSION_GRID = [(a, f) for a in (0.5, 0.6, 0.7, 0.8) for f in (0.2, 0.4, 0.6)]
_LOG2 = [1.0 / math.log2(i + 2) for i in range(10)]


def ndcg10(ranked, rel):
    """Binary-gain nDCG@10 (SciFact judgements are all 1; equal to ranx's on this split)."""
    gain = sum(_LOG2[i] for i, (p, _) in enumerate(ranked[:10]) if p in rel)
    return gain / sum(_LOG2[: min(len(rel), 10)])


def recall100(ranked, rel):
    return len({p for p, _ in ranked[:100]} & set(rel)) / len(rel)


class Study:
    """Shared inputs of the variant study: pools, query vectors, the paper-vector matrix."""

    def __init__(self, qrels, lex_pool, sem_pool, vecs, ids, D, fold_list):
        import numpy as np

        self.np = np
        self.qrels, self.lex, self.sem = qrels, lex_pool, sem_pool
        self.qids = sorted(lex_pool)
        self.Q = {q: vecs[q] / max(float(np.linalg.norm(vecs[q])), 1e-12) for q in self.qids}
        self.ids, self.D = ids, D
        self.pos = {p: i for i, p in enumerate(ids)}
        self.folds = fold_list
        self.rows = []

    def exact(self, vec, k=100, matrix=None):
        """Exact top-k cosine over all papers (at 5k papers the ANN returns ~95 of these 100;
        variants that change the query vector are compared with exact search on both sides)."""
        np = self.np
        s = (self.D if matrix is None else matrix) @ vec
        top = np.argpartition(-s, k)[:k]
        top = top[np.argsort(-s[top], kind="stable")]
        return [(self.ids[i], float(s[i])) for i in top]

    def mean(self, per_q, qids):
        return sum(per_q[q] for q in qids) / len(qids)

    def family(self, name, grid, make, *, semantic=None, note=""):
        """``make(params)`` -> {qid: fused list}; ``semantic(params)`` -> {qid: semantic list}
        when the family changes the semantic side. Records CV and full-train figures."""
        cache = {}

        def per_q(g):
            if g not in cache:
                runs = make(g)
                cache[g] = (
                    {q: ndcg10(runs[q], self.qrels[q]) for q in self.qids},
                    {q: recall100(runs[q], self.qrels[q]) for q in self.qids},
                )
            return cache[g][0]

        scores, picks = [], []
        for i, held in enumerate(self.folds):
            train = [q for j, f in enumerate(self.folds) if j != i for q in f]
            best = max(grid, key=lambda g: self.mean(per_q(g), train))
            picks.append(best)
            scores.append(self.mean(per_q(best), held))
        best = max(grid, key=lambda g: self.mean(per_q(g), self.qids))
        row = {
            "variant": name,
            "note": note,
            "params": repr(best),
            "cv_hybrid_ndcg@10": round(sum(scores) / len(scores), 4),
            "cv_folds": [round(s, 4) for s in scores],
            "cv_picks": [repr(p) for p in picks],
            "train_hybrid_ndcg@10": round(self.mean(per_q(best), self.qids), 4),
            "train_hybrid_recall@100": round(self.mean(cache[best][1], self.qids), 4),
            "grid_size": len(grid),
        }
        if semantic is not None:
            sl = semantic(best)
            row["train_semantic_ndcg@10"] = round(
                self.mean({q: ndcg10(sl[q], self.qrels[q]) for q in self.qids}, self.qids), 4
            )
            row["train_semantic_recall@100"] = round(
                self.mean({q: recall100(sl[q], self.qrels[q]) for q in self.qids}, self.qids), 4
            )
        self.rows.append(row)
        log(
            f"[variant] {name}: CV {row['cv_hybrid_ndcg@10']} train {row['train_hybrid_ndcg@10']}"
            f" R@100 {row['train_hybrid_recall@100']} params {best}"
            + (f" semantic {row['train_semantic_ndcg@10']}" if semantic else "")
        )
        return row


def _minmax_arr(np, x, ref):
    lo, hi = float(ref.min()), float(ref.max())
    return (x - lo) / (hi - lo) if hi > lo else np.ones_like(x)


def run_variants(
    st: Study, *, lex_more=None, texts=None, sentence_vecs=None, title_sentence_vecs=None
):
    """Families of ideas for issue 3 target 1 (see docs/benchmarks.md for the outcome)."""
    np = st.np
    W = fusion.weighted
    qids, lex, sem = st.qids, st.lex, st.sem

    def fused_with(sem_lists):
        return lambda g: {q: W(lex[q], sem_lists(g)[q], g[-2], g[-1])[:100] for q in qids}

    # 0. Shipped: weighted min-max fusion of the ANN pools.
    st.family(
        "baseline (shipped: weighted, ANN semantic pool)",
        FUSION_GRID,
        lambda g: {q: W(lex[q], sem[q], *g)[:100] for q in qids},
    )
    exact0 = {q: st.exact(st.Q[q]) for q in qids}
    st.family(
        "baseline, exact semantic pool",
        FUSION_GRID,
        lambda g: {q: W(lex[q], exact0[q], *g)[:100] for q in qids},
        semantic=lambda g: exact0,
    )
    base_fused = {q: W(lex[q], sem[q], 0.7, 0.4) for q in qids}

    # 1. Semantic pseudo-relevance feedback (Rocchio): q + beta * mean(top-k stored vectors),
    #    one more exact search; top-k from the fused or the lexical list.
    cache = {}

    def rocchio(g):
        src, k, beta = g[:3]
        if (src, k, beta) not in cache:
            top_of = base_fused if src == "fused" else lex
            cache[(src, k, beta)] = {
                q: st.exact(st.Q[q] + beta * st.D[[st.pos[p] for p, _ in top_of[q][:k]]].mean(0))
                for q in qids
            }
        return cache[(src, k, beta)]

    grid = [
        (s, k, b, a, f)
        for s in ("fused", "lexical")
        for k in (1, 3, 5)
        for b in (0.25, 0.5, 1.0)
        for a, f in FUSION_GRID
    ]
    st.family(
        "semantic PRF (Rocchio)",
        grid,
        fused_with(rocchio),
        semantic=rocchio,
        note="source x k x beta x alpha x floor",
    )

    # 2. Centroid smoothing inside the candidate pool: fused + gamma * minmax(cos(paper,
    #    centroid of the top-k fused papers)); no new search.
    def smooth(g):
        k, gamma = g
        out = {}
        for q in qids:
            base = base_fused[q]
            c = st.D[[st.pos[p] for p, _ in base[:k]]].mean(0)
            sims = st.D[[st.pos[p] for p, _ in base]] @ c
            sims = _minmax_arr(np, sims, sims)
            out[q] = sorted(
                ((p, s + gamma * float(x)) for (p, s), x in zip(base, sims)),
                key=lambda kv: (-kv[1], kv[0]),
            )[:100]
        return out

    st.family(
        "pool centroid smoothing",
        [(k, gm) for k in (1, 3, 10) for gm in (0.05, 0.1, 0.2)],
        smooth,
        note="k x gamma on top of shipped fusion",
    )

    # 3. Fusion variants: z-score normalization; lexical scaled by its max only; weighted +
    #    lambda * RRF; score completion over the union (exact cosine of every lexical candidate,
    #    real BM25 of semantic ones, both min-max over the union).
    def generic(l, s, nl, ns, a, floor):  # noqa: E741 - l, s: lexical and semantic lists
        def norm(ranked, how):
            v = np.array([x for _, x in ranked], dtype=np.float64)
            if how == "z":
                sd = v.std()
                v = (v - v.mean()) / sd if sd > 0 else np.zeros_like(v)
            elif how == "max":
                v = v / v.max() if v.max() > 0 else np.ones_like(v)
            else:
                v = _minmax_arr(np, v, v)
            return {p: float(x) for (p, _), x in zip(ranked, v)}

        L, S = norm(l, nl), norm(s, ns)
        if floor:
            L = {p: floor + (1 - floor) * v for p, v in L.items()}
        out = {p: a * L.get(p, 0.0) + (1 - a) * S.get(p, 0.0) for p in set(L) | set(S)}
        return sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))[:100]

    st.family(
        "z-score normalization",
        [(a, 0.0) for a in (0.4, 0.5, 0.6, 0.7, 0.8)],
        lambda g: {q: generic(lex[q], sem[q], "z", "z", *g) for q in qids},
    )
    st.family(
        "lexical / max, semantic min-max",
        FUSION_GRID,
        lambda g: {q: generic(lex[q], sem[q], "max", "minmax", *g) for q in qids},
    )

    def with_rrf(g):
        lam, a, f = g
        out = {}
        for q in qids:
            w, r = dict(W(lex[q], sem[q], a, f)), dict(fusion.rrf(lex[q], sem[q], 10))
            out[q] = sorted(
                ((p, w[p] + lam * r[p] * 11 / 2) for p in w), key=lambda kv: (-kv[1], kv[0])
            )[:100]
        return out

    st.family(
        "weighted + lambda * RRF(k=10)",
        [(lam, a, f) for lam in (0.0, 0.05, 0.1, 0.2) for a, f in FUSION_GRID],
        with_rrf,
    )

    if lex_more is not None:

        def union(g):
            a, floor = g
            out = {}
            for q in qids:
                lpool = dict(lex[q])
                cand = list(dict.fromkeys([p for p, _ in lex[q]] + [p for p, _ in sem[q]]))
                cos = st.D[[st.pos[p] for p in cand]] @ st.Q[q]
                bm = np.array([lpool.get(p, lex_more[q].get(p, 0.0)) for p in cand])
                inlex = np.array([p in lpool for p in cand])
                S = _minmax_arr(np, cos, cos)
                L = _minmax_arr(np, bm, bm[inlex])
                L = np.where(inlex, floor + (1 - floor) * L, 0.0)
                sc = a * L + (1 - a) * S
                order = np.lexsort((np.array(cand), -sc))
                out[q] = [(cand[i], float(sc[i])) for i in order][:100]
            return out

        st.family(
            "score completion over the union (min-max over the union)",
            [(a, f) for a in (0.4, 0.5, 0.6, 0.7, 0.8) for f in (0.0, 0.2, 0.4)],
            union,
        )

    # 4. Query centering: search with q - gamma * (mean paper vector); ranking-equivalent to
    #    cosine of mean-centred vectors, but needs no index change.
    mu = st.D.mean(0)
    cen = {}

    def centred(g):
        if g[0] not in cen:
            cen[g[0]] = {q: st.exact(st.Q[q] - g[0] * mu) for q in qids}
        return cen[g[0]]

    st.family(
        "query centering",
        [(gm, a, f) for gm in (0.25, 0.5, 1.0) for a, f in FUSION_GRID],
        fused_with(centred),
        semantic=centred,
    )

    # 5. Lexical RM3 (expansion terms from the top-k BM25 papers), on a Python BM25 with the
    #    project's analyzer (body + 0.25 x title, no prefix/author fields), fused with the
    #    shipped semantic pool.
    if texts is not None:
        rm3_runs = _rm3_runs(st, texts)
        st.family(
            "lexical RM3 (python BM25)",
            [(k, m, w, a, f) for k, m, w in rm3_runs for a, f in FUSION_GRID],
            lambda g: {q: W(rm3_runs[g[:3]][q], sem[q], g[3], g[4])[:100] for q in qids},
            note="k x terms x weight (w=0: plain python BM25)",
        )

    # 6. Doc side (needs an index format change, so only measured here): each abstract
    #    sentence embedded too; a paper's semantic score = (cos(full) + lam * max cos(sentence))
    #    / (1 + lam), exact search.
    if sentence_vecs is not None:
        S_vecs, owner = sentence_vecs
        sent_cache = {}

        def sentences(g):
            lam = g[0]
            if lam not in sent_cache:
                out = {}
                for q in qids:
                    full = st.D @ st.Q[q]
                    smax = np.full(len(st.ids), -1.0, dtype=np.float32)
                    np.maximum.at(smax, owner, S_vecs @ st.Q[q])
                    s = (full + lam * smax) / (1 + lam)
                    top = np.argpartition(-s, 100)[:100]
                    top = top[np.argsort(-s[top], kind="stable")]
                    out[q] = [(st.ids[i], float(s[i])) for i in top]
                sent_cache[lam] = out
            return sent_cache[lam]

        st.family(
            "doc side: + max sentence cosine (index change; proposal)",
            [(lam, a, f) for lam in (0.25, 0.5, 1.0) for a, f in FUSION_GRID],
            fused_with(sentences),
            semantic=sentences,
        )

        # The same score, but only re-scoring the papers already in the ANN pool (no second
        # search: what a sentence-vector side table read at query time would cost).
        starts = np.searchsorted(owner, np.arange(len(st.ids) + 1))
        pool_cache = {}

        def pool_sentences(g):
            lam = g[0]
            if lam not in pool_cache:
                out = {}
                for q in qids:
                    rescored = []
                    for p, cos in sem[q]:
                        i = st.pos[p]
                        sv = S_vecs[starts[i] : starts[i + 1]] @ st.Q[q]
                        best = float(sv.max()) if len(sv) else cos
                        rescored.append((p, (cos + lam * best) / (1 + lam)))
                    out[q] = sorted(rescored, key=lambda kv: (-kv[1], kv[0]))
                pool_cache[lam] = out
            return pool_cache[lam]

        st.family(
            "doc side: max sentence cosine, re-scoring the ANN pool only (proposal)",
            [(lam, a, f) for lam in (0.25, 0.5, 1.0) for a, f in FUSION_GRID],
            fused_with(pool_sentences),
            semantic=pool_sentences,
        )

        # Both pools re-scored (score completion): every candidate of either side gets
        # (cos + lam * max sentence cos) / (1 + lam), min-max over the union; lexical as
        # shipped (min-max over its pool, floor). lam = 0 is plain cosine completion.
        ugrid = [(a, f) for a in (0.4, 0.5, 0.6, 0.7) for f in (0.2, 0.4)]
        union = _union_rescorer(st, lex, sem, S_vecs, starts)
        st.family(
            "doc side: both pools re-scored, lam = 1 (proposal)",
            [(1.0, a, f) for a, f in ugrid],
            union,
        )
        st.family(
            "doc side: both pools re-scored, lam tuned (proposal)",
            [(lam, a, f) for lam in (0.0, 0.5, 1.0, 2.0) for a, f in ugrid],
            union,
        )
        if title_sentence_vecs is not None:
            # Each sentence embedded with its paper's title in front ("Title. Sentence").
            union_t = _union_rescorer(st, lex, sem, title_sentence_vecs, starts)
            st.family(
                "doc side: title + sentence vectors, both pools re-scored (proposal)",
                [(lam, a, f) for lam in (0.5, 1.0, 2.0, 4.0) for a, f in ugrid],
                union_t,
            )
            st.family(
                "doc side: title + sentence, within the seq-rule region (alpha >= 0.6, "
                "floor >= 0.4)",
                [(lam, a, f) for lam in (1.0, 2.0, 4.0) for a in (0.6, 0.7) for f in (0.4, 0.6)],
                union_t,
            )
    return st.rows


def _union_rescorer(st: Study, lex, sem, S_vecs, starts):
    """``params (lam, alpha, floor)`` -> fused lists where every candidate of either pool has
    semantic score (cos + lam * max sentence cos) / (1 + lam), min-max over the union."""
    np = st.np
    pre = {}
    for q in st.qids:
        lpool = dict(lex[q])
        cand = list(dict.fromkeys([p for p, _ in lex[q]] + [p for p, _ in sem[q]]))
        rows_i = [st.pos[p] for p in cand]
        cos = st.D[rows_i] @ st.Q[q]
        best = np.array(
            [
                float((S_vecs[starts[i] : starts[i + 1]] @ st.Q[q]).max())
                if starts[i + 1] > starts[i]
                else cos[j]
                for j, i in enumerate(rows_i)
            ]
        )
        pre[q] = (
            cand,
            cos,
            best,
            np.array([p in lpool for p in cand]),
            np.array([lpool.get(p, 0.0) for p in cand]),
        )
    memo = {}

    def run(g):
        if g not in memo:
            lam, a, floor = g
            out = {}
            for q in st.qids:
                cand, cos, best, inlex, bm = pre[q]
                s = (cos + lam * best) / (1 + lam)
                sc = a * np.where(
                    inlex, floor + (1 - floor) * _minmax_arr(np, bm, bm[inlex]), 0.0
                ) + (1 - a) * _minmax_arr(np, s, s)
                order = np.lexsort((np.array(cand), -sc))
                out[q] = [(cand[i], float(sc[i])) for i in order][:100]
            memo[g] = out
        return memo[g]

    return run


def _rm3_runs(st: Study, texts):
    from collections import Counter

    from paperwire.search import analyzer

    np = st.np
    n = len(st.ids)
    body = [Counter(analyzer.stems(t + " " + a)) for t, a in texts]
    title = [Counter(analyzer.stems(t)) for t, _ in texts]

    def field(cnts):
        post = {}
        for i, c in enumerate(cnts):
            for t, tf in c.items():
                post.setdefault(t, []).append((i, tf))
        post = {
            t: (np.array([i for i, _ in p]), np.array([f for _, f in p], dtype=np.float64))
            for t, p in post.items()
        }
        lens = np.array([sum(c.values()) for c in cnts], dtype=np.float64)
        return post, lens, lens.mean()

    fields = [(field(body), 1.0), (field(title), lexical_weights.TITLE_BOOST)]

    def bm25(weights):
        s = np.zeros(n)
        for (post, lens, avg), boost in fields:
            for t, w in weights.items():
                if t not in post:
                    continue
                ii, tf = post[t]
                idf = math.log(1 + (n - len(ii) + 0.5) / (len(ii) + 0.5))
                s[ii] += boost * w * idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * lens[ii] / avg))
        return s

    def top(s):
        t = np.argpartition(-s, 100)[:100]
        t = t[np.argsort(-s[t], kind="stable")]
        return [(st.ids[i], float(s[i])) for i in t if s[i] > 0]

    runs = {}
    qterms = {q: Counter(analyzer.stems(st.texts[q])) for q in st.qids}
    base = {q: bm25(dict(qterms[q])) for q in st.qids}
    runs[(0, 0, 0.0)] = {q: top(base[q]) for q in st.qids}
    for k in (3, 10):
        for m in (10, 20):
            for w in (0.2, 0.4):
                out = {}
                for q in st.qids:
                    s = base[q]
                    tops = np.argsort(-s)[:k]
                    dw = np.exp(s[tops] - s[tops].max())
                    dw /= dw.sum()
                    exp = Counter()
                    for i, x in zip(tops, dw):
                        tot = sum(body[i].values())
                        for t, tf in body[i].items():
                            exp[t] += x * tf / tot
                    exp = dict(exp.most_common(m))
                    z, qz = sum(exp.values()), sum(qterms[q].values())
                    wts = Counter({t: (1 - w) * c / qz for t, c in qterms[q].items()})
                    for t, v in exp.items():
                        wts[t] += w * v / z
                    out[q] = top(bm25(dict(wts)))
                runs[(k, m, w)] = out
    return runs


SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")


def _sentences(docs):
    """(sentences, owning paper index) of every abstract, in paper order."""
    sents, owner = [], []
    for i, d in enumerate(docs):
        for s in SENTENCE_SPLIT.split(re.sub(r"\s+", " ", d.get("text", "")).strip()):
            if s:
                sents.append(s)
                owner.append(i)
    return sents, owner


def variants_main(args, svc, settings, corpus, queries, qrels, pqs, pools, sem_pool, vecs):
    import numpy as np

    from paperwire.search.filters import merge

    docs = [json.loads(line) for line in open(corpus, encoding="utf-8") if line.strip()]
    ids = [f"beir:{d['_id']}" for d in docs]
    sem = svc.semantic()
    D = np.stack([sem.vector(p) for p in ids]).astype(np.float32)  # stored int8, re-normalized
    lexical_weights.TITLE_BOOST = 0.25  # shipped boost (lexical/weights.py)
    lex_pool = pools[0.25][0]
    t = time.perf_counter()
    lex_more = {
        q: svc.lexical.score_ids(
            pqs[q],
            merge(pqs[q], None),
            [p for p, _ in sem_pool[q] if p not in {x for x, _ in lex_pool[q]}],
        )
        for q in pqs
    }
    completion_ms = (time.perf_counter() - t) / len(pqs) * 1000
    st = Study(qrels, lex_pool, sem_pool, vecs, ids, D, folds(list(queries)))
    st.texts = queries
    sentence_vecs = title_sentence_vecs = None
    if args.sentences:
        cache = Path(args.work) / "sentences.npz"
        if cache.exists():
            z = np.load(cache)
            sentence_vecs = (z["vecs"], z["owner"])
        else:
            from paperwire.search.embed import get_encoder

            sents, owner = _sentences(docs)
            t = time.perf_counter()
            vecs_s = get_encoder(settings).encode(sents, progress=True)
            log(f"{len(sents)} sentences embedded in {time.perf_counter() - t:.0f}s")
            sentence_vecs = (vecs_s, np.array(owner))
            np.savez(cache, vecs=vecs_s, owner=np.array(owner))
        tcache = Path(args.work) / "title_sentences.npy"
        if tcache.exists():
            title_sentence_vecs = np.load(tcache)
        else:
            from paperwire.search.embed import get_encoder, paper_text

            texts_ts = [
                paper_text(docs[o].get("title", ""), s)
                for o, s in zip(sentence_vecs[1].tolist(), _sentences(docs)[0])
            ]
            t = time.perf_counter()
            title_sentence_vecs = get_encoder(settings).encode(texts_ts, progress=True)
            log(
                f"{len(texts_ts)} title + sentence texts embedded in {time.perf_counter() - t:.0f}s"
            )
            np.save(tcache, title_sentence_vecs)
    ranx_check = ev.score(
        qrels,
        as_run({q: fusion.weighted(lex_pool[q], sem_pool[q], 0.7, 0.4)[:100] for q in lex_pool}),
    )
    rows = run_variants(
        st,
        lex_more=lex_more,
        texts=[(d.get("title", ""), d.get("text", "")) for d in docs],
        sentence_vecs=sentence_vecs,
        title_sentence_vecs=title_sentence_vecs,
    )
    # The study's own nDCG@10 must agree with ranx (the metric library of `paperwire eval`).
    assert abs(rows[0]["train_hybrid_ndcg@10"] - ranx_check["ndcg@10"]) < 1e-3, ranx_check
    out = {
        "split": "train",
        "queries": len(queries),
        "folds": 5,
        "fusion_grid": FUSION_GRID,
        "score_completion_ms_per_query": round(completion_ms, 2),
        "variants": rows,
        "measured_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "loadavg": [round(x, 2) for x in __import__("os").getloadavg()],
    }
    path = Path(args.json_out).with_name("relevance_variants.json")
    path.write_text(json.dumps(out, indent=2))
    print(json.dumps(rows, indent=1))
    log(f"written {path}")


if __name__ == "__main__":
    main()
