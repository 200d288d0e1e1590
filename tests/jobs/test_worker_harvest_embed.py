"""A real `paperwire worker` (huey consumer, embedded SQLite queue) runs the scheduled harvest
against the local arXiv replay server, then the scheduled embedding job; the harvested papers
are then found by lexical and by semantic search (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import time

import pytest
from lxml import etree
from sqlalchemy import func, select

from paperwire.search.notify import SYNC_EMBED_LIMIT
from paperwire.search.service import SearchService
from paperwire.store.checkpoints import save_checkpoint
from paperwire.store.models import Embedding, JobRun, Paper
from paperwire.store.stats import HARVEST_CHECKPOINT
from tests.factories import make_record
from tests.search.embed_fixtures import encoder, model_data_dir  # noqa: F401  (fixtures)
from tests.support.arxiv_replay import OAI_NS, OAI_PATH, RECORDED_LISTRECORDS, arxiv_replay_server

ARXIV_NS = "http://arxiv.org/OAI/arXiv/"
EXTRA = SYNC_EMBED_LIMIT + 6  # more than the harvest embeds by itself: the job must do it


def daily_page(extra: int) -> tuple[bytes, list[str]]:
    """The recorded ListRecords reply (2 real records) plus ``extra`` records in the same
    shape, each a copy of the first record with a new id, title and abstract (a day of arXiv
    brings hundreds). Returns (body, ids of the extra records)."""
    root = etree.fromstring(RECORDED_LISTRECORDS.read_bytes())
    container = root.find(f"{{{OAI_NS}}}ListRecords")
    template = container.find(f"{{{OAI_NS}}}record")
    ids = []
    for i in range(extra):
        rec = make_record(id=f"2411.{10000 + i}")
        clone = copy.deepcopy(template)
        clone.find(f".//{{{OAI_NS}}}identifier").text = f"oai:arXiv.org:{rec.id}"
        meta = clone.find(f".//{{{ARXIV_NS}}}arXiv")
        meta.find(f"{{{ARXIV_NS}}}id").text = rec.id
        meta.find(f"{{{ARXIV_NS}}}title").text = rec.title
        meta.find(f"{{{ARXIV_NS}}}abstract").text = rec.abstract
        container.append(clone)
        ids.append(rec.id)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8"), ids


def _wait_for_jobs(db, names: set[str], worker, timeout: float = 240.0) -> dict[str, JobRun]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.session() as s:
            runs = {r.name: r for r in s.scalars(select(JobRun))}
            for r in runs.values():
                s.expunge(r)
        if all(runs.get(n) is not None and runs[n].status in ("ok", "failed") for n in names):
            return runs
        if worker.poll() is not None:
            break
        time.sleep(0.5)
    raise AssertionError(
        f"jobs {sorted(names)} did not finish: { {n: r.status for n, r in runs.items()} }"
    )


@pytest.mark.slow
def test_worker_harvests_then_embeds_and_the_papers_are_searchable(settings, db, model_data_dir):  # noqa: F811
    # The ONNX export the test session made once: the worker loads it instead of exporting.
    shutil.copytree(model_data_dir / "models", settings.data_dir / "models")
    body, extra_ids = daily_page(EXTRA)
    with db.session() as s:  # as if the last harvest had reached 2015-01-01
        save_checkpoint(s, HARVEST_CHECKPOINT, {"last_datestamp": "2015-01-01"})
    with arxiv_replay_server() as replay:
        replay.add(
            OAI_PATH,
            {"verb": "ListRecords", "metadataPrefix": "arXiv", "from": "2015-01-01"},
            200,
            body,
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERWIRE_")}
        env.update(
            PAPERWIRE_DATA_DIR=str(settings.data_dir),
            PAPERWIRE_DATABASE_URL=settings.database_url,
            PAPERWIRE_SECRET_KEY="k",
            PAPERWIRE_LOAD_DEMO_DATA="0",
            PAPERWIRE_LOG_LEVEL="INFO",
            PAPERWIRE_ARXIV_OAI_URL=replay.oai_url,
            PAPERWIRE_ARXIV_DELAY_SECONDS="0",
            PAPERWIRE_TIMEZONE="UTC",
            PAPERWIRE_HARVEST_TIME="00:00",
            PAPERWIRE_SCHEDULED_JOBS="harvest,embed",
            # One worker thread: the tick queues harvest, then embed; they run in order.
            PAPERWIRE_WORKER_THREADS="1",
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "paperwire", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            runs = _wait_for_jobs(db, {"harvest", "embed"}, worker)
        finally:
            worker.terminate()
            _out, log = worker.communicate(timeout=60)
        assert [q for _p, q in replay.requests] == [
            {"verb": "ListRecords", "metadataPrefix": "arXiv", "from": "2015-01-01"}
        ]

    assert (settings.data_dir / "queue.db").exists()  # the embedded huey storage
    assert runs["harvest"].status == "ok", log
    assert runs["embed"].status == "ok", log
    assert runs["embed"].started_at >= runs["harvest"].finished_at
    n = EXTRA + 2
    assert runs["embed"].detail == f"{n} papers embedded"
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Paper)) == n
        assert s.scalar(select(func.count()).select_from(Embedding)) == n

    svc = SearchService(settings, db, background=False)
    try:
        lexical = svc.search("Kochen-Specker", mode="lexical")
        assert [h.paper_id for h in lexical.hits] == ["1412.8544"]
        assert [h.paper_id for h in svc.search("Planck", mode="lexical").hits] == ["hep-th/9504118"]
        # The embeddings must rank the right paper first. These questions reach a similarity
        # of ~0.42 to their paper, under the default floor (0.45, set so nonsense finds
        # nothing), so the floor is lowered for this call (issue 10 keeps the floor's
        # calibration open).
        semantic = svc.search(
            "how few vectors can a proof of quantum contextuality need",
            mode="semantic",
            limit=3,
            min_similarity=0.3,
        )
        assert semantic.mode == "semantic"
        assert semantic.hits[0].paper_id == "1412.8544"
        assert semantic.hits[0].matched_by == {"semantic"}
        physics = svc.search(
            "is space-time granular at the quantum gravity scale?",
            mode="semantic",
            limit=3,
            min_similarity=0.3,
        )
        assert physics.hits[0].paper_id == "hep-th/9504118"
        similar = svc.semantic().similar(extra_ids[0], 5)
        assert len(similar) == 5 and extra_ids[0] not in [pid for pid, _ in similar]
    finally:
        svc.close()
