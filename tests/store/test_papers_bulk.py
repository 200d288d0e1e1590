"""The bulk write path of the upsert (COPY + staging table on PostgreSQL, executemany on
SQLite) stores exactly what the ORM would, including text COPY must escape."""

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import text

from paperwire.store.papers import (
    bulk_load_transaction,
    copy_line,
    get_paper,
    paper_to_record,
    upsert_papers,
)
from tests.factories import make_record

AWKWARD = {
    "title": "Back\\slash, tab\there, new\nline and \\N literally",
    "abstract": "CR\r\nLaTeX $\\alpha_{\\mathrm{x}}$ \u00e9\u4e2d\U0001f600 \\\\ end\\",
    "authors": [{"name": 'O\'Brien \\ "Q"\t', "affiliations": ["Lab\nA"]}],
    "comments": None,
    "journal_ref": "\\N",
}


def _upsert(db, records):
    with db.session() as s:
        return upsert_papers(s, records)


@pytest.mark.parametrize(
    "row, line",
    [
        (("a", None, 3, True, False), b"a\t\\N\t3\tt\tf\n"),
        (("tab\t", "nl\n", "cr\r", "bs\\"), b"tab\\t\tnl\\n\tcr\\r\tbs\\\\\n"),
        (("\\N",), b"\\\\N\n"),
        ((dt.datetime(2024, 5, 1, 12, 30),), b"2024-05-01 12:30:00\n"),
        (
            (dt.datetime(2024, 5, 1, 14, 30, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=2))),),
            b"2024-05-01 12:30:00.000005\n",
        ),
        (("\u00e9",), "\u00e9\n".encode()),
    ],
)
def test_copy_line_escapes_like_postgresql_text_format(row, line):
    assert copy_line(row) == line


def test_awkward_text_round_trips_on_insert_and_update(db):
    rec = make_record(**AWKWARD)
    assert _upsert(db, [rec]).new == 1
    with db.session() as s:
        stored = paper_to_record(get_paper(s, rec.id))
    assert {k: getattr(stored, k) for k in AWKWARD} == AWKWARD
    assert stored.content_hash() == rec.content_hash()

    newer = dataclasses.replace(
        rec, version=2, title=AWKWARD["abstract"], abstract=AWKWARD["title"]
    )
    assert _upsert(db, [newer]).updated == 1
    with db.session() as s:
        stored = paper_to_record(get_paper(s, rec.id))
    assert stored.content_hash() == newer.content_hash()
    assert _upsert(db, [newer]).unchanged == 1


def test_mixed_batch_and_two_batches_in_one_transaction(db):
    old = [make_record(version=1) for _ in range(6)]
    _upsert(db, old)
    changed = [dataclasses.replace(r, version=2, title=f"v2 {i}") for i, r in enumerate(old[:3])]
    fresh = [make_record() for _ in range(4)]
    with db.session() as s:
        first = upsert_papers(s, changed + old[3:] + fresh)
        # A second batch in the same transaction must not see the first one's staged rows.
        again = [dataclasses.replace(old[3], version=2, title="v2 late")]
        second = upsert_papers(s, again)
    assert (first.new, first.updated, first.unchanged) == (4, 3, 3)
    assert (second.new, second.updated, second.unchanged) == (0, 1, 0)
    with db.session() as s:
        titles = {r.id: get_paper(s, r.id).title for r in old}
    assert titles == {
        **{r.id: r.title for r in old[4:]},
        **{r.id: f"v2 {i}" for i, r in enumerate(old[:3])},
        old[3].id: "v2 late",
    }


def test_bulk_load_transaction_relaxes_only_its_own_transaction(db):
    if db.dialect != "postgresql":
        with db.session() as s:
            bulk_load_transaction(s)  # a no-op that must not fail
        return
    with db.session() as s:
        bulk_load_transaction(s)
        assert s.execute(text("SHOW synchronous_commit")).scalar() == "off"
    with db.session() as s:
        assert s.execute(text("SHOW synchronous_commit")).scalar() == "on"
