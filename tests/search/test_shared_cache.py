"""Rankings shared by the workers of one `paperwire serve` (search/shared_cache.py): a search
one worker ranked is answered by another from the shared file, never across a change to the
papers, and the file can break without a search failing (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperwire.search import shared_cache
from paperwire.search.results import Ranking
from paperwire.search.service import SearchService
from paperwire.store.papers import upsert_papers
from tests.factories import make_record

# --- the file alone ------------------------------------------------------------------------

IDS = st.text(alphabet="0123456789.abc/-", min_size=1, max_size=12)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(IDS, st.floats(allow_nan=False, allow_infinity=False)), max_size=20),
    st.integers(min_value=0, max_value=10**9),
    st.dictionaries(IDS, st.sets(st.sampled_from(["lexical", "semantic"])), max_size=5),
    st.lists(st.text(max_size=30), max_size=3),
    st.booleans(),
    st.booleans(),
    st.dictionaries(IDS, st.floats(min_value=0, max_value=1), max_size=5),
)
def test_a_ranking_comes_back_as_it_was_stored(ids, total, matched, notices, est, more, sim):
    ranking = Ranking(ids, total, matched, notices, est, more, sim)
    assert shared_cache.decode(shared_cache.encode(ranking)) == ranking


@pytest.mark.parametrize(
    "query", ["seq", "seq ", "\u00e9t\u00e9", "lone \ud800 surrogate", '"quoted" -x', ""]
)
def test_every_query_has_its_own_key(query):
    key = shared_cache.key_text(query, "hybrid", "relevance", 20, 0, True, 0.45)
    assert key.isascii() and key == shared_cache.key_text(
        query, "hybrid", "relevance", 20, 0, True, 0.45
    )
    assert key != shared_cache.key_text(query + "x", "hybrid", "relevance", 20, 0, True, 0.45)
    assert key != shared_cache.key_text(query, "lexical", "relevance", 20, 0, True, 0.45)


def test_an_entry_is_returned_only_for_its_key_and_version(tmp_path):
    store = shared_cache.SharedRankings(tmp_path / "r.sqlite")
    ranking = Ranking([("2401.1", 1.5)], 1, {"2401.1": {"lexical"}}, [])
    store.put("k", "v1", ranking)
    assert store.get("k", "v1") == ranking
    assert store.get("k", "v2") is None and store.get("other", "v1") is None
    other = shared_cache.SharedRankings(tmp_path / "r.sqlite")  # another worker
    assert other.get("k", "v1") == ranking


def test_only_the_newest_entries_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(shared_cache, "TRIM_EVERY", 5)
    store = shared_cache.SharedRankings(tmp_path / "r.sqlite", max_entries=3)
    for i in range(10):
        store.put(f"k{i}", "v", Ranking([], i, {}, []))
    assert store.get("k9", "v") is not None and store.get("k0", "v") is None


def test_a_broken_file_is_a_miss_never_an_error(tmp_path):
    path = tmp_path / "r.sqlite"
    path.write_bytes(b"not a database at all" * 100)
    store = shared_cache.SharedRankings(path)
    store.put("k", "v", Ranking([], 0, {}, []))  # logged, not raised
    assert store.get("k", "v") is None


def test_a_run_file_of_a_dead_serve_is_removed_and_a_live_ones_kept(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / f"rankings-{dead.pid}.sqlite").write_bytes(b"")
    (tmp_path / f"rankings-{dead.pid}.sqlite-wal").write_bytes(b"")
    live = tmp_path / f"rankings-{os.getppid()}.sqlite"
    live.write_bytes(b"")
    mine = shared_cache.new_run_file(tmp_path)
    assert mine.name == f"rankings-{os.getpid()}.sqlite"
    assert sorted(p.name for p in tmp_path.iterdir()) == [live.name]
    mine.write_bytes(b"")
    shared_cache.remove_run_file(mine)
    assert not mine.exists()


# --- two workers ---------------------------------------------------------------------------


def _record(pid: str, title: str):
    return make_record(
        id=pid,
        title=title,
        abstract="Sequence models for proteins.",
        published_at=dt.datetime(2024, 1, 5),
        categories=["q-bio.BM"],
    )


@pytest.fixture
def workers(settings, db, tmp_path, monkeypatch):
    """Two services sharing a run file, as two workers of one serve do."""
    with db.session() as s:
        upsert_papers(s, [_record("2401.00001", "Protein language models")])
    monkeypatch.setenv(shared_cache.SHARED_RANKINGS_ENV, str(tmp_path / "rankings.sqlite"))
    pair = [SearchService(settings, db, background=False) for _ in range(2)]
    yield pair
    for svc in pair:
        svc.close()


def _ids(resp):
    return [h.paper_id for h in resp.hits]


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_a_search_one_worker_ranked_is_not_ranked_again_by_the_other(workers, mode, monkeypatch):
    a, b = workers
    first = a.search("protein", mode=mode)
    ranked = []
    real = b._rank
    monkeypatch.setattr(b, "_rank", lambda *args: ranked.append(args) or real(*args))
    again = b.search("protein", mode=mode)
    assert ranked == [] and b._shared is not None and b._shared.hits == 1
    assert _ids(again) == _ids(first) and again.total == first.total
    assert [h.matched_by for h in again.hits] == [h.matched_by for h in first.hits]
    b.search("protein", mode=mode)  # now from its own cache
    assert b._rankings.hits == 1


def test_a_paper_added_after_the_other_worker_ranked_is_found(workers, db):
    a, b = workers
    assert _ids(a.search("protein", mode="lexical")) == ["2401.00001"]
    with db.session() as s:
        upsert_papers(s, [_record("2404.00004", "Protein folding at scale")])
    assert "2404.00004" in _ids(b.search("protein", mode="lexical"))
    assert b._shared is not None and b._shared.hits == 0


def test_without_a_serve_run_nothing_is_shared(settings, db, monkeypatch):
    monkeypatch.delenv(shared_cache.SHARED_RANKINGS_ENV, raising=False)
    svc = SearchService(settings, db, background=False)
    try:
        assert svc._shared is None
    finally:
        svc.close()


@pytest.mark.slow
def test_workers_holding_the_same_embeddings_agree_on_the_content_version(workers, settings, db):
    """The semantic version counts one process's changes; the shared key uses the content
    (generation + the delta's entries), equal in two processes exactly when their entries
    are, whatever order they applied them in."""
    from paperwire.search.embedding_jobs import embed_pending
    from paperwire.search.notify import papers_changed
    from paperwire.search.semantic import SemanticIndex

    embed_pending(settings, db)
    a, b = workers
    sa, sb = a.semantic(), b.semantic()
    assert sa is not None and sb is not None
    sa.refresh(), sb.refresh()
    before = sa.content_version()
    assert sb.content_version() == before
    with db.session() as s:
        upsert_papers(s, [_record("2405.00005", "Amino acid chains read by transformers")])
    papers_changed(settings, db, ["2405.00005"])  # embedded; open indexes apply it
    sa.refresh(), sb.refresh()
    changed = sa.content_version()
    assert changed != before and sb.content_version() == changed
    # A process opened now applies the same entries in one step: another local count of
    # changes, the same content.
    late = SemanticIndex(settings, db, encoder=sa.encoder)
    try:
        late.refresh()
        assert late.content_version() == changed
    finally:
        late.close()
    # A search ranked by one worker is then shared with the other.
    first = a.search("amino acid transformers", mode="hybrid")
    assert _ids(b.search("amino acid transformers", mode="hybrid")) == _ids(first)
    assert "2405.00005" in _ids(first) and b._shared is not None and b._shared.hits >= 1
