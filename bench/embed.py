"""Embedding throughput and quality: plain sentence-transformers fp32 (baseline) vs the fast
ONNX paths, measured in the same run on the same SciFact abstracts.

    /work/tools/quiet python bench/embed.py --phase speed     # short, timing-sensitive
    /work/tools/busy python bench/embed.py --phase quality    # long, load-independent

Throughput: abstracts/s of ``Encoder.encode`` (tokenization included) on a fixed sample of
``--speed-docs`` abstracts (every k-th of the corpus), after a warm-up. The baseline and every
variant get the same cores (torch.set_num_threads / ORT intra-op threads / OpenVINO streams x
threads = cores), the same
abstracts and the same 256-token limit unless the variant names a lower one. Variants are
measured in interleaved rounds (each round runs every variant once, in rotated order); the
speed-up is the median over rounds of variant/baseline within the same round; abstracts per
CPU-second of this process is reported beside it.
Quality: nDCG@10 / Recall@100 (ranx) of semantic-only retrieval (exact cosine) on the SciFact
train queries, for each variant over the whole corpus. Vectors are cached per model_id under
``--cache`` so reruns only re-measure speed.

Writes ``bench/results/embed.json`` and ``docs/img/embed_throughput.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from paperwire.config import load_settings  # noqa: E402
from paperwire.search.embed import clear_encoder_cache, get_encoder, paper_text  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "scifact"


def parse_variant(spec: str) -> tuple[str, int, int, int, int]:
    """'onnx-int8@192t64/32b1024' -> (backend, max tokens (0 = model's), tail tokens kept from
    the end of over-long texts (0 = cut the end), batch size, padded-token budget per ONNX run
    (0 = the encoder's default; ignored by torch))."""
    backend, _, rest = spec.partition("@")
    tokens, _, batch = rest.partition("/")
    tokens, _, tail = tokens.partition("t")
    batch, _, budget = batch.partition("b")
    return backend, int(tokens or 0), int(tail or 0), int(batch or 32), int(budget or 0)


def load_corpus(path: Path) -> tuple[list[str], list[str]]:
    ids, texts = [], []
    with open(path) as fh:
        for line in fh:
            doc = json.loads(line)
            ids.append(str(doc["_id"]))
            texts.append(paper_text(doc.get("title", ""), doc.get("text", "")))
    return ids, texts


def load_queries(path: Path, qrels_path: Path) -> tuple[dict[str, str], dict[str, dict]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(qrels_path) as fh:
        for line in fh:
            parts = line.strip().split("\t")
            if len(parts) < 3 or parts[0] == "query-id":
                continue
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    queries = {}
    with open(path) as fh:
        for line in fh:
            q = json.loads(line)
            if str(q["_id"]) in qrels:
                queries[str(q["_id"])] = q["text"]
    return queries, qrels


def encoder_for(spec: str, data_dir: Path):
    backend, tokens, tail, batch, budget = parse_variant(spec)
    settings = load_settings(
        env={},
        data_dir=data_dir,
        embedding_backend=backend,
        embed_max_tokens=tokens,
        embed_tail_tokens=tail,
        embed_batch_size=batch,
    )
    clear_encoder_cache()  # variants differing only in the budget must not share an encoder
    encoder = get_encoder(settings)
    if budget:
        encoder.token_budget = budget
    return encoder, batch


def measure_speed(encoder, texts: list[str], batch: int) -> tuple[float, float]:
    """(abstracts per wall second, abstracts per CPU second of this process)."""
    encoder.encode(texts[:16], batch_size=batch)  # warm-up: lazy init, allocator, caches
    wall, cpu = time.perf_counter(), time.process_time()
    encoder.encode(texts, batch_size=batch)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return len(texts) / wall, len(texts) / max(cpu, 1e-9)


def evaluate(encoder, batch, doc_ids, texts, queries, qrels, cache: Path) -> dict:
    from ranx import Qrels, Run
    from ranx import evaluate as rx_evaluate

    cache.mkdir(parents=True, exist_ok=True)
    budget = getattr(encoder, "token_budget", 0)
    file = cache / (
        encoder.model_id.replace("/", "_").replace("@", "_") + f"_b{batch}_tb{budget}.npy"
    )
    if file.exists():
        docs = np.load(file)
    else:
        started = time.perf_counter()
        docs = encoder.encode(texts, batch_size=batch, progress=True)
        print(f"  corpus embedded in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        np.save(file, docs)
    qids = list(queries)
    qvecs = encoder.encode([queries[q] for q in qids], batch_size=batch)
    scores = qvecs @ docs.T
    run = {}
    for i, qid in enumerate(qids):
        top = np.argsort(-scores[i])[:100]
        run[qid] = {doc_ids[j]: float(scores[i, j]) for j in top}
    result = rx_evaluate(Qrels({q: qrels[q] for q in qids}), Run(run), ["ndcg@10", "recall@100"])
    return {k: round(float(v), 4) for k, v in result.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=SHARED / "corpus.jsonl")
    ap.add_argument("--queries", type=Path, default=SHARED / "queries_train.jsonl")
    ap.add_argument("--qrels", type=Path, default=SHARED / "qrels_train.tsv")
    ap.add_argument("--speed-docs", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--baseline", default="torch@256/32")
    ap.add_argument(
        "--variants",
        default="onnx-int8@256/32,onnx-int8@208t64/32,"
        "openvino-int8@256/32,openvino-int8@208t64/32,openvino-int8@192t64/32,"
        "openvino-int8@176t64/32",
    )
    ap.add_argument(
        "--quality",
        default="torch@256/32,onnx-int8@256/32,onnx-int8@208t64/32,"
        "openvino-int8@256/32,openvino-int8@208t64/32,openvino-int8@192t64/32,"
        "openvino-int8@176t64/32",
        help="variants whose nDCG@10 is measured over the whole corpus",
    )
    ap.add_argument(
        "--phase",
        choices=("speed", "quality", "both"),
        default="both",
        help="speed: timing only (run it under /work/tools/quiet, keep it short); "
        "quality: nDCG only (long, not timing-sensitive: run it under busy); "
        "a single phase updates the existing --out file",
    )
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "pw-embed-bench")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "embed.json")
    ap.add_argument("--plot", type=Path, default=ROOT / "docs" / "img" / "embed_throughput.png")
    args = ap.parse_args()

    doc_ids, texts = load_corpus(args.corpus)
    queries, qrels = load_queries(args.queries, args.qrels)
    # A fixed, length-representative sample: every k-th abstract.
    step = max(1, len(texts) // args.speed_docs)
    sample = texts[::step][: args.speed_docs]
    data_dir = args.cache / "data"
    cores = len(os.sched_getaffinity(0))
    print(
        f"{len(texts)} abstracts, {len(queries)} queries, speed sample {len(sample)}, "
        f"{cores} cores",
        file=sys.stderr,
    )

    results = {"variants": {}}
    if args.phase != "both" and args.out.exists():
        results = json.loads(args.out.read_text())
    if args.phase in ("speed", "both"):
        speed(results, args, sample, data_dir, cores)
    if args.phase in ("quality", "both"):
        for spec in [q for q in args.quality.split(",") if q]:
            enc, batch = encoder_for(spec, data_dir)
            print(f"quality of {spec} ...", file=sys.stderr)
            metrics = evaluate(enc, batch, doc_ids, texts, queries, qrels, args.cache)
            results["variants"].setdefault(spec, {"model_id": enc.model_id}).update(metrics)
            print(f"{spec:22s} {metrics}", file=sys.stderr)
            clear_encoder_cache()
        results["quality_measured_utc"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime())

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    plot(results, results.get("baseline", args.baseline), args.plot)


def speed(results: dict, args, sample: list[str], data_dir: Path, cores: int) -> None:
    """Interleaved rounds of every variant; replaces the speed figures in ``results``."""
    with open("/proc/loadavg") as fh:
        results["loadavg_before_speed"] = fh.read().split()[:3]
    results.update(
        {
            "cores": cores,
            "speed_docs": len(sample),
            "rounds": args.rounds,
            "baseline": args.baseline,
            "speed_measured_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        }
    )
    for r in results["variants"].values():  # speed figures of variants not re-measured go
        for key in (
            "abstracts_per_s",
            "abstracts_per_s_rounds",
            "abstracts_per_cpu_s",
            "speedup",
            "speedup_cpu",
        ):
            r.pop(key, None)
    specs = [args.baseline] + [v for v in args.variants.split(",") if v and v != args.baseline]
    encoders = {spec: encoder_for(spec, data_dir) for spec in specs}
    rates: dict[str, list[float]] = {spec: [] for spec in specs}
    cpu_rates: dict[str, list[float]] = {spec: [] for spec in specs}
    for rnd in range(args.rounds):
        order = specs[rnd % len(specs) :] + specs[: rnd % len(specs)]
        for spec in order:
            enc, batch = encoders[spec]
            wall, cpu = measure_speed(enc, sample, batch)
            rates[spec].append(wall)
            cpu_rates[spec].append(cpu)
            print(
                f"round {rnd + 1}: {spec:22s} {wall:7.1f} abstracts/s ({cpu:.1f} per CPU-s)",
                file=sys.stderr,
            )
    for spec in specs:
        ratios = [r / b for r, b in zip(rates[spec], rates[args.baseline])]
        results["variants"].setdefault(spec, {}).update(
            {
                "model_id": encoders[spec][0].model_id,
                "token_budget": getattr(encoders[spec][0], "token_budget", None),
                "abstracts_per_s": round(float(np.median(rates[spec])), 1),
                "abstracts_per_s_rounds": [round(r, 1) for r in rates[spec]],
                "abstracts_per_cpu_s": round(float(np.median(cpu_rates[spec])), 1),
                "speedup": round(float(np.median(ratios)), 2),
                "speedup_cpu": round(
                    float(np.median(cpu_rates[spec])) / float(np.median(cpu_rates[args.baseline])),
                    2,
                ),
            }
        )
    results["baseline_abstracts_per_s"] = results["variants"][args.baseline]["abstracts_per_s"]
    with open("/proc/loadavg") as fh:
        results["loadavg_after_speed"] = fh.read().split()[:3]
    del encoders
    clear_encoder_cache()


def plot(results: dict, baseline: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [(spec, r) for spec, r in results["variants"].items() if "abstracts_per_s" in r]
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(rows) + 1.5))
    names = [spec + (" (baseline)" if spec == baseline else "") for spec, _ in rows]
    speeds = [r["abstracts_per_s"] for _, r in rows]
    bars = ax.barh(names, speeds, color=["#999" if s == baseline else "#3b7dd8" for s, _ in rows])
    for bar, (_, r) in zip(bars, rows):
        label = f"{r['abstracts_per_s']:.0f}/s  x{r['speedup']:.1f}"
        if "abstracts_per_cpu_s" in r:
            label += f" ({r['abstracts_per_cpu_s']:.0f}/CPU-s)"
        if "ndcg@10" in r:
            label += f"  nDCG@10 {r['ndcg@10']:.3f}"
        ax.text(
            bar.get_width(),
            bar.get_y() + bar.get_height() / 2,
            " " + label,
            va="center",
            fontsize=8,
        )
    ax.invert_yaxis()
    ax.set_xlabel(f"abstracts embedded per second ({results['cores']} cores)")
    ax.set_title("all-MiniLM-L6-v2 on SciFact abstracts: backend@max_tokens/batch")
    ax.set_xlim(0, max(speeds) * 1.6)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
