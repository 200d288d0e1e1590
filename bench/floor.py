"""The similarity floor, measured: nonsense must find nothing, SciFact relevance must stay.

    python bench/floor.py [--data ../shared/data/scifact] [--work DIR] [--floors 0.3,0.35,0.4]

(``bench/relevance.py`` runs the same study after its tuning run and records it in
bench/results/relevance.json; this script runs it alone on a prepared work dir.)

For each floor (``min_similarity`` of ``SearchService.search``, the per-call override of
``PAPERWIRE_SEMANTIC_FLOOR``), on the SciFact corpus:

- **nonsense set** (generated, seeded; ``nonsense_queries``): random letter strings,
  ``zzzqqq``-like tokens (a short letter group repeated), pairs of made-up pronounceable
  words, and random pairs of everyday English nouns (``banana helicopter``). Every word is
  checked against the corpus vocabulary (not a word of it, not the start of one, no stem of
  it), so no nonsense query has a keyword match: what it returns, it returns by meaning
  alone. Figure: share of nonsense queries whose result set is empty
  (hybrid mode; target 100 %).
- **SciFact train** (809 claims): share of queries with at least one relevant paper in their
  result set (hybrid), and nDCG@10 of lexical, semantic and hybrid (``paperwire eval``'s code
  path). A relevant paper is in the result set when it is a keyword match (a lexical search
  restricted to the relevant papers finds it: exact) or entered by meaning (all papers that
  enter by meaning are within the first 200 hybrid results: the fused head holds them).
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import string
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

DEFAULT_FLOORS = (0.0, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
_ONSETS = [
    "b",
    "bl",
    "br",
    "d",
    "dr",
    "f",
    "fl",
    "g",
    "gl",
    "gr",
    "k",
    "kl",
    "m",
    "n",
    "p",
    "pl",
    "pr",
    "s",
    "sk",
    "sl",
    "t",
    "tr",
    "v",
    "z",
    "zh",
    "qu",
]
_VOWELS = ["a", "e", "i", "o", "u", "oo", "ai", "ou"]
_CODAS = ["", "", "n", "m", "rk", "sk", "lf", "rp", "x", "nd"]


# Everyday nouns, far from any scientific abstract (those the corpus has are dropped).
EVERYDAY = """banana helicopter window river pencil guitar carpet wallet ladder violin sandwich
umbrella bicycle pillow hammer kettle mirror blanket bucket candle doorbell elephant jacket
lemon marble napkin orchard parrot quilt saddle teapot tulip vase whistle yacht zipper basket
button cookie dolphin feather garden harbor island jungle kitten lantern meadow giraffe
pancake trumpet scarf slipper toaster sofa chimney wardrobe spoon bagpipe hedgehog igloo
kayak lollipop mango noodle octopus pajamas raccoon scooter tractor waffle walrus""".split()


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Vocabulary:
    """The corpus' words and stems, to keep generated nonsense free of keyword matches."""

    def __init__(self, texts):
        from paperwire.search import analyzer

        words, stems = set(), set()
        for text in texts:
            words.update(analyzer.words(text))
            stems.update(analyzer.stems(text))
        self.words = sorted(words)
        self.stems = stems

    def clear_of(self, token: str) -> bool:
        """True when ``token`` matches nothing: no stem of it in the corpus, and no corpus
        word equal to or starting with any of its words (prefix expansion)."""
        from paperwire.search import analyzer

        if any(s in self.stems for s in analyzer.stems(token)):
            return False
        for w in analyzer.words(token):
            i = bisect.bisect_left(self.words, w)
            if i < len(self.words) and self.words[i].startswith(w):
                return False
        return True


def _pseudo_word(rng: random.Random) -> str:
    return "".join(
        rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
        for _ in range(rng.randint(2, 3))
    )


def nonsense_queries(vocab: Vocabulary, n_each: int = 100, seed: int = 17) -> dict[str, list[str]]:
    """Four kinds of nonsense, ``n_each`` of each (seeded), none with a keyword match."""
    rng = random.Random(seed)
    kinds: dict[str, list[str]] = {
        "letters": [],
        "repeated": ["zzzqqq"],
        "word_pairs": [],
        "english_pairs": [],
    }
    everyday = [w for w in EVERYDAY if vocab.clear_of(w)]
    makers = {
        "letters": lambda: "".join(
            rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 12))
        ),
        "repeated": lambda: "".join(
            c * 3 for c in rng.sample(string.ascii_lowercase, rng.randint(2, 3))
        ),
        "word_pairs": lambda: f"{_pseudo_word(rng)} {_pseudo_word(rng)}",
        "english_pairs": lambda: " ".join(rng.sample(everyday, 2)) if len(everyday) > 1 else "",
    }
    for kind, make in makers.items():
        seen = set(kinds[kind])
        tries = 0
        while len(kinds[kind]) < n_each and tries < 100 * n_each:
            tries += 1
            q = make()
            if q and q not in seen and vocab.clear_of(q):
                seen.add(q)
                kinds[kind].append(q)
    return kinds


def relevant_in_set(svc, text: str, relevant: set[str], floor: float) -> bool:
    """Is a relevant paper in the hybrid result set of ``text`` (see the module docstring)?"""
    from paperwire.search.filters import SearchFilters
    from paperwire.search.query import plain_query

    pq = plain_query(text)
    if (
        svc.search(
            pq, mode="lexical", limit=1, filters=SearchFilters(paper_ids=frozenset(relevant))
        ).total
        > 0
    ):
        return True
    # The ids and their reasons only (``rank`` is what ``search`` builds its pages from).
    _, ranking = svc.rank(pq, mode="hybrid", limit=200, min_similarity=floor)
    return any(
        pid in relevant and "semantic" in ranking.matched_by.get(pid, ()) for pid, _ in ranking.ids
    )


def floor_study(
    svc,
    queries: dict[str, str],
    qrels: dict[str, dict[str, int]],
    nonsense: dict[str, list[str]],
    floors=DEFAULT_FLOORS,
    *,
    ndcg: bool = True,
) -> dict:
    """Per floor: nonsense zero-result shares, SciFact relevant-in-set share, nDCG@10."""
    from paperwire.search import evaluate as ev

    out = {
        "nonsense_queries": {k: len(v) for k, v in nonsense.items()},
        "nonsense_examples": {k: v[:5] for k, v in nonsense.items()},
        "scifact_queries": len(queries),
        "floors": {},
    }
    for floor in floors:
        t = time.perf_counter()
        row: dict = {}
        zero = {
            kind: sum(
                svc.search(q, mode="hybrid", limit=1, min_similarity=floor).total == 0 for q in qs
            )
            / max(1, len(qs))
            for kind, qs in nonsense.items()
        }
        n_all = sum(len(v) for v in nonsense.values())
        row["nonsense_zero_share"] = {k: round(v, 4) for k, v in zero.items()}
        row["nonsense_zero_share"]["all"] = round(
            sum(zero[k] * len(nonsense[k]) for k in nonsense) / max(1, n_all), 4
        )
        row["scifact_relevant_in_set_share"] = round(
            sum(relevant_in_set(svc, queries[q], set(qrels[q]), floor) for q in queries)
            / len(queries),
            4,
        )
        if ndcg:
            for mode in ("semantic", "hybrid"):
                row[mode] = ev.score(
                    qrels, ev.run_mode(svc, queries, mode, progress=False, min_similarity=floor)
                )
        row["seconds"] = round(time.perf_counter() - t, 1)
        out["floors"][str(floor)] = row
        log(f"floor {floor}: {json.dumps(row)}")
    return out


def corpus_texts(corpus: Path):
    with open(corpus, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                doc = json.loads(line)
                yield f"{doc.get('title') or ''} {doc.get('text') or ''}"


def main(argv: list[str] | None = None) -> None:
    from paperwire.search import evaluate as ev

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "scifact"))
    ap.add_argument("--corpus", default=None, help="default: DATA/corpus.jsonl")
    ap.add_argument("--queries", default=None, help="default: DATA/queries_train.jsonl")
    ap.add_argument("--qrels", default=None, help="default: DATA/qrels_train.tsv")
    ap.add_argument(
        "--work",
        default="/tmp/pwsearch/scifact-work",
        help="a work dir bench/relevance.py prepared (prepared here if missing)",
    )
    ap.add_argument("--floors", default=",".join(map(str, DEFAULT_FLOORS)))
    ap.add_argument("--nonsense", type=int, default=100, help="queries of each nonsense kind")
    ap.add_argument("--no-ndcg", action="store_true", help="shares only (faster)")
    ap.add_argument("--json-out", default=str(ROOT / "bench" / "results" / "floor.json"))
    args = ap.parse_args(argv)
    data = Path(args.data)
    corpus = Path(args.corpus or data / "corpus.jsonl")
    queries = ev.read_queries(Path(args.queries or data / "queries_train.jsonl"))
    qrels = ev.read_qrels(Path(args.qrels or data / "qrels_train.tsv"))
    queries = {k: v for k, v in queries.items() if k in qrels}
    svc, db = open_prepared(corpus, Path(args.work))
    try:
        nonsense = nonsense_queries(Vocabulary(corpus_texts(corpus)), args.nonsense)
        result = floor_study(
            svc,
            queries,
            qrels,
            nonsense,
            [float(f) for f in args.floors.split(",")],
            ndcg=not args.no_ndcg,
        )
    finally:
        svc.close()
        db.dispose()
    result["setting_default"] = svc.settings.semantic_floor
    result["measured_at"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json_out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


def prepare_work(corpus: Path, work: Path) -> None:
    """Import, index and embed ``corpus`` in ``work`` once (a half-done work dir is cleared,
    except its model export ``models/``, which is expensive and checked on use)."""
    import shutil

    from paperwire.ingest.importer import import_file
    from paperwire.search import evaluate as ev

    if (work / "prepared").exists():
        return
    work.mkdir(parents=True, exist_ok=True)
    for child in work.iterdir():
        if child.name != "models":
            shutil.rmtree(child) if child.is_dir() and not child.is_symlink() else child.unlink()
    ev.prepare(
        corpus,
        work,
        progress=True,
        load=lambda s, db, c: import_file(s, db, c, "beir", progress=True).new,
    )
    (work / "prepared").write_text("ok")


def open_prepared(corpus: Path, work: Path):
    """A SearchService over ``work`` (the corpus imported, indexed and embedded once)."""
    from paperwire.config import load_settings
    from paperwire.search.service import SearchService
    from paperwire.store.db import open_database

    prepare_work(corpus, work)
    settings = load_settings(env={}, data_dir=work, database_url="", load_demo_data=False)
    db = open_database(settings)
    svc = SearchService(settings, db, background=False)
    if svc.semantic() is None:
        raise SystemExit(f"semantic search unavailable: {svc._semantic_error}")
    return svc, db


if __name__ == "__main__":
    main()
