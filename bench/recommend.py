"""Offline evaluation of the recommender (issue 13 B) on real arXiv records, with baselines.

Simulated members whose interest is a real structure in the data:
- *category* members: a fine-grained arXiv category (one whose share of the evaluation
  period is between 0.3 % and 5 %, so neither trivial nor empty); relevant = the paper lists
  that category (primary or cross-list);
- *co-author* members: an author and everyone who co-wrote a paper with them before the
  split (papers of at most 15 authors); relevant = a paper by anyone in that circle.

Each member "saves" k papers (k = 1, 3, 10, 30) drawn at random from their interest before
the split (``--split``), twice (two draws, ``--draws``); every method ranks the same
candidates: all papers of the evaluation period (``--split`` .. ``--until``), and is scored
by precision@10 and nDCG@10 (binary relevance). Methods, all in the same run:
- ``recommender``: paperwire.recommend.engine (linear model on vectors + hashed TF-IDF,
  categories and authors; with fewer than 3 positives its cold start: nearest neighbours);
- ``cosine to mean``: cosine of each candidate to the mean vector of the positives;
- ``most recent``: newest first (by first-listing day, then id: arXiv's announcement order);
- ``most upvoted``: the data has no votes. Votes are modelled as independent of the member's
  interest, i.e. a random order of the candidates (seeded): any interest-blind popularity
  ranking has this expected precision (the share of relevant candidates).

Vectors: the project's encoder (search/embed.py, default model and backend) embeds only the
papers the run needs (the candidates, the members' drawn positives, the sampled negatives),
cached under ``--work`` (vectors.npz) so a rerun embeds nothing.

Cost (``--cost-members``): training one member's model on 300 positives + 500 negatives, and
scoring one day's candidates for N simulated members (models trained on real members, reused
round robin), against the cosine-to-mean baseline in the same run. Single-threaded BLAS.

    python bench/recommend.py --work /tmp/recbench [--json-out bench/results/recommend.json]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from paperwire.recommend import engine  # noqa: E402
from paperwire.recommend.features import PaperText, build_features  # noqa: E402
from paperwire.recommend.model import train  # noqa: E402

_SAMPLE = Path("data") / "arxiv" / "real" / "arxiv-2025-2026.sample.jsonl.gz"
# ../shared beside the clone (a worktree one level further down finds it one more level up).
DEFAULT_DATA = next(
    (
        p / "shared" / _SAMPLE
        for p in (ROOT.parent, ROOT.parent.parent)
        if (p / "shared" / _SAMPLE).exists()
    ),
    ROOT.parent / "shared" / _SAMPLE,
)
METHODS = (
    "recommender",
    "recommender, words + vectors only",
    "cosine to mean",
    "most recent",
    "most upvoted",
)
MAX_CIRCLE_PAPER_AUTHORS = 15


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def read_records(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    out = []
    with opener(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            r = json.loads(line)
            out.append(
                {
                    "id": r["id"],
                    "title": r.get("title") or "",
                    "abstract": r.get("abstract") or "",
                    "day": (r.get("update_date") or "")[:10],
                    "categories": tuple((r.get("categories") or "").split()),
                    "authors": tuple(
                        a.strip() for a in (r.get("authors") or "").split(",") if a.strip()
                    ),
                }
            )
    return out


def category_members(history, evaluation, n, rng, min_history=30, shares=(0.003, 0.05)):
    share = Counter(c for r in evaluation for c in set(r["categories"]))
    hist = Counter(c for r in history for c in set(r["categories"]))
    total = max(len(evaluation), 1)
    ok = sorted(
        c
        for c, k in share.items()
        if shares[0] <= k / total <= shares[1] and hist[c] >= min_history and k >= 5
    )
    rng.shuffle(ok)
    members = []
    for c in ok[:n]:
        members.append(
            {
                "kind": "category",
                "name": c,
                "history": [r["id"] for r in history if c in r["categories"]],
                "relevant": {r["id"] for r in evaluation if c in r["categories"]},
            }
        )
    return members


def coauthor_members(history, evaluation, n, rng, min_history=10, min_relevant=3):
    by_author = defaultdict(list)
    for r in history:
        if len(r["authors"]) <= MAX_CIRCLE_PAPER_AUTHORS:
            for a in r["authors"]:
                by_author[a].append(r)
    seeds = sorted(a for a, rs in by_author.items() if len(rs) >= 4)
    rng.shuffle(seeds)
    members = []
    for a in seeds:
        circle = {a} | {x for r in by_author[a] for x in r["authors"]}
        hist = [r["id"] for r in history if circle.intersection(r["authors"])]
        rel = {r["id"] for r in evaluation if circle.intersection(r["authors"])}
        if len(hist) >= min_history and len(rel) >= min_relevant:
            members.append({"kind": "co-author", "name": a, "history": hist, "relevant": rel})
        if len(members) >= n:
            break
    return members


def ndcg_at(ranked, relevant, k=10):
    dcg = sum(1 / math.log2(i + 2) for i, p in enumerate(ranked[:k]) if p in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def precision_at(ranked, relevant, k=10):
    return sum(1 for p in ranked[:k] if p in relevant) / k


def embed_needed(records_by_id, ids, work: Path, encoder_factory):
    cache = work / "vectors.npz"
    have: dict[str, np.ndarray] = {}
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        have = dict(zip(z["ids"].tolist(), z["vectors"]))
    missing = [i for i in ids if i not in have]
    if missing:
        from paperwire.search.embed import paper_text

        enc = encoder_factory()
        log(f"embedding {len(missing)} papers ({len(have)} cached)")
        t = time.perf_counter()
        texts = [
            paper_text(records_by_id[i]["title"], records_by_id[i]["abstract"]) for i in missing
        ]
        vecs = enc.encode(texts, progress=True)
        log(f"  {len(missing) / (time.perf_counter() - t):.1f} papers/s")
        have.update(zip(missing, vecs))
        all_ids = sorted(have)
        np.savez(cache, ids=np.array(all_ids), vectors=np.stack([have[i] for i in all_ids]))
    return have


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--work", required=True, help="cache dir (vectors.npz, models/)")
    ap.add_argument("--split", default="2026-06-01")
    ap.add_argument("--until", default="2026-06-15")
    ap.add_argument("--categories", type=int, default=30)
    ap.add_argument("--coauthors", type=int, default=30)
    ap.add_argument("--ks", default="1,3,10,30")
    ap.add_argument("--draws", type=int, default=2)
    ap.add_argument("--negatives", type=int, default=500)
    ap.add_argument("--cost-members", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument(
        "--min-history",
        type=int,
        default=30,
        help="past papers a category member needs (smaller for tiny inputs)",
    )
    ap.add_argument(
        "--max-share",
        type=float,
        default=0.05,
        help="largest share of the candidates a member's category may have",
    )
    ap.add_argument("--json-out", default="")
    ap.add_argument("--plot", default="", help="PNG of nDCG@10 per k and method")
    args = ap.parse_args(argv)
    ks = [int(k) for k in args.ks.split(",")]
    rng = random.Random(args.seed)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)

    t0 = time.perf_counter()
    records = read_records(Path(args.data))
    by_id = {r["id"]: r for r in records}
    history = [r for r in records if r["day"] < args.split]
    evaluation = [r for r in records if args.split <= r["day"] < args.until]
    log(
        f"{len(records)} records: {len(history)} before {args.split}, {len(evaluation)} "
        f"candidates {args.split}..{args.until}"
    )
    members = category_members(
        history,
        evaluation,
        args.categories,
        rng,
        min_history=args.min_history,
        shares=(0.003, args.max_share),
    ) + coauthor_members(history, evaluation, args.coauthors, rng)
    log(f"{len(members)} members: {Counter(m['kind'] for m in members)}")
    kmax = max(ks)
    for m in members:
        m["draws"] = [
            rng.sample(m["history"], min(kmax, len(m["history"]))) for _ in range(args.draws)
        ]
    neg_pool = rng.sample([r["id"] for r in history], min(args.negatives, len(history)))
    candidates = [r["id"] for r in evaluation]
    needed = list(
        dict.fromkeys(candidates + neg_pool + [p for m in members for d in m["draws"] for p in d])
    )

    def encoder_factory():
        from paperwire.config import load_settings
        from paperwire.search.embed import get_encoder

        return get_encoder(
            load_settings(env={}, data_dir=work, database_url="", load_demo_data=False)
        )

    t = time.perf_counter()
    vectors = embed_needed(by_id, needed, work, encoder_factory)
    embed_s = time.perf_counter() - t
    papers = [
        PaperText(
            i, by_id[i]["title"], by_id[i]["abstract"], by_id[i]["categories"], by_id[i]["authors"]
        )
        for i in needed
    ]
    t = time.perf_counter()
    X = build_features(papers, vectors)
    feat_s = time.perf_counter() - t
    # Ablation: the same model without the category and author features, since category
    # members' interest *is* a category (the full model may just read the label).
    from paperwire.recommend import features as feats

    saved_weights = dict(feats.GROUP_WEIGHTS)
    feats.GROUP_WEIGHTS.update(cat=0.0, author=0.0)
    try:
        X_plain = build_features(papers, vectors)
    finally:
        feats.GROUP_WEIGHTS.update(saved_weights)
    log(f"features of {len(papers)} papers in {feat_s:.1f}s")
    idx = X.index()
    cand_rows = np.array([idx[c] for c in candidates])
    recent = sorted(candidates, key=lambda i: (by_id[i]["day"], i), reverse=True)

    per = defaultdict(list)  # (kind, k, method) -> [(p, ndcg)]
    for m in members:
        for d_i, draw in enumerate(m["draws"]):
            for k in ks:
                if k > len(draw):
                    continue
                pos = draw[:k]
                sig = engine.Signals(
                    positives=[engine.Positive(p, "saved", by_id[p]["title"]) for p in pos]
                )
                recs = engine.recommend(X, candidates, sig, neg_pool, limit=10)
                ranked = {"recommender": [r.paper_id for r in recs]}
                plain = engine.recommend(X_plain, candidates, sig, neg_pool, limit=10)
                ranked["recommender, words + vectors only"] = [r.paper_id for r in plain]
                mean = X.dense[[idx[p] for p in pos]].mean(axis=0)
                cos = X.dense[cand_rows] @ mean
                ranked["cosine to mean"] = [candidates[i] for i in np.argsort(-cos)[:10]]
                ranked["most recent"] = recent[:10]
                shuffled = candidates[:]
                random.Random(f"{args.seed}-{m['name']}-{d_i}").shuffle(shuffled)
                ranked["most upvoted"] = shuffled[:10]
                for meth, lst in ranked.items():
                    per[(m["kind"], k, meth)].append(
                        (precision_at(lst, m["relevant"]), ndcg_at(lst, m["relevant"]))
                    )
    quality = {}
    for kind in ("category", "co-author", "all"):
        quality[kind] = {}
        for k in ks:
            quality[kind][str(k)] = {}
            for meth in METHODS:
                vals = (
                    [v for kk in ("category", "co-author") for v in per[(kk, k, meth)]]
                    if kind == "all"
                    else per[(kind, k, meth)]
                )
                if vals:
                    quality[kind][str(k)][meth] = {
                        "precision@10": round(float(np.mean([v[0] for v in vals])), 4),
                        "ndcg@10": round(float(np.mean([v[1] for v in vals])), 4),
                        "n": len(vals),
                    }
    for kind, rows in quality.items():
        for k, meths in rows.items():
            line = "  ".join(
                f"{m}: P@10 {v['precision@10']:.3f} nDCG {v['ndcg@10']:.3f}"
                for m, v in meths.items()
            )
            log(
                f"{kind:9s} k={k:>2s} (n={next(iter(meths.values()))['n'] if meths else 0})  {line}"
            )

    dup = near_duplicate_check(X, by_id, rng)
    cost = measure_cost(X, members, neg_pool, candidates, by_id, args, rng)
    result = {
        "records": len(records),
        "history": len(history),
        "candidates": len(candidates),
        "split": args.split,
        "until": args.until,
        "members": Counter(m["kind"] for m in members),
        "draws": args.draws,
        "negatives": len(neg_pool),
        "embedded": len(needed),
        "embed_seconds": round(embed_s, 1),
        "feature_seconds": round(feat_s, 2),
        "quality": quality,
        "near_duplicates": dup,
        "cost": cost,
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "cpus": os.cpu_count(),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    text = json.dumps(result, indent=2, default=dict)
    print(text)
    if args.json_out:
        Path(args.json_out).write_text(text + "\n")
    if args.plot:
        plot(quality, ks, args.plot)


def near_duplicate_check(X, by_id, rng, pairs=20_000):
    """Share of random same-category pairs of embedded papers at or above the threshold."""
    from paperwire.recommend.reasons import NEAR_DUPLICATE_COSINE

    by_cat = defaultdict(list)
    for i, pid in enumerate(X.ids):
        if X.has_vector[i] and by_id[pid]["categories"]:
            by_cat[by_id[pid]["categories"][0]].append(i)
    groups = [g for g in by_cat.values() if len(g) >= 2]
    if not groups:
        return {}
    sims = []
    for _ in range(pairs):
        g = rng.choice(groups)
        a, b = rng.sample(g, 2)
        sims.append(float(X.dense[a] @ X.dense[b]))
    sims = np.array(sims)
    return {
        "threshold": NEAR_DUPLICATE_COSINE,
        "same_category_pairs": len(sims),
        "share_at_or_above": round(float((sims >= NEAR_DUPLICATE_COSINE).mean()), 5),
        "p99_cosine": round(float(np.quantile(sims, 0.99)), 3),
        "max_cosine": round(float(sims.max()), 3),
    }


def measure_cost(X, members, neg_pool, candidates, by_id, args, rng):
    if not args.cost_members:
        return {}
    idx = X.index()
    # One member with a few hundred positives: the largest interest, up to 300 of its papers.
    big = max(members, key=lambda m: len(m["history"]))
    pos = [p for p in big["history"] if p in idx][:300]
    if len(pos) < 300:
        pos = list(
            dict.fromkeys(pos + [p for m in members for d in m["draws"] for p in d if p in idx])
        )[:300]
    neg = [n for n in neg_pool if n not in set(pos)][:500]
    rows = np.array([idx[p] for p in pos] + [idx[n] for n in neg])
    labels = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    Xt = X.take(rows)
    times, base = [], []
    for _ in range(5):
        t = time.perf_counter()
        model = train(Xt, labels)
        times.append(time.perf_counter() - t)
        t = time.perf_counter()
        X.dense[[idx[p] for p in pos]].mean(axis=0)
        base.append(time.perf_counter() - t)
    # A day's candidates: the most common day of the evaluation period.
    days = Counter(by_id[c]["day"] for c in candidates)
    day = days.most_common(1)[0][0]
    day_rows = np.array([idx[c] for c in candidates if by_id[c]["day"] == day])
    Xd = X.take(day_rows)
    models = []
    for m in members[:20]:
        p = [x for x in m["draws"][0] if x in idx]
        r = np.array([idx[x] for x in p] + [idx[n] for n in neg])
        models.append(train(X.take(r), np.r_[np.ones(len(p)), np.zeros(len(neg))]))
    n = args.cost_members
    t = time.perf_counter()
    for i in range(n):
        s = models[i % len(models)].score(Xd)
        np.argpartition(-s, min(10, len(s) - 1))[:10]
    score_s = time.perf_counter() - t
    means = np.stack(
        [X.dense[[idx[x] for x in m["draws"][0] if x in idx]].mean(axis=0) for m in members[:20]]
    )
    t = time.perf_counter()
    for start in range(0, n, 1000):
        W = means[np.arange(start, min(n, start + 1000)) % len(means)]
        s = W @ Xd.dense.T
        np.argpartition(-s, min(10, s.shape[1] - 1), axis=1)[:, :10]
    base_s = time.perf_counter() - t
    return {
        "train_positives": len(pos),
        "train_negatives": len(neg),
        "train_one_member_ms_median": round(1000 * float(np.median(times)), 1),
        "baseline_mean_vector_ms_median": round(1000 * float(np.median(base)), 3),
        "day": day,
        "day_candidates": int(len(day_rows)),
        "members_scored": n,
        "score_all_members_s": round(score_s, 2),
        "baseline_cosine_all_members_s": round(base_s, 3),
        "nightly_estimate_s": round(n * float(np.median(times)) + score_s, 0),
        "model_numbers": int(len(model.weights)) + 1,
        "train_iterations": model.iterations,
    }


def plot(quality, ks, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # Separate y scales: co-author members sit near 0.1, category members near 1.
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, kind in zip(axes, ("category", "co-author")):
        for meth in METHODS:
            xs = [k for k in ks if meth in quality[kind].get(str(k), {})]
            ax.plot(
                xs, [quality[kind][str(k)][meth]["ndcg@10"] for k in xs], marker="o", label=meth
            )
        ax.set_xscale("log")
        ax.set_xticks(ks)
        ax.set_xticklabels([str(k) for k in ks])
        ax.set_xlabel("papers saved (k)")
        ax.set_title(f"{kind} members")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("nDCG@10")
    axes[1].set_ylabel("nDCG@10")
    axes[0].legend()
    fig.suptitle("Recommendations on real arXiv records (later period's papers)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
