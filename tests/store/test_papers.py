"""Upsert by id is idempotent, follows newer versions and never touches community data."""

import dataclasses

from sqlalchemy import select

from paperwire.store.models import Paper
from paperwire.store.papers import get_paper, paper_to_record, upsert_papers
from tests.factories import make_record


def _upsert(db, records):
    with db.session() as s:
        return upsert_papers(s, records)


def test_upsert_same_records_twice_changes_nothing(db):
    records = [make_record() for _ in range(5)]
    first = _upsert(db, records)
    with db.session() as s:
        before = {p.id: p.modified_at for p in s.scalars(select(Paper))}
    second = _upsert(db, records)
    with db.session() as s:
        after = {p.id: p.modified_at for p in s.scalars(select(Paper))}
    assert (first.new, first.updated, first.unchanged) == (5, 0, 0)
    assert (second.new, second.updated, second.unchanged) == (0, 0, 5)
    assert before == after


def test_newer_version_updates_record(db):
    rec = make_record(version=1)
    _upsert(db, [rec])
    newer = dataclasses.replace(rec, version=2, title="Revised title")
    result = _upsert(db, [newer])
    with db.session() as s:
        paper = get_paper(s, rec.id)
        assert (paper.version, paper.title) == (2, "Revised title")
    assert result.updated == 1


def test_older_version_never_overwrites_newer(db):
    rec = make_record(version=3, title="Third")
    _upsert(db, [rec])
    result = _upsert(db, [dataclasses.replace(rec, version=1, title="First")])
    with db.session() as s:
        assert get_paper(s, rec.id).title == "Third"
    assert result.unchanged == 1


def test_update_keeps_community_upvotes(db):
    rec = make_record(imported_upvotes=4)
    _upsert(db, [rec])
    with db.session() as s:
        s.get(Paper, rec.id).upvotes = 10  # four imported + six from members
    _upsert(db, [dataclasses.replace(rec, version=2, imported_upvotes=5)])
    with db.session() as s:
        paper = get_paper(s, rec.id)
        assert (paper.imported_upvotes, paper.upvotes) == (5, 11)


def test_stored_paper_round_trips_to_same_hash(db):
    rec = make_record()
    _upsert(db, [rec])
    with db.session() as s:
        assert paper_to_record(get_paper(s, rec.id)).content_hash() == rec.content_hash()
