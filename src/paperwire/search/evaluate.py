"""`paperwire eval`: relevance of each search mode on a BEIR-format collection.

Invariants:
- Everything is built in a temporary data directory with its own SQLite database; the user's
  database and indexes are never touched.
- Rankings come from ``SearchService.search`` (the one function every caller uses: the
  result set, its relevance order, the similarity floor), with each query taken as plain
  words (no query-language operators, since claims contain quotes and dashes).
- Metrics are computed by ranx (nDCG@10, Recall@100).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from paperwire.errors import BadInput

if TYPE_CHECKING:
    from paperwire.config import Settings
    from paperwire.search.service import SearchService
    from paperwire.store.db import Database

ALL_MODES = ("lexical", "semantic", "hybrid")
METRICS = ("ndcg@10", "recall@100")
DEPTH = 100

# Stores a BEIR corpus file in the given database and returns how many documents were new.
# The caller passes ingest's importer (cli/search.py): search does not import ingest.
CorpusLoader = Callable[["Settings", "Database", Path], int]


def read_queries(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                out[str(obj["_id"])] = str(obj["text"])
            except (ValueError, KeyError, TypeError) as exc:
                raise BadInput(f'{path}:{n}: not a BEIR query ({{"_id", "text"}}): {exc}') from exc
    return out


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        for n, row in enumerate(reader, 1):
            if not row or (n == 1 and not row[-1].strip().lstrip("-").isdigit()):
                continue  # header
            if len(row) < 3:
                raise BadInput(f"{path}:{n}: expected query-id, corpus-id, score")
            try:
                score = int(row[2])
            except ValueError:
                raise BadInput(f"{path}:{n}: score {row[2]!r} is not an integer") from None
            if score > 0:
                out.setdefault(row[0], {})[f"beir:{row[1]}"] = score
    return out


def prepare(
    corpus: Path,
    work_dir: Path,
    base_settings: Settings | None = None,
    *,
    load: CorpusLoader,
    progress: bool = True,
    semantic: bool = True,
) -> tuple[Settings, Database]:
    """Import the corpus with ``load`` and build all indexes in ``work_dir``; returns
    (settings, db)."""
    from paperwire.config import load_settings
    from paperwire.search.indexing import run_index
    from paperwire.store.db import open_database

    settings = (
        dataclasses.replace(base_settings, data_dir=work_dir, database_url="", load_demo_data=False)
        if base_settings is not None
        else load_settings(env={}, data_dir=work_dir, database_url="", load_demo_data=False)
    )
    db = open_database(settings)
    if load(settings, db, corpus) == 0:
        raise BadInput(f"{corpus}: no documents imported")
    run_index(settings, db, rebuild=True, progress=progress, semantic=semantic)
    return settings, db


def run_mode(
    svc: SearchService,
    queries: dict[str, str],
    mode: str,
    *,
    depth: int = DEPTH,
    progress: bool = True,
    min_similarity: float | None = None,
) -> dict[str, dict[str, float]]:
    """The first ``depth`` results of each query (``min_similarity``: the similarity floor of
    these searches; default the setting's)."""
    from tqdm import tqdm

    from paperwire.search.query import plain_query

    run: dict[str, dict[str, float]] = {}
    for qid, text in tqdm(
        queries.items(), desc=f"{mode} queries", disable=not progress, file=sys.stderr
    ):
        resp = svc.search(plain_query(text), mode=mode, limit=depth, min_similarity=min_similarity)
        # Scores must be strictly decreasing in rank for the metric library; use rank.
        run[qid] = {h.paper_id: float(depth - i) for i, h in enumerate(resp.hits)}
    return run


def score(qrels: dict[str, dict[str, int]], run: dict[str, dict[str, float]]) -> dict[str, float]:
    from ranx import Qrels, Run
    from ranx import evaluate as ranx_evaluate

    qids = [q for q in qrels if q in run]
    q = Qrels({k: qrels[k] for k in qids})
    r = Run({k: (run[k] or {"__none__": 0.0}) for k in qids})
    values = ranx_evaluate(q, r, list(METRICS))
    return {m: round(float(values[m]), 4) for m in METRICS}


def evaluate(
    corpus: Path,
    queries_path: Path,
    qrels_path: Path,
    modes: Iterable[str],
    *,
    load: CorpusLoader,
    base_settings: Settings | None = None,
    progress: bool = True,
) -> dict[str, dict[str, float]]:
    from paperwire.search.service import SearchService

    modes = list(modes)
    for mode in modes:
        if mode not in ALL_MODES:
            raise BadInput(f"unknown mode {mode!r}")
    for p in (corpus, queries_path, qrels_path):
        if not Path(p).is_file():
            raise BadInput(f"{p}: no such file")
    queries = read_queries(Path(queries_path))
    qrels = read_qrels(Path(qrels_path))
    queries = {k: v for k, v in queries.items() if k in qrels}
    if not queries:
        raise BadInput("no query has relevance judgements in the qrels file")
    needs_semantic = any(m != "lexical" for m in modes)
    with tempfile.TemporaryDirectory(prefix="paperwire-eval-") as tmp:
        settings, db = prepare(
            Path(corpus),
            Path(tmp),
            base_settings,
            load=load,
            progress=progress,
            semantic=needs_semantic,
        )
        svc = SearchService(settings, db, background=False)
        try:
            if needs_semantic and svc.semantic() is None:
                raise BadInput(f"semantic search unavailable: {svc.semantic_error}")
            return {
                mode: score(qrels, run_mode(svc, queries, mode, progress=progress))
                for mode in modes
            }
        finally:
            svc.close()
            db.dispose()
