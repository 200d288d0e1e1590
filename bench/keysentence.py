"""The key sentence (summary/keysentence.py), measured on SciFact against simple baselines.

    python bench/keysentence.py [--data ../shared/data/scifact] [--work DIR] [--out docs/img]

What is measured. SciFact's claims were written from citing sentences and each cites abstracts
that support or refute it. The gold rationale annotations (which abstract sentences are the
evidence) are not in the BEIR copy under ../shared (corpus, claims, qrels only) and nothing
can be downloaded here, so the evidence sentence of a (claim, abstract) pair is taken as the
sentence with the largest share of the claim's content words (stop words dropped, words cut
to 6 letters; ties all count): a *lexical silver rationale*, built without the encoder the
scorer uses. Only pairs whose best sentence covers at least ``--min-overlap`` of the claim's
words are kept (clear evidence). An abstract's silver set is the union over the claims that
cite it. Figure: **hit rate** = share of abstracts whose chosen sentence is in their silver
set; also the claim-word coverage of the chosen sentence (continuous, no cut-off).

What it means. The evidence for a claim is a finding of the paper, which is close to but not
the same as "the contribution" a reader wants from a one-line summary (a method sentence can
be the contribution and evidence for no claim). So the figure says how often the chosen line
carries the paper's checkable result, against first sentence, last sentence and a random
sentence (its expectation, |silver| / n per abstract), all measured in the same run.

Honest split. Abstracts are split by a hash of their id: the *tuning* half chooses the
weights (a small grid), the *held-out* half reports every figure. Vectors are the product's:
``embedding_jobs._encode_batch`` over the abstracts (paper text + "Title. Sentence" texts),
cached in ``--work``. Also timed (same run, loaded machine): choosing with vectors and by the
rule, per abstract.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

STOP = frozenset(
    """a an the of in on at to for by with from and or not no is are was were be
been being that this these those it its as than then there their which who whom whose what
when where while into onto over under between among about after before during via per can
could may might will would shall should do does did has have had more most less least such
both each other only also very all any some""".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def stems(text: str) -> set[str]:
    return {w[:6] for w in _WORD.findall(text.lower()) if w not in STOP and len(w) > 1}


def coverage(claim: set[str], sentence: str) -> float:
    return len(claim & stems(sentence)) / len(claim) if claim else 0.0


def half(doc_id: str) -> str:
    return "tune" if hashlib.sha1(doc_id.encode()).digest()[0] % 2 == 0 else "test"


def load(data: Path, min_overlap: float):
    from paperwire.search.sentences import split_sentences

    corpus = {}
    with open(data / "corpus.jsonl") as fh:
        for line in fh:
            d = json.loads(line)
            corpus[str(d["_id"])] = d
    claims = {}
    with open(data / "queries_train.jsonl") as fh:
        for line in fh:
            q = json.loads(line)
            claims[str(q["_id"])] = q["text"]
    cited: dict[str, list[str]] = {}
    with open(data / "qrels_train.tsv") as fh:
        next(fh)
        for line in fh:
            qid, did, score = line.split("\t")[:3]
            if int(score) > 0 and qid in claims and did in corpus:
                cited.setdefault(did, []).append(qid)
    items, dropped = [], 0
    for did, qids in sorted(cited.items()):
        sents = split_sentences(corpus[did].get("text", ""))
        if len(sents) < 2:
            continue
        silver: set[int] = set()
        cover = []
        for qid in qids:
            cs = stems(claims[qid])
            covs = [coverage(cs, s) for s in sents]
            best = max(covs)
            if best < min_overlap:
                dropped += 1
                continue
            silver |= {i for i, c in enumerate(covs) if c == best}
            cover.append(covs)
        if silver:
            items.append(
                {
                    "id": did,
                    "title": corpus[did].get("title", ""),
                    "abstract": corpus[did].get("text", ""),
                    "sentences": sents,
                    "silver": sorted(silver),
                    "coverage": cover,
                    "half": half(did),
                }
            )
    return items, dropped, len(cited)


def encode(items, work: Path):
    """Paper vectors and sentence vectors of the items, cached in ``work``."""
    import numpy as np

    from paperwire.config import load_settings
    from paperwire.search.embed import get_encoder, paper_text
    from paperwire.search.embedding_jobs import _encode_batch
    from paperwire.store.embeddings import PendingPaper

    settings = load_settings(env={}, data_dir=work, database_url="", load_demo_data=False)
    enc = get_encoder(settings)
    key = hashlib.sha1((enc.model_id + "|" + "|".join(i["id"] for i in items)).encode())
    cache = work / f"keysentence-{key.hexdigest()[:16]}.npz"
    if cache.exists():
        z = np.load(cache)
        pv, sv, counts = z["paper"], z["sent"], z["counts"]
    else:
        pending = [PendingPaper(i["id"], i["title"], i["abstract"], "x") for i in items]
        pvs, svs, counts = [], [], []
        from tqdm import tqdm

        for start in tqdm(range(0, len(pending), 64), desc="embedding abstracts", file=sys.stderr):
            vecs, rows = _encode_batch(enc, paper_text, pending[start : start + 64])
            pvs.append(vecs)
            for _pid, _h, s in rows:
                svs.append(s)
                counts.append(len(s))
        pv, sv, counts = np.vstack(pvs), np.vstack(svs), np.array(counts)
        np.savez(cache, paper=pv, sent=sv, counts=counts)
    out, start = [], 0
    for _item, p, n in zip(items, pv, counts):
        out.append((p, sv[start : start + n]))
        start += n
    return out, enc.model_id


def features(items, vectors):
    """Per abstract: (z to paper, z to mean, contribution, finding, background, eligible)."""
    import numpy as np

    from paperwire.summary.keysentence import MIN_WORDS, centrality, cues

    feats = []
    for item, (p, s) in zip(items, vectors):
        assert len(s) == len(item["sentences"]), item["id"]
        c = np.array([cues(x) for x in item["sentences"]], dtype=np.float32)
        elig = np.array([len(x.split()) >= MIN_WORDS for x in item["sentences"]])
        if not elig.any():
            elig[:] = True
        feats.append(
            (centrality(s, p, "paper"), centrality(s, p, "mean"), c[:, 0], c[:, 1], c[:, 2], elig)
        )
    return feats


def choose(f, w) -> int:
    import numpy as np

    zp, zm, c, fi, b, elig = f
    n = len(c)
    score = (
        w["centrality"] * (zp if w["reference"] == "paper" else zm)
        + w["contribution"] * c
        + w["finding"] * fi
        + w["background"] * b
    )
    score = score.astype(np.float64).copy()
    score[0] += w["first"]
    if n > 1:
        score[-1] += w["last"]
    score[~elig] = -np.inf
    return int(np.argmax(score))  # first maximum: ties to the earlier sentence


def evaluate(items, feats, idx, pick):
    if not idx:
        return {"hit_rate": 0.0, "hit_rate_95ci": [0.0, 0.0], "claim_coverage": 0.0, "n": 0}
    hits, cov = 0, 0.0
    for i in idx:
        k = pick(i)
        hits += k in items[i]["silver"]
        cov += sum(c[k] for c in items[i]["coverage"]) / len(items[i]["coverage"])
    lo, hi = wilson(hits, len(idx))
    return {
        "hit_rate": round(hits / len(idx), 4),
        "hit_rate_95ci": [round(lo, 4), round(hi, 4)],
        "claim_coverage": round(cov / len(idx), 4),
        "n": len(idx),
    }


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion k/n."""
    if n == 0:
        return 0.0, 0.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    spread = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return centre - spread, centre + spread


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "scifact"))
    ap.add_argument("--work", default="/tmp/pwkeysentence")
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"), help="plot dir ('' for none)")
    ap.add_argument("--json-out", default=str(ROOT / "bench" / "results" / "keysentence.json"))
    ap.add_argument("--min-overlap", type=float, default=0.4)
    args = ap.parse_args(argv)

    import numpy as np

    from paperwire.summary.keysentence import DEFAULT_WEIGHTS, RULE_WEIGHTS, pick

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    items, dropped, n_cited = load(Path(args.data), args.min_overlap)
    log(
        f"{n_cited} cited abstracts; {len(items)} with >= 2 sentences and a silver rationale "
        f"({dropped} claim-abstract pairs under {args.min_overlap:.0%} claim-word coverage)"
    )
    vectors, model_id = encode(items, work)
    feats = features(items, vectors)
    tune = [i for i, it in enumerate(items) if it["half"] == "tune"]
    test = [i for i, it in enumerate(items) if it["half"] == "test"]

    grid = {
        "centrality": [0.0, 0.5, 1.0, 2.0],
        "contribution": [0.0, 0.5, 1.0, 2.0],
        "finding": [0.0, 0.5, 1.0, 2.0],
        "first": [0.0, -0.5, -1.0, -2.0],
        "last": [0.0, 0.5, 1.0],
        "background": [0.0, -1.0],
        "reference": ["paper", "mean"],
    }

    def search(with_vectors: bool):
        """The grid point with the best tuning-half hit rate (ties: the first in grid order,
        i.e. the smaller weights)."""
        best, best_hit = None, -1.0
        for values in itertools.product(*grid.values()):
            w = dict(zip(grid, values))
            if with_vectors == (w["centrality"] == 0) or (
                w["centrality"] == 0 and w["reference"] == "mean"
            ):
                continue
            hit = evaluate(items, feats, tune, lambda i, w=w: choose(feats[i], w))["hit_rate"]
            if hit > best_hit + 1e-12:
                best, best_hit = w, hit
        log(
            f"tuned on {len(tune)} abstracts ({'with' if with_vectors else 'no'} vectors): "
            f"{best} (hit {best_hit:.3f})"
        )
        return best

    best, best_rule = search(True), search(False)
    shipped = {k: getattr(DEFAULT_WEIGHTS, k) for k in grid}
    rule = {k: getattr(RULE_WEIGHTS, k) for k in grid}

    methods = {
        "first sentence": lambda i: 0,
        "last sentence": lambda i: len(items[i]["sentences"]) - 1,
        "centrality only (paper vector)": lambda i: choose(
            feats[i],
            dict(
                shipped,
                centrality=1.0,
                contribution=0.0,
                finding=0.0,
                first=0.0,
                last=0.0,
                background=0.0,
                reference="paper",
            ),
        ),
        "centrality only (mean of sentences)": lambda i: choose(
            feats[i],
            dict(
                shipped,
                centrality=1.0,
                contribution=0.0,
                finding=0.0,
                first=0.0,
                last=0.0,
                background=0.0,
                reference="mean",
            ),
        ),
        "shipped rule: cues + position, no vectors (fallback)": lambda i: choose(feats[i], rule),
        "shipped: centrality + cues + position": lambda i: choose(feats[i], shipped),
        "grid best on the tuning half (no vectors)": lambda i: choose(feats[i], best_rule),
        "grid best on the tuning half (vectors)": lambda i: choose(feats[i], best),
    }
    results = {}
    for name, fn in methods.items():
        results[name] = {
            "tune": evaluate(items, feats, tune, fn),
            "test": evaluate(items, feats, test, fn),
        }
    for part, idx in (("tune", tune), ("test", test)):
        if not idx:
            continue
        exp = sum(len(items[i]["silver"]) / len(items[i]["sentences"]) for i in idx) / len(idx)
        cov = sum(np.mean([np.mean(c) for c in items[i]["coverage"]]) for i in idx) / len(idx)
        results.setdefault("random sentence (expected)", {})[part] = {
            "hit_rate": round(exp, 4),
            "claim_coverage": round(float(cov), 4),
            "n": len(idx),
        }

    # The product's own code path agrees with the bench's vectorised choice.
    agree = sum(
        pick(items[i]["abstract"], vectors[i][1], vectors[i][0]).index == choose(feats[i], shipped)
        for i in test
    )
    agree += sum(pick(items[i]["abstract"]).index == choose(feats[i], rule) for i in test)

    # Cost per abstract (loaded machine, same run): the product's pick with and without vectors.
    sample = test[:200] or tune[:200]
    t = time.perf_counter()
    for i in sample:
        pick(items[i]["abstract"], vectors[i][1], vectors[i][0])
    vec_ms = (time.perf_counter() - t) * 1000 / len(sample)
    t = time.perf_counter()
    for i in sample:
        pick(items[i]["abstract"])
    rule_ms = (time.perf_counter() - t) * 1000 / len(sample)

    # Baseline, same run: splitting the abstract alone (what the embedder already does per
    # paper, and the floor of any sentence-level choice).
    from paperwire.search.sentences import split_sentences

    t = time.perf_counter()
    for i in sample:
        split_sentences(items[i]["abstract"])
    split_ms = (time.perf_counter() - t) * 1000 / len(sample)

    report = {
        "model": model_id,
        "min_overlap": args.min_overlap,
        "cited_abstracts": n_cited,
        "abstracts": len(items),
        "dropped_pairs": dropped,
        "mean_sentences": round(sum(len(it["sentences"]) for it in items) / len(items), 2),
        "mean_silver": round(sum(len(it["silver"]) for it in items) / len(items), 2),
        "tuning_abstracts": len(tune),
        "test_abstracts": len(test),
        "grid_best": best,
        "grid_best_rule": best_rule,
        "shipped_weights": shipped,
        "shipped_rule_weights": rule,
        "results": results,
        "product_pick_agrees_with_bench": f"{agree}/{2 * len(test)}",
        "cost_ms_per_abstract": {
            "with_vectors": round(vec_ms, 3),
            "rule": round(rule_ms, 3),
            "baseline_split_sentences": round(split_ms, 3),
            "loadavg_1min": round(os.getloadavg()[0], 2),
        },
    }
    print(json.dumps(report, indent=2))
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n")
    if args.out:
        plot(results, Path(args.out) / "keysentence_scifact.png", len(test))


def plot(results, path: Path, n_test: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    vals = [results[n]["test"]["hit_rate"] * 100 for n in names]
    order = sorted(range(len(names)), key=lambda i: vals[i])
    fig, ax = plt.subplots(figsize=(9.5, 3.8))
    lo = [
        vals[i] - 100 * results[names[i]]["test"].get("hit_rate_95ci", [vals[i] / 100] * 2)[0]
        for i in order
    ]
    hi = [
        100 * results[names[i]]["test"].get("hit_rate_95ci", [vals[i] / 100] * 2)[1] - vals[i]
        for i in order
    ]
    ax.barh(
        [names[i] for i in order],
        [vals[i] for i in order],
        color="#4c72b0",
        xerr=[lo, hi],
        error_kw={"ecolor": "#888", "capsize": 2, "lw": 0.8},
    )
    for y, i in enumerate(order):
        ax.text(1, y, f"{vals[i]:.1f}%", va="center", fontsize=8, color="white")
    ax.set_xlabel(
        f"chosen sentence is a silver rationale: % of {n_test} held-out abstracts (bars: 95 % CI)",
        fontsize=9,
    )
    ax.set_title("Key sentence on SciFact (held-out half)", fontsize=10)
    ax.set_xlim(0, 45)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
