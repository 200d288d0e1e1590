"""The recommendations service on a real database (SQLite and PostgreSQL) with real arXiv
records: learning from saves, stored rows reused while the signals hold, "not interested",
cold start from followed topics, privacy and account deletion."""

from __future__ import annotations

from paperwire.services import recommendations as service
from paperwire.store import library
from paperwire.store.recommendations import stored_recommendations
from paperwire.web import auth
from tests.recommend.fixtures import primary
from tests.recommend.shared_fixtures import fresh_pools, rsettings, sample  # noqa: F401  (fixtures)
from tests.recommend.store_kit import ids_of


def _member(db, name):
    return auth.create_user(db, name, "correct horse battery")


def _save(db, uid, ids):
    with db.session() as s:
        for pid in ids:
            library.save_paper(s, uid, pid)


def test_a_member_who_saved_papers_of_a_field_gets_this_weeks_papers_of_it(db, rsettings, sample):
    alice = _member(db, "alice")
    _save(db, alice.id, ids_of(sample, "cs.CR", old=True))
    recs = service.recommendations_for(rsettings, db, alice.id)
    assert len(recs) == 10
    fresh = set(ids_of(sample, "cs.CR", old=False))
    assert sum(r.paper_id in fresh for r in recs) >= 7
    assert all(not sample[r.paper_id]["old"] for r in recs)  # only this week's papers
    assert all(r.reason.startswith("because you saved “") for r in recs)


def test_stored_recommendations_are_reused_until_a_signal_changes(db, rsettings, sample):
    alice = _member(db, "alice")
    _save(db, alice.id, ids_of(sample, "cs.IR", old=True))
    first = service.recommendations_for(rsettings, db, alice.id)
    with db.session() as s:
        sign, at, rows = stored_recommendations(s, alice.id)
    assert [r.paper_id for r in rows] == [r.paper_id for r in first]
    again = service.recommendations_for(rsettings, db, alice.id)
    with db.session() as s:
        assert stored_recommendations(s, alice.id)[1] == at  # not recomputed
    assert again == first
    with db.session() as s:
        library.set_feedback(s, alice.id, first[0].paper_id, "less")
    after = service.recommendations_for(rsettings, db, alice.id)
    assert first[0].paper_id not in {r.paper_id for r in after}
    with db.session() as s:
        assert stored_recommendations(s, alice.id)[0] != sign


def test_cold_start_follows_the_members_topics(db, rsettings, sample):
    bob = _member(db, "bob")
    with db.session() as s:
        library.follow_topic(s, bob.id, "cat:physics.ao-ph")
    recs = service.recommendations_for(rsettings, db, bob.id)
    assert recs
    assert all(
        primary(sample[r.paper_id]) == "physics.ao-ph"
        or "physics.ao-ph" in sample[r.paper_id]["categories"]
        for r in recs
    )
    assert {r.reason for r in recs} == {"matches your topic “cat:physics.ao-ph”"}


def test_no_signals_no_recommendations(db, rsettings, sample):
    carol = _member(db, "carol")
    assert service.recommendations_for(rsettings, db, carol.id) == []


def test_a_members_recommendations_come_from_their_own_signals_only(db, rsettings, sample):
    alice, bob = _member(db, "alice"), _member(db, "bob")
    _save(db, alice.id, ids_of(sample, "cs.CR", old=True))
    _save(db, bob.id, ids_of(sample, "physics.ao-ph", old=True))
    a = service.recommendations_for(rsettings, db, alice.id)
    b = service.recommendations_for(rsettings, db, bob.id)
    alice_saved = set(ids_of(sample, "cs.CR", old=True))
    assert all(r.reason_paper_id in alice_saved for r in a)
    assert not any(r.reason_paper_id in alice_saved for r in b)


def test_account_deletion_removes_stored_recommendations(db, rsettings, sample):
    from paperwire.store.users import delete_account

    alice = _member(db, "alice")
    _save(db, alice.id, ids_of(sample, "cs.CR", old=True))
    assert service.recommendations_for(rsettings, db, alice.id)
    with db.session() as s:
        delete_account(s, alice.id)
    with db.session() as s:
        assert stored_recommendations(s, alice.id) == (None, None, [])


def test_the_nightly_precomputation_stores_every_member_with_signals(db, rsettings, sample):
    alice, bob, _carol = _member(db, "alice"), _member(db, "bob"), _member(db, "carol")
    _save(db, alice.id, ids_of(sample, "cs.CR", old=True))
    with db.session() as s:
        library.follow_topic(s, bob.id, "cat:cs.IR")
    members, stored = service.precompute_all(rsettings, db)
    assert members == 2 and stored > 0
    with db.session() as s:
        assert stored_recommendations(s, alice.id)[2]
        assert stored_recommendations(s, bob.id)[2]


def test_cold_start_brings_the_followed_authors_papers_first(db, rsettings, sample):
    from paperwire.authors.names import strict_key
    from paperwire.store import authors

    fresh = [pid for pid, r in sample.items() if not r["old"]]
    author = sample[fresh[0]]["authors"].split(",")[0].strip()
    dana = _member(db, "dana")
    with db.session() as s:
        authors.follow(s, dana.id, strict_key(author), author)
    recs = service.recommendations_for(rsettings, db, dana.id)
    assert recs[0].paper_id in {pid for pid in fresh if author in sample[pid]["authors"]}
    assert recs[0].reason == f"by {author}, whom you follow"


def test_the_account_export_lists_the_stored_recommendations(db, rsettings, sample):
    from paperwire.store.recommendations import export_member

    alice = _member(db, "alice")
    _save(db, alice.id, ids_of(sample, "cs.IR", old=True))
    recs = service.recommendations_for(rsettings, db, alice.id)
    with db.session() as s:
        out = export_member(s, alice.id)
    assert [r["paperId"] for r in out["recommendations"]] == [r.paper_id for r in recs]
    assert out["recommendations"][0]["reasonKind"] == "saved"
    with db.session() as s:
        assert export_member(s, _member(db, "bob").id) == {
            "recommendationsComputedAt": None,
            "recommendations": [],
        }


def test_a_stale_pool_is_served_at_once_and_rebuilt_in_the_background(
    db, rsettings, sample, monkeypatch
):
    with db.session() as s:
        first = service.pool_for(s, rsettings, db=db)
        assert service.pool_for(s, rsettings, db=db) is first  # fresh: reused
        monkeypatch.setattr(first, "built_at", first.built_at - service.POOL_TTL_SECONDS - 1)
        assert service.pool_for(s, rsettings, db=db) is first  # stale: still served
    service.wait_for_refreshes()
    with db.session() as s:
        rebuilt = service.pool_for(s, rsettings, db=db)
    assert rebuilt is not first and rebuilt.candidates == first.candidates
