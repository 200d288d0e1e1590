"""The ranking cache (search/cache.py) and how SearchService uses it: a repeated search is not
ranked again, and no change to the papers is ever hidden by it (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import update

from paperwire.search.cache import RankingCache
from paperwire.search.service import SearchFilters, SearchService
from paperwire.store.models import Paper, utcnow
from paperwire.store.papers import upsert_papers
from tests.factories import make_record

# --- the cache alone -----------------------------------------------------------------------


def test_an_entry_is_returned_only_at_the_version_it_was_stored_at():
    cache: RankingCache[str] = RankingCache(4)
    cache.put("q", ("gen1", ()), "ranking")
    assert cache.get("q", ("gen1", ())) == "ranking"
    assert cache.get("q", ("gen1", (("2401.1", "t"),))) is None
    assert cache.get("other", ("gen1", ())) is None
    assert (cache.hits, cache.misses) == (1, 2)


def test_the_least_recently_used_entry_goes_first():
    cache: RankingCache[int] = RankingCache(2)
    cache.put("a", 0, 1)
    cache.put("b", 0, 2)
    assert cache.get("a", 0) == 1  # "b" is now the least recently used
    cache.put("c", 0, 3)
    assert cache.get("b", 0) is None and cache.get("a", 0) == 1 and cache.get("c", 0) == 3
    assert len(cache) == 2


def test_size_zero_stores_nothing():
    cache: RankingCache[int] = RankingCache(0)
    cache.put("a", 0, 1)
    assert cache.get("a", 0) is None and len(cache) == 0


# --- through the service -------------------------------------------------------------------


def _record(pid: str, title: str, **kw):
    return make_record(
        id=pid,
        title=title,
        abstract=kw.pop("abstract", "Sequence models for proteins."),
        published_at=kw.pop("published_at", dt.datetime(2024, 1, 5)),
        categories=kw.pop("categories", ["q-bio.BM"]),
        **kw,
    )


@pytest.fixture
def svc(settings, db):
    with db.session() as s:
        upsert_papers(
            s,
            [
                _record("2401.00001", "Protein language models"),
                _record("2402.00002", "Protein structure prediction"),
                _record(
                    "2403.00003",
                    "Galaxy surveys",
                    abstract="Photometric redshift.",
                    categories=["astro-ph.GA"],
                ),
            ],
        )
    service = SearchService(settings, db, background=False)
    yield service
    service.close()


def ids(resp) -> list[str]:
    return [h.paper_id for h in resp.hits]


def test_a_repeated_search_is_not_ranked_again(svc, monkeypatch):
    calls = []
    real = svc.lexical.search
    monkeypatch.setattr(svc.lexical, "search", lambda *a, **k: calls.append(1) or real(*a, **k))
    first = svc.search("protein", mode="lexical")
    ranked = len(calls)
    again = svc.search("protein", mode="lexical")
    assert ranked > 0 and len(calls) == ranked  # the second answer came from the cache
    assert ids(again) == ids(first) and again.total == first.total == 2
    assert svc._rankings.hits == 1


def test_a_different_page_limit_or_filter_is_a_different_entry(svc):
    full = ids(svc.search("protein", mode="lexical", limit=2))
    assert ids(svc.search("protein", mode="lexical", limit=1)) == full[:1]
    assert ids(svc.search("protein", mode="lexical", limit=1, offset=1)) == full[1:]
    assert ids(svc.search("protein", mode="lexical", sort="newest")) != []
    cats = SearchFilters(categories=("astro-ph.GA",))
    assert ids(svc.search("protein", mode="lexical", filters=cats)) == []
    assert svc._rankings.hits == 0


@pytest.mark.parametrize("mode", ["lexical", "hybrid"])
def test_a_paper_added_after_a_search_is_in_the_next_one(svc, db, mode):
    assert "2404.00004" not in ids(svc.search("protein", mode=mode))
    with db.session() as s:
        upsert_papers(s, [_record("2404.00004", "Protein folding at scale")])
    resp = svc.search("protein", mode=mode)
    assert "2404.00004" in ids(resp) and resp.total == 3


def test_a_paper_hidden_after_a_search_leaves_the_next_one_and_its_total(svc, db):
    assert svc.search("protein", mode="lexical").total == 2
    with db.session() as s:
        s.execute(
            update(Paper).where(Paper.id == "2402.00002").values(hidden=True, modified_at=utcnow())
        )
    resp = svc.search("protein", mode="lexical")
    assert ids(resp) == ["2401.00001"] and resp.total == 1


def test_a_changed_title_is_ranked_again(svc, db):
    assert "2403.00003" not in ids(svc.search("protein", mode="lexical"))
    with db.session() as s:
        upsert_papers(
            s,
            [
                _record(
                    "2403.00003",
                    "Protein galaxies",
                    abstract="Redshift.",
                    categories=["astro-ph.GA"],
                )
            ],
        )
    assert "2403.00003" in ids(svc.search("protein", mode="lexical"))


def test_upvote_order_is_never_served_from_the_cache(svc, db):
    def order():
        return ids(svc.search("protein", mode="lexical", sort="upvotes"))

    with db.session() as s:
        s.execute(update(Paper).where(Paper.id == "2401.00001").values(upvotes=5))
    assert order()[0] == "2401.00001"
    # Votes change upvote counts without touching the indexes.
    with db.session() as s:
        s.execute(update(Paper).where(Paper.id == "2402.00002").values(upvotes=9))
    assert order()[0] == "2402.00002"


def test_rows_are_read_fresh_for_a_cached_ranking(svc, db):
    svc.search("protein", mode="lexical")
    with db.session() as s:
        s.execute(update(Paper).where(Paper.id == "2401.00001").values(upvotes=42))
    hit = next(h for h in svc.search("protein", mode="lexical").hits if h.paper_id == "2401.00001")
    assert svc._rankings.hits == 1 and hit.paper.upvotes == 42


def test_the_cache_can_be_turned_off(settings, db, svc):
    off = SearchService(dataclasses.replace(settings, search_cache_size=0), db, background=False)
    try:
        off.search("protein", mode="lexical")
        off.search("protein", mode="lexical")
        assert off._rankings.hits == 0 and len(off._rankings) == 0
    finally:
        off.close()


@pytest.mark.slow
def test_a_paper_embedded_after_a_search_is_found_by_meaning_in_the_next_one(svc, settings, db):
    """A paper that no keyword of the query matches enters by meaning once it is embedded:
    the semantic index's change invalidates the cached ranking."""
    from paperwire.search.embedding_jobs import embed_pending
    from paperwire.search.notify import papers_changed

    embed_pending(settings, db)
    query = "protein language models"
    floor = 0.3
    before = svc.search(query, mode="hybrid", min_similarity=floor)
    with db.session() as s:
        upsert_papers(
            s,
            [
                _record(
                    "2405.00005",
                    "Pretrained transformers for amino acid chains",
                    abstract="Deep networks read amino acid chains and learn their grammar.",
                )
            ],
        )
    # Not embedded yet: keyword-only papers and the old embeddings answer.
    assert "2405.00005" not in ids(svc.search(query, mode="hybrid", min_similarity=floor))
    papers_changed(settings, db, ["2405.00005"])  # embeds it, as a submission does
    after = svc.search(query, mode="hybrid", min_similarity=floor)
    assert "2405.00005" not in ids(before)
    fresh = SearchService(dataclasses.replace(settings, search_cache_size=0), db, background=False)
    try:
        uncached = fresh.search(query, mode="hybrid", min_similarity=floor)
    finally:
        fresh.close()
    assert [(h.paper_id, h.similarity) for h in after.hits] == [
        (h.paper_id, h.similarity) for h in uncached.hits
    ]
    assert "2405.00005" in ids(after), [(h.paper_id, h.similarity) for h in after.hits]
    assert after.hits[ids(after).index("2405.00005")].matched_by == {"semantic"}


def test_a_refresh_that_changes_no_paper_keeps_the_cached_rankings(svc, db):
    """The refresher moves the watermark every few seconds; only a change to the papers
    may cost the cache its entries (with the file's stamp as version, every tick did)."""
    first = svc.search("protein", mode="lexical")
    version = svc.lexical.version()
    svc.lexical.refresh(block=True)
    assert svc.lexical.version() == version
    assert ids(svc.search("protein", mode="lexical")) == ids(first)
    assert svc._rankings.hits == 1
    with db.session() as s:
        upsert_papers(s, [_record("2404.00004", "Protein folding at scale")])
    svc.lexical.refresh(block=True)  # folded into the index: no longer in the delta
    assert svc.lexical.version() != version
    assert "2404.00004" in ids(svc.search("protein", mode="lexical"))


def test_the_filtered_candidates_of_the_meaning_side_follow_the_papers(svc, db):
    """The exact semantic search among few filtered papers reuses their list (a digest's
    thousands of topics share one candidate set) only while the index is unchanged."""
    from paperwire.search.filters import Constraints

    cons = Constraints(categories=("astro-ph.GA",))
    assert svc._filtered_candidates(cons) == ["2403.00003"]
    assert svc._filtered_candidates(cons) == ["2403.00003"] and svc._candidates.hits == 1
    with db.session() as s:
        upsert_papers(s, [_record("2406.00006", "Dark matter halos", categories=["astro-ph.GA"])])
    assert sorted(svc._filtered_candidates(cons)) == ["2403.00003", "2406.00006"]
