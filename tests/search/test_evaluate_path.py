"""`paperwire eval` ranks through the one search function every caller uses."""

from __future__ import annotations

import datetime as dt

from paperwire.search.evaluate import run_mode
from paperwire.search.query import plain_query
from paperwire.search.service import SearchService
from tests.factories import make_papers


def test_eval_runs_are_the_search_pages_results(settings, db):
    make_papers(
        db,
        1,
        title="Protein folding",
        abstract="Proteins fold.",
        published_at=dt.datetime(2024, 1, 1),
    )
    make_papers(
        db,
        1,
        title="Protein atlas",
        abstract="A map of proteins.",
        published_at=dt.datetime(2024, 2, 1),
    )
    make_papers(db, 3, title="Galaxies", abstract="Stars and dust.")
    svc = SearchService(settings, db, background=False)
    try:
        text = 'protein "folding" -atlas'  # claims keep their quotes and dashes as words
        run = run_mode(svc, {"q1": text}, "lexical", progress=False)
        page = svc.search(plain_query(text), mode="lexical", limit=100)
        assert list(run["q1"]) == [h.paper_id for h in page.hits]
        assert len(run["q1"]) == page.total == 2
    finally:
        svc.close()
