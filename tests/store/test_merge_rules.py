"""Per-source merge rules (store.merge, issue 12 D14): an import never erases what the
database knew — each rule on SQLite and PostgreSQL, and the rules against a reference on
generated records."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from paperwire.ingest.importer import import_file
from paperwire.records import PaperRecord
from paperwire.store.merge import authoritative, merge_records
from paperwire.store.models import FeedEntry
from paperwire.store.papers import get_paper, paper_to_record, upsert_papers
from tests.factories import make_record
from tests.ingest.helpers import dump_tables, write_snapshot


def _upsert(db, *records):
    with db.session() as s:
        return upsert_papers(s, records)


def _stored(db, pid) -> PaperRecord:
    with db.session() as s:
        return paper_to_record(get_paper(s, pid))


def _import(settings, db, path, fmt):
    errors: list[str] = []
    summary = import_file(settings, db, path, fmt, progress=False, on_error=errors.append)
    assert errors == []
    return summary


def _daily(path, ids, **paper):
    items = [
        {
            "paper": {
                "id": pid,
                "title": f"Feed title {pid}",
                "summary": "Feed summary",
                "authors": [],
                "publishedAt": "2023-06-01T00:00:00.000Z",
                "upvotes": 10,
                **paper,
            },
            "submittedOnDailyAt": "2023-06-02T08:00:00.000Z",
            "submittedBy": "AK",
        }
        for pid in ids
    ]
    path.write_text(json.dumps(items))
    return path


def test_daily_papers_with_empty_authors_keeps_snapshot_metadata(settings, db, tmp_path):
    ids = write_snapshot(tmp_path / "snap.jsonl", 5)
    _import(settings, db, tmp_path / "snap.jsonl", "kaggle")
    before = {pid: _stored(db, pid) for pid in ids}
    daily = _daily(tmp_path / "daily.json", ids[:3])
    summary = _import(settings, db, daily, "hf-daily")
    assert (summary.updated, summary.feed_added) == (3, 3)  # the vote counts moved
    for pid in ids:
        after = _stored(db, pid)
        assert after.authors == before[pid].authors and after.authors
        assert (after.title, after.abstract) == (before[pid].title, before[pid].abstract)
        assert after.content_hash() == before[pid].content_hash()
    with db.session() as s:
        assert get_paper(s, ids[0]).imported_upvotes == 10
        assert s.query(FeedEntry).count() == 3
    tables = dump_tables(db)
    again = _import(settings, db, daily, "hf-daily")
    assert (again.new, again.updated, again.unchanged, again.feed_added) == (0, 0, 3, 0)
    assert dump_tables(db) == tables


def test_name_only_feed_authors_never_replace_affiliations(settings, db, tmp_path):
    ids = write_snapshot(tmp_path / "snap.jsonl", 2)
    _import(settings, db, tmp_path / "snap.jsonl", "kaggle")
    _import(
        settings,
        db,
        _daily(
            tmp_path / "d.json",
            ids,
            authors=[{"name": "Other Person"}],
            publishedAt="2030-01-01T00:00:00Z",
        ),
        "hf-daily",
    )
    assert _stored(db, ids[0]).authors[0] == {"name": "A. One", "affiliations": ["Uni A"]}


def test_absent_or_empty_fields_leave_the_stored_values(db):
    rec = make_record(
        doi="10.1/x", comments="12 pages", journal_ref="J. Test 1", categories=["cs.CL", "cs.LG"]
    )
    _upsert(db, rec)
    newer = dataclasses.replace(
        rec,
        version=2,
        doi=None,
        comments="",
        categories=[],
        primary_category=None,
        authors=[],
        author_count=0,
        title="Revised",
    )
    result = _upsert(db, newer)
    after = _stored(db, rec.id)
    assert result.updated == 1 and after.title == "Revised" and after.version == 2
    assert (after.doi, after.comments, after.journal_ref) == ("10.1/x", "12 pages", "J. Test 1")
    assert after.categories == ["cs.CL", "cs.LG"] and after.authors == rec.authors


def test_newer_version_wins_and_an_older_one_only_fills_gaps(db):
    created = dt.datetime(2023, 1, 1)
    v2 = make_record(
        version=2,
        title="Second",
        doi=None,
        versions=[
            {"version": 1, "created": created.isoformat()},
            {"version": 2, "created": "2023-02-01T00:00:00"},
        ],
    )
    _upsert(db, v2)
    v1 = dataclasses.replace(
        v2,
        version=1,
        title="First",
        doi="10.1/old",
        versions=[{"version": 1, "created": created.isoformat()}],
    )
    _upsert(db, v1)
    after = _stored(db, v2.id)
    assert (after.title, after.version, after.doi) == ("Second", 2, "10.1/old")
    assert [v["version"] for v in after.versions] == [1, 2]
    v3 = dataclasses.replace(
        v2, version=3, title="Third", versions=[{"version": 3, "created": "2023-03-01T00:00:00"}]
    )
    _upsert(db, v3)
    after = _stored(db, v2.id)
    assert (after.title, after.version) == ("Third", 3)
    assert [v["version"] for v in after.versions] == [1, 2, 3]


def test_feed_records_update_a_paper_only_feeds_know(settings, db, tmp_path):
    _import(settings, db, _daily(tmp_path / "a.json", ["x-1"], title="Typo titel"), "hf-daily")
    _import(
        settings,
        db,
        _daily(tmp_path / "b.json", ["x-1"], title="Fixed title", authors=[{"name": "Ann"}]),
        "hf-daily",
    )
    after = _stored(db, "hf:x-1")
    assert after.title == "Fixed title" and [a["name"] for a in after.authors] == ["Ann"]


def test_snapshot_replaces_what_a_feed_brought_but_keeps_its_votes(settings, db, tmp_path):
    ids = write_snapshot(tmp_path / "snap.jsonl", 2)
    _import(
        settings, db, _daily(tmp_path / "d.json", ids, authors=[{"name": "A. One"}]), "hf-daily"
    )
    _import(settings, db, tmp_path / "snap.jsonl", "kaggle")
    after = _stored(db, ids[0])
    assert after.authors[0] == {"name": "A. One", "affiliations": ["Uni A"]}
    assert after.title.startswith("Paper 1 on sparse graphs") and after.versions
    with db.session() as s:
        paper = get_paper(s, ids[0])
        assert (paper.imported_upvotes, paper.upvotes) == (10, 10)


# --- the rules against a reference, on generated records ------------------------------------

_text = st.sampled_from(["", "a", "b", "longer text"])
_authors = st.lists(
    st.builds(lambda n: {"name": n, "affiliations": []}, st.sampled_from(["Ann", "Bob"])),
    max_size=2,
)
_versions = st.lists(st.integers(1, 4), max_size=3, unique=True).map(
    lambda ns: [{"version": n, "created": f"2023-0{n}-01T00:00:00"} for n in sorted(ns)]
)


@st.composite
def _records(draw):
    versions = draw(_versions)
    return PaperRecord(
        id="2301.00001",
        title=draw(_text),
        abstract=draw(_text),
        authors=draw(_authors),
        doi=draw(st.one_of(st.none(), _text)),
        categories=draw(st.lists(st.sampled_from(["cs.CL", "cs.LG"]), max_size=2, unique=True)),
        versions=versions,
        version=versions[-1]["version"] if versions else None,
        updated_at=draw(
            st.one_of(st.none(), st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2024, 1, 1)))
        ),
        imported_upvotes=draw(st.one_of(st.none(), st.integers(0, 5))),
    )


@hsettings(max_examples=300, derandomize=True, deadline=None)
@given(_records(), _records())
def test_merge_never_erases_and_respects_fidelity(stored, incoming):
    merged = merge_records(stored, incoming)
    for name in ("title", "abstract", "authors", "doi", "categories", "versions"):
        old, new, out = getattr(stored, name), getattr(incoming, name), getattr(merged, name)
        if old not in (None, "", []):
            assert out not in (None, "", []), name  # rule 1: never erased
        if old in (None, "", []) and new not in (None, "", []):
            assert out == new, name  # rule 2: gaps are filled
        if new in (None, "", []) and name != "versions":
            assert out == old, name
        if authoritative(stored) and not authoritative(incoming) and old not in (None, "", []):
            assert out == old, name  # rule 4: feeds fill gaps only
    numbers = {v["version"] for v in stored.versions} | {v["version"] for v in incoming.versions}
    assert [v["version"] for v in merged.versions] == sorted(numbers)  # rule 5
    assert merged.version == max(numbers, default=None) if numbers else merged.version is None
    assert merge_records(merged, incoming) == merged  # idempotent
