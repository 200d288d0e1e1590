"""The "seq" test: the 55 seed papers + 200 arXiv records of the demo data.

Lexical `seq` must return exactly the papers with a word starting with "seq" in title or
abstract (computed here with an independent regex: 64 of them); hybrid `seq` must have all 55
seed papers in its first 70 results.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

import paperwire
from paperwire.store.models import Paper

DEMO = Path(paperwire.__file__).parent / "demo"
SEQ_WORD = re.compile(r"(?<![0-9A-Za-z])seq", re.IGNORECASE)


@pytest.fixture
def demo_db(settings, db):
    from paperwire.ingest.importer import import_file

    for name in ("seed_papers.jsonl", "arxiv_sample.jsonl"):
        summary = import_file(settings, db, DEMO / name, progress=False)
        assert summary.rejected == 0
    return db


@pytest.fixture
def service(settings, demo_db):
    from paperwire.search.service import SearchService

    svc = SearchService(settings, demo_db, background=False)
    yield svc
    svc.close()


def test_lexical_seq_returns_exactly_the_papers_with_a_seq_word(service, demo_db):
    with demo_db.session() as session:
        rows = session.execute(select(Paper.id, Paper.title, Paper.abstract)).all()
    expected = {pid for pid, title, abstract in rows if SEQ_WORD.search(f"{title}\n{abstract}")}
    assert len(rows) == 255
    assert len(expected) == 64
    resp = service.search("seq", mode="lexical", limit=200)
    assert {h.paper_id for h in resp.hits} == expected
    assert resp.total == 64
    # Every hit shows where it matched.
    assert all("<mark>" in h.title_html + h.snippet_html for h in resp.hits)


@pytest.mark.slow
def test_hybrid_seq_has_every_seed_paper_in_the_first_70(service, settings, demo_db):
    from paperwire.search.embedding_jobs import embed_pending

    embed_pending(settings, demo_db)
    # The seed papers are arXiv papers (demo/seed_papers.jsonl names their ids).
    seeds = {
        json.loads(line)["arxiv_id"]
        for line in (DEMO / "seed_papers.jsonl").read_text().splitlines()
        if line.strip()
    }
    assert len(seeds) == 55
    resp = service.search("seq", mode="hybrid", limit=70)
    assert resp.mode == "hybrid"
    assert any("semantic" in h.matched_by for h in resp.hits)
    missing = seeds - {h.paper_id for h in resp.hits}
    assert not missing, f"{len(missing)} seed papers not in the first 70"
