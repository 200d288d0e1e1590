"""The streaming importer on SQLite and PostgreSQL (the `db`/`settings` fixtures run both)."""

import dataclasses
import gzip
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from paperwire.errors import BadInput
from paperwire.ingest.exporter import export_papers
from paperwire.ingest.importer import import_file, import_paths
from paperwire.store.db import Database
from paperwire.store.migrate import upgrade
from paperwire.store.models import Checkpoint, FeedEntry, Paper
from paperwire.store.papers import get_paper
from tests.ingest.helpers import dump_tables, write_snapshot

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KAGGLE = FIXTURES / "arxiv" / "kaggle" / "arxiv-metadata-oai-snapshot.sample.jsonl"
DAILY = FIXTURES / "daily_papers" / "sample.json"


def run(settings, db, path, fmt="auto", **kw):
    errors = []
    summary = import_file(settings, db, path, fmt, progress=False, on_error=errors.append, **kw)
    return summary, errors


def test_real_snapshot_sample_imports_and_reimport_changes_nothing(settings, db):
    summary, errors = run(settings, db, KAGGLE)
    assert (summary.new, summary.updated, summary.unchanged, summary.rejected) == (200, 0, 0, 0)
    assert errors == []
    with db.session() as session:
        paper = get_paper(session, "0704.0044")
        assert paper.version == 4 and paper.author_count == 7
        assert paper.authors[1] == {"name": "S. C. Cowley", "affiliations": ["Culham"]}
        assert paper.categories[0] == "astro-ph" == paper.primary_category
        assert [v["version"] for v in paper.versions] == [1, 2, 3, 4]
    before = dump_tables(db)
    summary, _ = run(settings, db, KAGGLE)
    assert (summary.new, summary.updated, summary.unchanged) == (0, 0, 200)
    assert dump_tables(db) == before


def test_malformed_lines_are_reported_with_file_and_line_and_skipped(settings, db, tmp_path):
    lines = KAGGLE.read_text().splitlines()[:5]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        "\n".join(
            [
                lines[0],
                "{not json",
                lines[1],
                "",
                json.dumps({"id": "abc", "title": "x"}),
                lines[2],
                json.dumps({"id": "0704.0009"}),
                lines[3],
            ]
        )
        + "\n"
    )
    summary, errors = run(settings, db, bad, "kaggle")
    assert summary.new == 4 and summary.rejected == 3
    assert errors[0].startswith(f"{bad}:2: invalid JSON")
    assert errors[1].startswith(f"{bad}:5: id: not an arXiv id: 'abc'")
    assert errors[2] == f"{bad}:7: title: missing or empty"
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Paper)) == 4


def test_gzip_file_and_auto_detection(settings, db, tmp_path):
    gz = tmp_path / "snapshot.json.gz"
    with open(KAGGLE, "rb") as src, gzip.open(gz, "wb") as dst:
        shutil.copyfileobj(src, dst)
    summary, _ = run(settings, db, gz)
    assert summary.new == 200


def test_daily_papers_json_creates_feed_entries_and_votes_idempotently(settings, db):
    summary, errors = run(settings, db, DAILY)
    assert (summary.new, summary.feed_added, summary.rejected) == (3, 3, 0), errors
    with db.session() as session:
        mamba = get_paper(session, "2312.00752")
        assert (mamba.imported_upvotes, mamba.upvotes) == (143, 143)
        entry = session.scalar(select(FeedEntry).where(FeedEntry.paper_id == "2312.00752"))
        assert str(entry.day) == "2023-12-04" and entry.submitted_by_name == "AK"
    before = dump_tables(db)
    summary, _ = run(settings, db, DAILY)
    assert (summary.new, summary.updated, summary.unchanged, summary.feed_added) == (0, 0, 3, 0)
    assert dump_tables(db) == before


def test_daily_papers_vote_change_moves_upvotes_but_not_metadata(settings, db, tmp_path):
    run(settings, db, KAGGLE)
    items = [
        {
            "paper": {"id": "0704.0001", "title": "Different title", "summary": "s", "upvotes": 9},
            "submittedOnDailyAt": "2024-01-02T03:04:05Z",
        }
    ]
    dump = tmp_path / "daily.json"
    dump.write_text(json.dumps(items))
    summary, _ = run(settings, db, dump)
    assert (summary.updated, summary.feed_added) == (1, 1)
    with db.session() as session:
        paper = get_paper(session, "0704.0001")
        # The snapshot's versioned metadata stays; only the votes came along.
        assert paper.title.startswith("Calculation of prompt diphoton")
        assert (paper.imported_upvotes, paper.upvotes) == (9, 9)
    items[0]["paper"]["upvotes"] = 4
    dump.write_text(json.dumps(items))
    run(settings, db, dump)
    with db.session() as session:
        assert get_paper(session, "0704.0001").upvotes == 4


def test_newer_snapshot_version_updates_older_one_does_not(settings, db, tmp_path):
    line = json.loads(KAGGLE.read_text().splitlines()[0])  # 0704.0001, v2
    newer = dict(
        line,
        title="Corrected title",
        versions=line["versions"] + [{"version": "v3", "created": "Mon, 1 Dec 2008 10:00:00 GMT"}],
    )
    path = tmp_path / "v.jsonl"
    path.write_text(json.dumps(line) + "\n")
    run(settings, db, path)
    path.write_text(json.dumps(newer) + "\n")
    summary, _ = run(settings, db, path)
    assert summary.updated == 1
    path.write_text(json.dumps(dict(line, title="Stale title")) + "\n")
    summary, _ = run(settings, db, path)
    assert summary.unchanged == 1
    with db.session() as session:
        paper = get_paper(session, "0704.0001")
        assert (paper.title, paper.version) == ("Corrected title", 3)


def test_export_then_import_into_empty_database_is_byte_identical(settings, db, tmp_path):
    run(settings, db, KAGGLE)
    run(settings, db, DAILY)
    first = tmp_path / "first.jsonl"
    assert export_papers(db, str(first)) == 203
    other = Database(f"sqlite:///{tmp_path / 'other.db'}")
    upgrade(other)
    other_settings = dataclasses.replace(settings, database_url=other.url)
    summary, errors = run(other_settings, other, first)
    assert (summary.new, summary.rejected, summary.feed_added) == (203, 0, 3), errors
    second = tmp_path / "second.jsonl"
    export_papers(other, str(second))
    assert first.read_bytes() == second.read_bytes()
    other.dispose()


def test_json_array_of_any_format_and_broken_array(settings, db, tmp_path):
    lines = [json.loads(x) for x in KAGGLE.read_text().splitlines()[:3]]
    path = tmp_path / "array.json"
    path.write_text(json.dumps(lines, indent=1))
    summary, _ = run(settings, db, path)
    assert summary.new == 3
    path.write_text(json.dumps(lines)[:-40])
    with pytest.raises(BadInput, match=r"array.json:1: invalid JSON"):
        run(settings, db, path)


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "no such file"),
        ('{"x": 1}\n', "cannot detect the format"),
        ("{oops\nnot json either\n", "no line is valid JSON"),
    ],
)
def test_unusable_files_are_clear_errors(settings, db, tmp_path, content, message):
    path = tmp_path / "input.jsonl"
    if content is not None:
        path.write_text(content)
    with pytest.raises(BadInput, match=message):
        run(settings, db, path)


def test_import_resumes_from_checkpoint_of_unchanged_file_only(settings, db, tmp_path):
    path = tmp_path / "snap.jsonl"
    write_snapshot(path, 30)
    # Simulate a run that committed the first 10 records and died: import 10, then forge the
    # checkpoint a killed run leaves (the subprocess test does it for real).
    head = tmp_path / "head.jsonl"
    head.write_text("".join(path.read_text().splitlines(keepends=True)[:10]))
    run(settings, db, head)
    from paperwire.ingest.importer import _checkpoint_identity
    from paperwire.ingest.reader import RecordFile
    from paperwire.store.checkpoints import save_checkpoint

    with RecordFile(path) as rf:
        name, identity = _checkpoint_identity(rf)
    offset = len(head.read_bytes())
    with db.session() as session:
        save_checkpoint(
            session,
            name,
            {
                "identity": identity,
                "format": "kaggle",
                "offset": offset,
                "line": 10,
                "counts": {"new": 10, "records": 10},
            },
        )
    summary, _ = run(settings, db, path, batch_size=7)
    assert summary.resumed == [f"{path}:10"]
    assert (summary.new, summary.unchanged) == (30, 0)  # 10 before + 20 now, none re-read
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Checkpoint)) == 0
        assert session.scalar(select(func.count()).select_from(Paper)) == 30
    # A checkpoint for a file that changed since is ignored: the whole file is read.
    with db.session() as session:
        save_checkpoint(
            session,
            name,
            {
                "identity": dict(identity, size=1),
                "format": "kaggle",
                "offset": offset,
                "line": 10,
                "counts": {},
            },
        )
    summary, _ = run(settings, db, path)
    assert summary.resumed == [] and summary.unchanged == 30


def test_import_paths_sums_files(settings, db, tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_snapshot(a, 5)
    write_snapshot(b, 5, start=100)
    summary = import_paths(settings, db, [a, b], progress=False)
    assert (summary.files, summary.new) == (2, 10)


def test_parallel_parsing_gives_the_same_database(settings, db, tmp_path):
    path = tmp_path / "snap.jsonl"
    write_snapshot(path, 700)
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(300, "{broken\n")
    path.write_text("".join(lines))
    parallel = dataclasses.replace(settings, import_workers=2)
    errors = []
    summary = import_file(parallel, db, path, progress=False, on_error=errors.append, batch_size=64)
    assert (summary.new, summary.rejected) == (700, 1)
    assert len(errors) == 1 and errors[0].startswith(f"{path}:301: invalid JSON")
    other = Database(f"sqlite:///{tmp_path / 'serial.db'}")
    upgrade(other)
    serial = dataclasses.replace(settings, import_workers=0, database_url=other.url)
    import_file(serial, other, path, progress=False, on_error=lambda m: None, batch_size=64)
    assert dump_tables(db)["papers"] == dump_tables(other)["papers"]
    other.dispose()


def test_export_names_local_submitters_so_reimport_keeps_the_feed(settings, db, tmp_path):
    import datetime as dt

    from paperwire.store.feed import add_feed_entry
    from tests.factories import make_papers, make_store_user

    [record] = make_papers(db, 1)
    user = make_store_user(db, "alice")
    with db.session() as session:
        add_feed_entry(
            session,
            record.id,
            dt.date(2024, 5, 1),
            submitted_by=user.id,
            submitted_at=dt.datetime(2024, 5, 1, 9, 0),
        )
    out = tmp_path / "export.jsonl"
    export_papers(db, str(out))
    line = json.loads(out.read_text())
    assert line["feed"] == {
        "day": "2024-05-01",
        "submitted_by": "alice",
        "submitted_at": "2024-05-01T09:00:00",
    }
