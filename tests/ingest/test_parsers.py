"""Pure parsers: one table per source format."""

import datetime as dt
import json
from pathlib import Path

import pytest

from paperwire.errors import BadInput
from paperwire.ingest.beir import parse_beir
from paperwire.ingest.daily_papers import parse_daily_item
from paperwire.ingest.export_format import dump_line, parse_export
from paperwire.ingest.formats import detect_format
from paperwire.ingest.items import FeedInfo, RecordError
from paperwire.ingest.kaggle import parse_kaggle
from paperwire.ingest.seed import parse_seed, seed_id
from tests.factories import make_record

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KAGGLE = FIXTURES / "arxiv" / "kaggle" / "arxiv-metadata-oai-snapshot.sample.jsonl"


def kaggle_line(pid: str) -> dict:
    for line in KAGGLE.read_text().splitlines():
        obj = json.loads(line)
        if obj["id"] == pid:
            return obj
    raise KeyError(pid)


# --- arXiv snapshot ----------------------------------------------------------------------


def test_kaggle_versions_give_published_updated_and_latest_version():
    rec = parse_kaggle(kaggle_line("0704.0044")).record
    assert rec.version == 4
    assert rec.published_at == dt.datetime(2007, 3, 31, 17, 47, 54)
    assert rec.updated_at == dt.datetime(2009, 5, 9, 19, 26, 10)
    assert [v["version"] for v in rec.versions] == [1, 2, 3, 4]
    assert rec.versions[1]["created"] == "2008-05-24T19:38:45"


def test_kaggle_authors_keep_order_and_affiliations():
    rec = parse_kaggle(kaggle_line("0704.0044")).record
    assert [a["name"] for a in rec.authors[:3]] == [
        "A. A. Schekochihin",
        "S. C. Cowley",
        "W. Dorland",
    ]
    assert rec.authors[0]["affiliations"] == ["Oxford"]
    assert rec.author_count == 7
    # Wrapped affiliations are collapsed to one line.
    rec = parse_kaggle(kaggle_line("0704.0163")).record
    assert rec.authors[0]["affiliations"] == [
        "Institut für Theoretische und Angewandte Physik, Universität Stuttgart"
    ]


def test_kaggle_collapses_whitespace_but_keeps_latex():
    rec = parse_kaggle(kaggle_line("0704.0001")).record
    assert rec.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert "\n" not in rec.abstract and "  " not in rec.abstract
    assert not rec.abstract.startswith(" ")
    rec = parse_kaggle(kaggle_line("0704.0174")).record
    assert r"$B\to\pi\pi$" in rec.title


def test_kaggle_fields_categories_and_links():
    rec = parse_kaggle(kaggle_line("0704.0002")).record
    assert rec.categories == ["math.CO", "cs.CG"]
    assert rec.primary_category == "math.CO"
    assert rec.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
    assert rec.abs_url == "https://arxiv.org/abs/0704.0002"
    assert rec.pdf_url == "https://arxiv.org/pdf/0704.0002"
    rec = parse_kaggle(kaggle_line("0704.0001")).record
    assert rec.doi == "10.1103/PhysRevD.76.013009"
    assert rec.journal_ref == "Phys.Rev.D76:013009,2007"
    assert rec.comments == "37 pages, 15 figures; published version"


def test_kaggle_old_style_id_and_author_string_fallback():
    obj = {
        "id": "hep-th/9901001",
        "title": "T",
        "abstract": "A",
        "categories": "hep-th",
        "authors": "A. One, B. Two and C. Three",
        "versions": [{"version": "v1", "created": "Fri, 1 Jan 1999 00:00:01 GMT"}],
    }
    rec = parse_kaggle(obj).record
    assert rec.id == "hep-th/9901001"
    assert [a["name"] for a in rec.authors] == ["A. One", "B. Two", "C. Three"]


def test_all_200_real_snapshot_records_parse():
    records = [parse_kaggle(json.loads(line)).record for line in KAGGLE.read_text().splitlines()]
    assert len({r.id for r in records}) == 200
    assert all(r.title and r.abstract and r.published_at and r.version for r in records)
    assert sum(1 for r in records if r.version > 1) > 50
    assert sum(1 for r in records if any(a["affiliations"] for a in r.authors)) > 10


@pytest.mark.parametrize(
    "obj, reason",
    [
        ([1, 2], "expected a JSON object"),
        ({"title": "T"}, "id: missing or empty"),
        ({"id": "abc", "title": "T"}, "id: not an arXiv id"),
        ({"id": "0704.0001", "title": "  "}, "title: missing or empty"),
        (
            {"id": "0704.0001", "title": "T", "versions": "v1"},
            "versions: input should be a valid list",
        ),
        (
            {
                "id": "0704.0001",
                "title": "T",
                "versions": [{"version": "v1", "created": "yesterday"}],
            },
            "versions[0]: not a {version, created} entry",
        ),
        (
            {"id": "0704.0001", "title": "T", "authors_parsed": [5]},
            "authors_parsed[0]: input should be a valid list, got 5",
        ),
        (
            {"id": "0704.0001", "title": "T", "authors_parsed": [[]]},
            "authors_parsed[0]: empty entry",
        ),
    ],
)
def test_kaggle_rejects_malformed_records(obj, reason):
    with pytest.raises(RecordError) as info:
        parse_kaggle(obj)
    assert reason in str(info.value)


# --- Daily Papers ------------------------------------------------------------------------


def daily_items():
    return json.loads((FIXTURES / "daily_papers" / "sample.json").read_text())


def test_daily_item_gives_paper_feed_entry_and_votes():
    item = parse_daily_item(daily_items()[0])
    rec = item.record
    assert rec.id == "2312.00752" and rec.source == "arxiv"
    assert rec.imported_upvotes == 143
    assert [a["name"] for a in rec.authors] == ["Albert Gu", "Tri Dao"]
    assert rec.published_at == dt.datetime(2023, 12, 1, 18, 1, 34)
    assert "\n" not in rec.abstract
    assert item.feed == FeedInfo(
        day=dt.date(2023, 12, 4),
        submitted_by_name="AK",
        submitted_at=dt.datetime(2023, 12, 4, 1, 12, 2, 123000),
    )


def test_daily_item_submitter_as_string_and_versioned_id():
    second, third = daily_items()[1:3]
    item = parse_daily_item(second)
    assert item.feed.submitted_by_name == "librarian-bot"
    assert item.feed.day == dt.date(2024, 4, 9)
    item = parse_daily_item(third)
    assert item.record.id == "2405.13956"
    assert item.feed.submitted_by_name is None


@pytest.mark.parametrize(
    "obj, reason",
    [
        ({}, "paper: missing or not an object"),
        ({"paper": {"title": "x"}}, "paper.id: missing or empty"),
        ({"paper": {"id": "2312.00752"}}, "paper.title: missing or empty"),
        ({"paper": {"id": "2312.00752", "title": "t", "upvotes": -1}}, "paper.upvotes: must be 0"),
        ({"paper": {"id": "2312.00752", "title": "t", "publishedAt": "soon"}}, "bad date"),
    ],
)
def test_daily_item_rejects_malformed(obj, reason):
    with pytest.raises(RecordError) as info:
        parse_daily_item(obj)
    assert reason in str(info.value)


def test_daily_item_with_non_arxiv_id_gets_prefixed_id():
    item = parse_daily_item({"paper": {"id": "abc-123", "title": "t", "upvotes": 1}})
    assert item.record.id == "hf:abc-123" and item.record.source == "hf-daily"


# --- export format -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "feed",
    [
        None,
        FeedInfo(dt.date(2024, 5, 1), "alice", dt.datetime(2024, 5, 1, 8, 30, 0, 1234)),
        FeedInfo(dt.date(2024, 5, 1), None, None),
    ],
)
def test_export_line_round_trips_exactly(feed):
    record = make_record(
        title="Ünïcode $\\alpha$ title",
        comments="12 pages",
        imported_upvotes=5,
        published_at=dt.datetime(2024, 1, 2, 3, 4, 5, 6),
    )
    line = dump_line(record, feed)
    item = parse_export(json.loads(line))
    assert item.record == record
    assert item.feed == feed
    assert dump_line(item.record, item.feed) == line
    assert "Ünïcode" in line and line.endswith("\n") and line.count("\n") == 1


@pytest.mark.parametrize(
    "obj, reason",
    [
        ({"id": "x", "source": "arxiv"}, "title: missing"),
        ({"id": "x", "title": "t", "authors": "A"}, "authors: input should be a valid list"),
        ({"id": "x", "title": "t", "version": "2"}, "version: input should be a valid integer"),
        ({"id": "x", "title": "t", "published_at": "nope"}, "published_at: not an ISO date-time"),
        ({"id": "x", "title": "t", "feed": {"day": "x"}}, "feed.day: not a date"),
        ({"id": "x", "title": "t", "imported_upvotes": -3}, "imported_upvotes: input should be"),
    ],
)
def test_export_parser_rejects_malformed(obj, reason):
    with pytest.raises(RecordError) as info:
        parse_export(obj)
    assert reason in str(info.value)


# --- BEIR and seed -----------------------------------------------------------------------


def test_beir_document_gets_prefixed_id():
    rec = parse_beir(
        {
            "_id": "4983",
            "title": "Microstructural development",
            "text": "Alterations of the\narchitecture",
            "metadata": {},
        }
    ).record
    assert (rec.id, rec.source, rec.abstract) == (
        "beir:4983",
        "beir",
        "Alterations of the architecture",
    )


@pytest.mark.parametrize(
    "obj, reason",
    [
        ({"title": "t", "text": "x"}, "_id: missing"),
        ({"_id": "1", "title": "t"}, "text: missing"),
    ],
)
def test_beir_rejects_malformed(obj, reason):
    with pytest.raises(RecordError, match=reason):
        parse_beir(obj)


def test_seed_line_gets_stable_id_count_and_votes():
    obj = {
        "title": "Attention as an RNN",
        "abstract": "The advent",
        "n_authors": 6,
        "published": "2024-05-22",
        "upvotes": 1,
        "seq_search_rank": 55,
    }
    rec = parse_seed(obj).record
    assert rec.id == seed_id("Attention  as an RNN") == parse_seed(dict(obj)).record.id
    assert rec.id.startswith("seed:") and len(rec.id) == len("seed:") + 12
    assert (rec.author_count, rec.authors, rec.imported_upvotes) == (6, [], 1)
    assert rec.published_at == dt.datetime(2024, 5, 22)


@pytest.mark.parametrize(
    "obj, reason",
    [
        ({"abstract": "x"}, "title: missing or empty"),
        ({"title": "t", "n_authors": -1}, "n_authors: must be 0 or more"),
        ({"title": "t", "published": "May"}, "published: not an ISO date"),
    ],
)
def test_seed_rejects_malformed(obj, reason):
    with pytest.raises(RecordError, match=reason):
        parse_seed(obj)


# --- format detection --------------------------------------------------------------------


@pytest.mark.parametrize(
    "first, fmt",
    [
        (json.loads(KAGGLE.read_text().splitlines()[0]), "kaggle"),
        ({"paper": {"id": "1"}, "numComments": 0}, "hf-daily"),
        ({"_id": "1", "title": "t", "text": "x"}, "beir"),
        ({"title": "t", "abstract": "a", "n_authors": 2}, "seed"),
        (json.loads(dump_line(make_record(), None)), "jsonl"),
    ],
)
def test_detect_format_from_first_record(first, fmt):
    assert detect_format(first, "f.jsonl") == fmt


def test_detect_format_names_the_keys_when_unknown():
    with pytest.raises(BadInput, match=r"f.jsonl: cannot detect .*keys: a, b.*--format"):
        detect_format({"a": 1, "b": 2}, "f.jsonl")
