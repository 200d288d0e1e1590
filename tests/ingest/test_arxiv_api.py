"""arXiv API (Atom): the pure parser, and fetch against recorded replies on a local server."""

import datetime as dt
from pathlib import Path

import pytest

from paperwire.errors import BadInput, NotFound
from paperwire.ingest.arxiv_api import fetch_and_store, fetch_many, lookup
from paperwire.ingest.atom_parse import AtomError, parse_atom
from paperwire.ingest.http import RemoteError
from paperwire.store.papers import get_paper
from tests.support.arxiv_replay import API_PATH

API = Path(__file__).resolve().parent.parent / "fixtures" / "arxiv" / "api"


def test_parse_atom_entry_with_version_and_categories():
    reply = parse_atom((API / "id_quant-ph_0201082v1_s0_m100.xml").read_bytes())
    [rec] = reply.records
    assert (rec.id, rec.version) == ("quant-ph/0201082", 1)
    assert rec.title.startswith("Quantum Computers and Quantum Computer Languages")
    assert rec.categories == ["quant-ph", "cs.PL"] and rec.primary_category == "quant-ph"
    assert rec.authors == [{"name": "Stephen Blaha", "affiliations": []}]
    assert rec.comments == "32 pages"
    assert rec.published_at == dt.datetime(2002, 1, 18, 15, 8, 5)
    assert rec.abs_url == "https://arxiv.org/abs/quant-ph/0201082"


def test_parse_atom_error_entry_and_empty_feed():
    reply = parse_atom((API / "id_abc_s0_m100.xml").read_bytes())
    assert reply.records == [] and reply.errors == ["incorrect id format for abc"]
    reply = parse_atom((API / "id_0000.0000_s0_m100.xml").read_bytes())
    assert reply.records == [] and reply.errors == [] and reply.total_results == 0


def test_parse_atom_search_page_has_all_entries():
    reply = parse_atom((API / "q_testing_s0_m100.xml").read_bytes())
    assert len(reply.records) == 100
    assert all(r.id and r.title and r.published_at for r in reply.records)


def test_parse_atom_rejects_broken_xml():
    with pytest.raises(AtomError):
        parse_atom(b"<feed><entry>")


@pytest.mark.parametrize(
    "raw, pid, version",
    [
        ("2104.12255v1", "2104.12255", 1),
        ("https://arxiv.org/abs/2104.12255v1", "2104.12255", 1),
        ("astro-ph/0601001", "astro-ph/0601001", None),
        ("arXiv:quant-ph/0201082v1", "quant-ph/0201082", 1),
        ("https://arxiv.org/pdf/1605.08386.pdf", "1605.08386", None),
    ],
)
def test_fetch_and_store_by_id_or_url(arxiv_settings, db, arxiv_replay, raw, pid, version):
    assert fetch_and_store(arxiv_settings, db, raw) == (pid, True)
    with db.session() as session:
        paper = get_paper(session, pid)
        assert paper.title and paper.abstract and paper.authors
        if version:
            assert paper.version == version
    # Already stored: no second request unless asked to refresh.
    before = len(arxiv_replay.requests)
    assert fetch_and_store(arxiv_settings, db, raw) == (pid, False)
    assert len(arxiv_replay.requests) == before
    assert fetch_and_store(arxiv_settings, db, raw, refresh=True) == (pid, False)
    assert len(arxiv_replay.requests) == before + 1


def test_fetch_many_batches_ids_in_one_request(arxiv_settings, db, arxiv_replay):
    with pytest.raises(NotFound, match=r"arXiv has no paper 0808.05394 \(stored: 1707.08567\)"):
        fetch_many(arxiv_settings, db, ["0808.05394", "1707.08567"])
    assert len(arxiv_replay.requests) == 1
    with db.session() as session:
        assert get_paper(session, "1707.08567") is not None


def test_unknown_id_is_not_found(arxiv_settings, db):
    with pytest.raises(NotFound, match="arXiv has no paper 0808.05394"):
        fetch_and_store(arxiv_settings, db, "0808.05394")


@pytest.mark.parametrize(
    "raw, message",
    [
        ("abc", "not an arXiv id: 'abc'"),
        ("0000.0000", "month 00 does not exist"),
        ("https://example.com/abs/2104.12255", "not an arXiv URL"),
    ],
)
def test_invalid_ids_fail_before_any_request(arxiv_settings, db, arxiv_replay, raw, message):
    with pytest.raises(BadInput, match=message):
        fetch_and_store(arxiv_settings, db, raw)
    assert arxiv_replay.requests == []


def test_arxiv_error_entry_is_bad_input(arxiv_settings, arxiv_replay):
    # Ids that pass the local check but arXiv calls malformed: the recorded 400 reply.
    with pytest.raises(BadInput, match="arXiv rejected the id: incorrect id format for abc"):
        lookup(arxiv_settings, ["abc"])


def test_arxiv_says_nothing_for_impossible_id(arxiv_settings, arxiv_replay):
    assert lookup(arxiv_settings, ["0000.0000"]) == {}


def test_api_outage_is_a_remote_error(arxiv_settings, db, arxiv_replay, sleeps):
    query = {
        "search_query": "",
        "id_list": "1605.08386",
        "sortBy": "relevance",
        "sortOrder": "descending",
        "start": "0",
        "max_results": "100",
    }
    arxiv_replay.add(API_PATH, query, 503, b"down", [("Retry-After", "5")], replace=True)
    with pytest.raises(RemoteError, match="arXiv API unavailable"):
        fetch_and_store(arxiv_settings, db, "1605.08386", sleep=sleeps)
    assert sleeps.calls == [5.0, 5.0, 5.0]
