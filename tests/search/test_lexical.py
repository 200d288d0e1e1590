"""Lexical search against a real tantivy index on SQLite and PostgreSQL: ranking, language
features, freshness (papers found the moment they commit), hidden papers, crash recovery."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import update

from paperwire.search.filters import Constraints, SearchFilters, merge
from paperwire.search.lexical import LexicalIndex
from paperwire.search.query import parse_query
from paperwire.store.models import Paper, utcnow
from paperwire.store.papers import upsert_papers
from tests.factories import make_papers, make_record


def _add(db, *records):
    with db.session() as session:
        upsert_papers(session, records)
    return records


def _ids(index, q, filters=None, **kw):
    pq = parse_query(q)
    return [pid for pid, _ in index.search(pq, merge(pq, filters), limit=50, **kw).hits]


@pytest.fixture
def corpus(db):
    recs = _add(
        db,
        make_record(id="p-title", title="Sequence models for proteins", abstract="We study x."),
        make_record(id="p-abs", title="Another paper", abstract="A sequence model of proteins."),
        make_record(id="p-prefix", title="Seq2seq for translation", abstract="Encoders."),
        make_record(id="p-none", title="Galaxy rotation curves", abstract="Dark matter halos."),
        make_record(
            id="p-phrase",
            title="Graph neural networks",
            abstract="Neural networks on graphs.",
            categories=["cs.LG"],
            authors=[{"name": "Ada Lovelace"}],
            published_at=dt.datetime(2021, 6, 1),
        ),
        make_record(
            id="p-bio",
            title="Protein folding networks",
            abstract="Folding.",
            categories=["q-bio.BM"],
            authors=[{"name": "Grace Hopper"}],
            published_at=dt.datetime(2023, 2, 1),
        ),
    )
    return recs


@pytest.fixture
def index(settings, db, corpus):
    idx = LexicalIndex(settings, db)
    idx.rebuild()
    yield idx
    idx.close()


def test_title_matches_rank_above_abstract_matches(index):
    ids = _ids(index, "sequence")
    assert ids.index("p-title") < ids.index("p-abs")


def test_exact_matches_rank_above_prefix_only_matches(index, db):
    # A long abstract dilutes the exact match's BM25 score; it must still come first.
    _add(
        db,
        make_record(
            id="p-exact",
            title="Single-cell atlas",
            abstract="Cells. " * 200 + "We use RNA-seq once.",
        ),
    )
    index.refresh(block=True)
    ids = _ids(index, "seq")
    assert ids[0] == "p-exact"
    assert set(ids[1:]) == {"p-title", "p-abs", "p-prefix"}


def test_prefix_matching_finds_longer_words(index):
    assert set(_ids(index, "seq")) == {"p-title", "p-abs", "p-prefix"}
    assert set(_ids(index, "protei")) == {"p-title", "p-abs", "p-bio"}


def test_stemming_matches_other_word_forms(index):
    assert set(_ids(index, "folded")) == {"p-bio"}
    assert "p-phrase" in _ids(index, "network")


def test_phrase_requires_adjacent_words(index):
    assert _ids(index, '"neural networks"') == ["p-phrase"]
    assert _ids(index, '"networks neural"') == []


def test_exclusion_drops_papers(index):
    ids = _ids(index, "networks -graph")
    assert "p-bio" in ids and "p-phrase" not in ids


def test_filters_by_category_author_and_date(index):
    assert _ids(index, "networks cat:q-bio.*") == ["p-bio"]
    assert _ids(index, "networks cat:cs") == ["p-phrase"]
    assert _ids(index, "networks author:lovelace") == ["p-phrase"]
    assert _ids(index, 'networks author:"grace hopper"') == ["p-bio"]
    assert _ids(index, "networks after:2022") == ["p-bio"]
    assert _ids(index, "networks before:2022") == ["p-phrase"]
    assert _ids(index, "networks", SearchFilters(categories=["cs.LG"])) == ["p-phrase"]


def test_filter_only_query_lists_newest_first(index):
    assert _ids(index, "before:2024") == ["p-bio", "p-phrase"]


def test_new_paper_is_found_as_soon_as_it_commits(index, db):
    assert _ids(index, "zymurgy") == []
    _add(db, make_record(id="p-new", title="Zymurgy at scale", abstract="Brewing."))
    assert _ids(index, "zymurgy") == ["p-new"]
    # ...and after the refresh folds it into the index, still exactly once.
    index.refresh(block=True)
    assert _ids(index, "zymurgy") == ["p-new"]


def test_updated_paper_is_searched_by_its_new_text(index, db):
    _add(db, make_record(id="p-none", title="Quasar spectra", abstract="Redshift.", version=2))
    assert _ids(index, "quasar") == ["p-none"]
    assert _ids(index, "galaxy") == []


def test_hidden_papers_never_appear(index, db):
    with db.session() as session:
        session.execute(
            update(Paper).where(Paper.id == "p-bio").values(hidden=True, modified_at=utcnow())
        )
    assert "p-bio" not in _ids(index, "folding")
    index.refresh(block=True)
    assert "p-bio" not in _ids(index, "folding")
    index.rebuild()
    assert "p-bio" not in _ids(index, "folding")


def test_delta_scores_agree_with_index_scores(index, db):
    """The Python scorer of not-yet-indexed papers scores like tantivy does."""
    make_papers(db, 300)  # realistic document frequencies (factory text has both words)
    index.rebuild()
    _add(
        db,
        make_record(id="d-1", title="Sequence alignment", abstract="Proteins, sequence."),
        make_record(id="d-2", title="Alignment", abstract="A protein sequence."),
    )
    pq = parse_query("protein sequence")
    before = dict(index.search(pq, Constraints(), limit=200).hits)
    index.refresh(block=True)
    after = dict(index.search(pq, Constraints(), limit=200).hits)
    assert {"d-1", "d-2"} <= set(before) & set(after)
    for pid in ("d-1", "d-2"):
        # Same formula; only tantivy's one-byte length norms and the two new documents'
        # effect on document frequencies differ.
        assert before[pid] == pytest.approx(after[pid], rel=0.1)


def test_missing_index_is_rebuilt_automatically(settings, db, corpus, caplog):
    idx = LexicalIndex(settings, db)
    # A fresh install has no index yet: built from the database and said at INFO (not a
    # warning every newcomer would see on their first start).
    with caplog.at_level("INFO"):
        assert "p-bio" in _ids(idx, "folding")
    assert "building the lexical index" in caplog.text
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    idx.close()


def test_corrupt_index_is_rebuilt_automatically(settings, db, index, caplog):
    gen = (index.root / "CURRENT").read_text().strip()
    for f in (index.root / gen).iterdir():
        if f.name.endswith(".json") or f.name.startswith("meta"):
            f.write_text("garbage{")
    index.close()
    fresh = LexicalIndex(settings, db)
    with caplog.at_level("WARNING"):
        assert "p-bio" in _ids(fresh, "folding")
    assert "rebuilding" in caplog.text
    fresh.close()


@pytest.mark.slow
def test_kill_during_rebuild_converges(settings, db, tmp_path):
    """SIGKILL a real process in the middle of a rebuild; a restart agrees with the DB."""
    recs = [make_record() for _ in range(3000)]
    _add(db, *recs)
    script = tmp_path / "rebuild.py"
    script.write_text(
        textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from paperwire.config import load_settings
        from paperwire.store.db import Database
        from paperwire.search import lexical
        from paperwire.search.lexical import documents
        s = load_settings(env={{}}, data_dir=Path({str(settings.data_dir)!r}),
                          database_url={settings.database_url!r})
        db = Database(s.database_url)
        idx = lexical.LexicalIndex(s, db)
        orig = documents.make_document
        n = 0
        def slow(row, *args):
            global n
            n += 1
            if n == 500:
                print("started", flush=True)
                import time; time.sleep(60)
            return orig(row, *args)
        documents.make_document = slow
        idx.rebuild()
    """)
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, env=env)
    assert proc.stdout.readline().strip() == b"started"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # Leftovers of the killed build exist; the next process must converge anyway.
    idx = LexicalIndex(settings, db)
    pq = parse_query(recs[0].title)
    total = idx.search(
        parse_query("after:1900"), Constraints(date_from=dt.date(1900, 1, 1)), limit=10
    ).total
    assert total == 3000
    assert recs[7].id in [
        p for p, _ in idx.search(parse_query(recs[7].title), Constraints(), limit=100).hits
    ]
    del pq
    idx.close()


def test_an_idle_refresh_leaves_the_state_file_alone_until_the_watermark_lags(index, monkeypatch):
    """Every tick rewrote state.json (an fsync under the mutex searches take) and made every
    other process reload the index: the web workers' periodic stall. Now an idle tick writes
    only once the watermark lags a step behind; a changed paper is still folded at once."""
    from paperwire.search.lexical import files as lexical_files
    from paperwire.search.lexical import index as lexical_index

    path = index.root / index._gen
    index.refresh(block=True)  # the first tick after a build may move it
    before = (lexical_files.state_stamp(path), index.watermark)
    for _ in range(3):
        index.refresh(block=True)
    assert (lexical_files.state_stamp(path), index.watermark) == before
    monkeypatch.setattr(lexical_index, "WATERMARK_STEP", dt.timedelta(0))
    index.refresh(block=True)
    assert index.watermark is not None and before[1] is not None and index.watermark > before[1]
