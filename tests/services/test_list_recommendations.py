"""One list's recommendations (services.recommendations.for_list) on a real database (SQLite
and PostgreSQL) with real arXiv records: the list's papers are what the model learns from."""

from __future__ import annotations

import pytest

from paperwire.errors import NotFound
from paperwire.services import library as library_service
from paperwire.services import recommendations as service
from paperwire.store import library
from paperwire.web import auth
from tests.recommend.shared_fixtures import fresh_pools, rsettings, sample  # noqa: F401  (fixtures)
from tests.recommend.store_kit import ids_of


def _member(db, name):
    return auth.create_user(db, name, "correct horse battery")


def _list(db, uid, name, ids):
    row = library_service.create_list(db, uid, name)
    for pid in ids:
        library_service.add_to_list(db, uid, row.id, pid)
    return row.id


def test_a_lists_papers_bring_held_out_papers_of_the_same_interest_first(db, rsettings, sample):
    alice = _member(db, "alice")
    # Her other signals point elsewhere: the list's recommendations must follow the list.
    with db.session() as s:
        for pid in ids_of(sample, "cs.CR", old=True):
            library.save_paper(s, alice.id, pid)
    in_list = ids_of(sample, "cs.IR", old=True)
    list_id = _list(db, alice.id, "reading group", in_list)
    recs = service.for_list(db, rsettings, alice.id, list_id)
    assert len(recs) == 10
    held_out = set(ids_of(sample, "cs.IR", old=False))
    assert sum(r.paper_id in held_out for r in recs) >= 7
    assert sum(r.paper_id in held_out for r in recs[:5]) >= 4
    assert not set(in_list) & {r.paper_id for r in recs}
    titles = {pid: sample[pid]["title"] for pid in in_list}
    for r in recs:
        assert r.reason_kind == "list" and r.reason_label == "reading group"
        assert r.reason_paper_id in titles
        assert r.reason.startswith("close to your list “reading group”: similar to “")


def test_papers_already_in_the_list_and_not_interested_ones_are_left_out(db, rsettings, sample):
    alice = _member(db, "alice")
    list_id = _list(db, alice.id, "ir", ids_of(sample, "cs.IR", old=True))
    first = service.for_list(db, rsettings, alice.id, list_id)
    added, rejected = first[0].paper_id, first[1].paper_id
    library_service.add_to_list(db, alice.id, list_id, added)
    with db.session() as s:
        library.set_feedback(s, alice.id, rejected, "less")
    after = {r.paper_id for r in service.for_list(db, rsettings, alice.id, list_id)}
    assert added not in after and rejected not in after


def test_reads_are_cached_until_the_list_changes(db, rsettings, sample):
    alice = _member(db, "alice")
    ids = ids_of(sample, "cs.IR", old=True)
    list_id = _list(db, alice.id, "ir", ids[:5])
    first = service.for_list(db, rsettings, alice.id, list_id)
    assert service.for_list(db, rsettings, alice.id, list_id) == first
    assert len(service.CACHE.lists) == 1
    assert service.for_list(db, rsettings, alice.id, list_id, limit=3) == first[:3]
    library_service.add_to_list(db, alice.id, list_id, ids[5])
    service.for_list(db, rsettings, alice.id, list_id)
    assert len(service.CACHE.lists) == 2


def test_an_empty_list_has_no_recommendations(db, rsettings, sample):
    alice = _member(db, "alice")
    list_id = _list(db, alice.id, "empty", [])
    assert service.for_list(db, rsettings, alice.id, list_id) == []


def test_a_list_with_two_papers_gets_their_nearest_neighbours(db, rsettings, sample):
    alice = _member(db, "alice")
    in_list = ids_of(sample, "physics.ao-ph", old=True)[:2]
    list_id = _list(db, alice.id, "climate", in_list)
    recs = service.for_list(db, rsettings, alice.id, list_id)
    held_out = set(ids_of(sample, "physics.ao-ph", old=False))
    assert sum(r.paper_id in held_out for r in recs[:5]) >= 3
    assert all(r.reason_paper_id in in_list for r in recs)


@pytest.mark.parametrize("public", [False, True])
def test_only_the_owner_gets_a_lists_recommendations(db, rsettings, sample, public):
    alice, bob = _member(db, "alice"), _member(db, "bob")
    row = library_service.create_list(db, alice.id, "mine", is_public=public)
    library_service.add_to_list(db, alice.id, row.id, ids_of(sample, "cs.IR", old=True)[0])
    with pytest.raises(NotFound):
        service.for_list(db, rsettings, bob.id, row.id)
    with pytest.raises(NotFound):
        service.for_list(db, rsettings, alice.id, row.id + 1000)
