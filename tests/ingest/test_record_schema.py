"""The one record schema (ingest.schema, issue 12): every parser rejects what could break a
page, a feed, a mail or an index with ``field: reason``; the importer reports it as
``FILE:LINE: field: reason`` and imports everything else (D2, D4, D7, D8) — SQLite and
PostgreSQL; and, on generated input, no parser ever raises anything but RecordError."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from paperwire.ingest.atom_parse import parse_atom
from paperwire.ingest.formats import PARSERS
from paperwire.ingest.importer import import_file
from paperwire.ingest.items import RecordError
from paperwire.ingest.oai_parse import parse_list_records
from paperwire.store.papers import get_paper

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KAGGLE = FIXTURES / "arxiv" / "kaggle" / "arxiv-metadata-oai-snapshot.sample.jsonl"

# One good record per format, as a function of a number (distinct ids).
GOOD = {
    "kaggle": lambda i: {
        "id": f"2301.{i:05d}",
        "title": f"Sparse graphs {i}",
        "abstract": "We study graphs.",
        "authors": "A. One",
        "categories": "cs.LG stat.ML",
        "doi": None,
        "license": None,
        "versions": [{"version": "v1", "created": "Mon, 2 Jan 2023 10:00:00 GMT"}],
        "update_date": "2023-01-02",
        "authors_parsed": [["One", "A.", "", "Uni A"]],
    },
    "hf-daily": lambda i: {
        "paper": {
            "id": f"2302.{i:05d}",
            "title": f"Feed paper {i}",
            "summary": "Text.",
            "authors": [{"name": "Ann"}],
            "publishedAt": "2023-02-01T00:00:00.000Z",
            "upvotes": 3,
        },
        "submittedOnDailyAt": "2023-02-02T08:00:00.000Z",
        "submittedBy": {"fullname": "AK"},
    },
    "jsonl": lambda i: {
        "id": f"2303.{i:05d}",
        "source": "arxiv",
        "version": 1,
        "title": f"Exported {i}",
        "abstract": "A.",
        "authors": [{"name": "Bo", "affiliations": []}],
        "author_count": 1,
        "primary_category": "cs.CL",
        "categories": ["cs.CL"],
        "published_at": "2023-03-01T00:00:00",
        "updated_at": "2023-03-01T00:00:00",
        "versions": [{"version": 1, "created": "2023-03-01T00:00:00"}],
        "comments": None,
        "journal_ref": None,
        "doi": None,
        "license": None,
        "abs_url": f"https://arxiv.org/abs/2303.{i:05d}",
        "pdf_url": None,
        "imported_upvotes": 0,
        "feed": None,
    },
    "beir": lambda i: {"_id": f"doc{i}", "title": f"Doc {i}", "text": "Body text."},
    "seed": lambda i: {
        "title": f"Seed paper {i}",
        "abstract": "A.",
        "n_authors": 2,
        "published": "2024-05-22",
        "upvotes": 1,
    },
}
STORED_ID = {
    "kaggle": lambda r: r["id"],
    "hf-daily": lambda r: r["paper"]["id"],
    "jsonl": lambda r: r["id"],
    "beir": lambda r: f"beir:{r['_id']}",
    "seed": lambda r: PARSERS["seed"](r).record.id,
}


def _with(record: dict, path: str, value) -> dict:
    out = copy.deepcopy(record)
    *parents, last = path.split(".")
    target = out
    for key in parents:
        target = target[key]
    target[last] = value
    return out


def _import(settings, db, path, fmt):
    errors: list[str] = []
    summary = import_file(settings, db, path, fmt, progress=False, on_error=errors.append)
    return summary, errors


# --- what the schema rejects, in every parser ------------------------------------------------

TITLE = {
    "kaggle": "title",
    "hf-daily": "paper.title",
    "jsonl": "title",
    "beir": "title",
    "seed": "title",
}


@pytest.mark.parametrize("fmt", sorted(GOOD))
@pytest.mark.parametrize(
    "char, what",
    [
        ("\x00", "NUL U+0000"),
        ("\x07", "control character U+0007"),
        ("\uffff", "non-character U+FFFF"),
    ],
)
def test_every_parser_rejects_nul_and_control_characters_in_titles(fmt, char, what):
    record = _with(GOOD[fmt](1), TITLE[fmt], f"Bad{char}title")
    with pytest.raises(RecordError) as info:
        PARSERS[fmt](record)
    assert str(info.value) == f"title: {what} at position 3"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "//evil.example/x",
        "/relative",
        "ftp://host/x",
        "https://",
        "https://host/with space",
    ],
)
def test_export_links_must_be_http_urls(url):
    with pytest.raises(RecordError, match="^abs_url: not an http\\(s\\) URL"):
        PARSERS["jsonl"](_with(GOOD["jsonl"](1), "abs_url", url))


@pytest.mark.parametrize(
    "fmt, path, value, reason",
    [
        ("jsonl", "authors", ["Bob"], "authors[0]: input should be a valid dictionary"),
        ("jsonl", "categories", [1], "categories[0]: input should be a valid string, got 1"),
        ("jsonl", "published_at", "9999-12-31T00:00:00", "published_at: date 9999-12-31"),
        ("jsonl", "published_at", "0001-01-01T00:00:00", "published_at: date 0001-01-01"),
        ("jsonl", "version", 2**40, "version: input should be less than or equal to 100000"),
        ("jsonl", "imported_upvotes", 2**31, "imported_upvotes: input should be less than"),
        ("jsonl", "abstract", "x" * 100_001, "abstract: too long (100001 characters, at most"),
        ("jsonl", "id", "a b", "id: not a usable id"),
        ("kaggle", "categories", ["cs.LG"], "categories: input should be a valid string"),
        ("kaggle", "abstract", 42, "abstract: input should be a valid string, got 42"),
        ("kaggle", "categories", "cs.LG <script>", "categories[1]: not a category"),
        ("hf-daily", "paper.title", {"en": "x"}, "paper.title: input should be a valid string"),
        ("hf-daily", "paper.upvotes", "3", "paper.upvotes: input should be a valid integer"),
        ("seed", "n_authors", 1.5, "n_authors: input should be a valid integer"),
        ("beir", "text", ["x"], "text: input should be a valid string"),
    ],
)
def test_type_confused_and_absurd_values_are_named_by_field(fmt, path, value, reason):
    with pytest.raises(RecordError) as info:
        PARSERS[fmt](_with(GOOD[fmt](1), path, value))
    assert str(info.value).startswith(reason), str(info.value)


def test_the_xml_parsers_run_the_schema_too():
    feed = (
        b'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/'
        b'atom"><entry><id>http://arxiv.org/abs/2301.00001v1</id><title>T</title>'
        b"<summary>S</summary><published>9999-01-01T00:00:00Z</published>"
        b"</entry></feed>"
    )
    reply = parse_atom(feed)
    assert reply.records == [] and reply.rejected[0].startswith(
        "http://arxiv.org/abs/2301.00001v1: published_at: date 9999-01-01"
    )
    oai = (
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record><header>'
        b"<identifier>oai:arXiv.org:2301.00001</identifier></header><metadata>"
        b'<arXiv xmlns="http://arxiv.org/OAI/arXiv/"><id>2301.00001</id><title>T</title>'
        b"<categories>cs.LG</categories><created>2023-01-01</created>"
        b"<comments>" + b"x" * 10_001 + b"</comments></arXiv></metadata></record>"
        b"</ListRecords></OAI-PMH>"
    )
    page = parse_list_records(oai)
    assert page.records == [] and page.rejected == [
        "oai:arXiv.org:2301.00001: comments: too long (10001 characters, at most 10000)"
    ]


# --- through the importer, on both databases -------------------------------------------------


def test_type_confused_records_are_reported_and_skipped_not_fatal(settings, db, tmp_path):
    """D8: before, these aborted the import with a traceback."""
    good = [GOOD["kaggle"](i) for i in range(1, 5)]
    lines = [
        good[0],
        _with(good[1], "categories", ["cs.LG"]),
        good[2],
        _with(good[3], "abstract", 7),
        GOOD["kaggle"](5),
    ]
    path = tmp_path / "snap.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    summary, errors = _import(settings, db, path, "kaggle")
    assert (summary.new, summary.rejected) == (3, 2)
    assert errors == [
        f"{path}:2: categories: input should be a valid string, got ['cs.LG']",
        f"{path}:4: abstract: input should be a valid string, got 7",
    ]
    daily = tmp_path / "daily.json"
    daily.write_text(
        json.dumps(
            [
                GOOD["hf-daily"](1),
                _with(GOOD["hf-daily"](2), "paper.title", {"x": 1}),
                GOOD["hf-daily"](3),
            ],
            indent=1,
        )
    )
    summary, errors = _import(settings, db, daily, "hf-daily")
    assert (summary.new, summary.rejected) == (2, 1)
    assert errors[0].startswith(f"{daily}:") and ": paper.title: input should be" in errors[0]
    again, _ = _import(settings, db, path, "kaggle")
    assert (again.new, again.unchanged, again.rejected) == (0, 3, 2)


def test_nul_in_an_imported_title_skips_that_record_only(settings, db, tmp_path):
    """D7: on PostgreSQL a NUL aborted the whole import (the batch's COPY failed)."""
    lines = [GOOD["jsonl"](1), _with(GOOD["jsonl"](2), "title", "N\x00L"), GOOD["jsonl"](3)]
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    summary, errors = _import(settings, db, path, "jsonl")
    assert (summary.new, summary.rejected) == (2, 1)
    assert errors == [f"{path}:2: title: NUL U+0000 at position 1"]


def test_export_record_with_string_authors_is_rejected_and_the_site_keeps_working(
    settings, db, tmp_path
):
    """D2 at ingest: such a record never reaches the pages (see tests/web/
    test_bad_stored_rows.py for rows that were stored before the schema)."""
    lines = [
        _with(GOOD["jsonl"](1), "authors", ["Bob"]),
        _with(GOOD["jsonl"](2), "categories", [1]),
        _with(GOOD["jsonl"](3), "pdf_url", "javascript:alert(1)"),
        GOOD["jsonl"](4),
    ]
    path = tmp_path / "export.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in lines))
    summary, errors = _import(settings, db, path, "jsonl")
    assert (summary.new, summary.rejected) == (1, 3)
    assert [e.split(": ", 2)[1] for e in errors] == ["authors[0]", "categories[0]", "pdf_url"]


# --- generated input -------------------------------------------------------------------------

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(record: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in record.items():
        out.append(prefix + key)
        if isinstance(value, dict):
            out += _paths(value, prefix + key + ".")
    return out


@st.composite
def _mutated(draw, fmt):
    """A good record with one field (at any depth) replaced by any JSON value, or any JSON
    value at all."""
    record = GOOD[fmt](draw(st.integers(1, 99_999)))
    if draw(st.booleans()):
        return draw(_json)
    return _with(record, draw(st.sampled_from(_paths(record))), draw(_json))


@pytest.mark.parametrize("fmt", sorted(GOOD))
def test_parsers_raise_only_record_errors_on_any_json(fmt):
    @hsettings(max_examples=400, derandomize=True, deadline=None)
    @given(_mutated(fmt))
    def check(value):
        try:
            PARSERS[fmt](value)
        except RecordError as exc:
            assert str(exc).split(": ", 1)[0], exc  # always names a field

    check()


@pytest.mark.parametrize("fmt", sorted(GOOD))
def test_import_keeps_every_good_record_around_bad_ones(settings, db, tmp_path, fmt):
    """Any JSON value or byte string between good records: nothing escapes the importer,
    every good record is stored, a rerun adds nothing. 70 good records per file keep the
    import above the synchronous-embedding threshold, so this stays fast."""
    run = iter(range(10_000))

    @hsettings(
        max_examples=8,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(
        st.lists(
            st.one_of(_mutated(fmt).map(lambda v: json.dumps(v).encode()), st.binary(max_size=40)),
            min_size=1,
            max_size=4,
        ),
        st.randoms(use_true_random=False),
    )
    def check(bad_lines, rnd):
        n = next(run)
        good = [GOOD[fmt](n * 100 + i + 1) for i in range(70)]
        lines = [json.dumps(r).encode() for r in good]
        for bad in bad_lines:
            lines.insert(rnd.randint(1, len(lines) - 1), bad.replace(b"\n", b" "))
        path = tmp_path / f"{fmt}-{n}.jsonl"
        path.write_bytes(b"\n".join(lines) + b"\n")
        summary, errors = _import(settings, db, path, fmt)
        assert summary.rejected == len(errors)
        with db.session() as session:
            for record in good:
                assert get_paper(session, STORED_ID[fmt](record)) is not None
        again, _ = _import(settings, db, path, fmt)
        assert again.new == 0

    check()
