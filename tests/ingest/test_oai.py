"""OAI-PMH: the pure page parser, and the harvester against recorded arXiv replies served by a
real local HTTP server (including arXiv's real 503 Retry-After)."""

import dataclasses
import datetime as dt

import pytest
from sqlalchemy import func, select

from paperwire.errors import BadInput
from paperwire.ingest.http import RemoteError
from paperwire.ingest.oai import harvest
from paperwire.ingest.oai_parse import OaiError, parse_list_records
from paperwire.store.checkpoints import get_checkpoint
from paperwire.store.models import Paper
from paperwire.store.papers import get_paper
from paperwire.store.stats import HARVEST_CHECKPOINT
from tests.support.arxiv_replay import OAI_PATH, RECORDED_LISTRECORDS, oai_error, paged_listrecords

WINDOW = {"from_": "2015-01-01", "until": "2015-01-03"}
QUERY = {
    "metadataPrefix": "arXiv",
    "from": "2015-01-01",
    "until": "2015-01-03",
    "verb": "ListRecords",
}


# --- parser ------------------------------------------------------------------------------


def test_parse_real_listrecords_page():
    page = parse_list_records(RECORDED_LISTRECORDS.read_bytes())
    assert [r.id for r in page.records] == ["1412.8544", "hep-th/9504118"]
    first = page.records[0]
    assert first.title == "A Kochen-Specker system has at least 22 vectors (extended abstract)"
    assert first.authors == [
        {"name": "Sander Uijlen", "affiliations": ["Radboud Universiteit"]},
        {"name": "Bas Westerbaan", "affiliations": ["Radboud Universiteit"]},
    ]
    assert first.categories == ["cs.DM"] and first.doi == "10.4204/EPTCS.172.11"
    assert first.journal_ref == "EPTCS 172, 2014, pp. 154-164"
    assert first.published_at == dt.datetime(2014, 12, 29) and first.version is None
    assert "\n" not in first.abstract
    assert '"strength"' in page.records[1].abstract  # XML entities decoded
    assert page.token is None and page.max_datestamp == "2015-01-03"


def test_parse_page_with_resumption_token():
    (_, body), (token, _) = paged_listrecords()[:2]
    page = parse_list_records(body)
    assert len(page.records) == 1
    assert page.token == token == "6961231|1"
    assert page.complete_list_size == 2 and page.cursor == 0


@pytest.mark.parametrize(
    "body, code",
    [
        (oai_error("badArgument", "Illegal argument"), "badArgument"),
        (oai_error("badResumptionToken", "expired"), "badResumptionToken"),
        (b"<html><body>Retry after 10 seconds</body></html>", "badXml"),
        (b"<OAI-PMH><ListRecords><record>", "badXml"),
    ],
)
def test_parse_reports_oai_errors_and_broken_xml(body, code):
    with pytest.raises(OaiError) as info:
        parse_list_records(body)
    assert info.value.code == code


def test_no_records_match_is_an_empty_page():
    page = parse_list_records(oai_error("noRecordsMatch", "nothing"))
    assert page.records == [] and page.token is None


# --- harvester against the replay server -------------------------------------------------


def test_harvest_waits_out_the_recorded_503_then_stores_the_page(
    arxiv_settings, db, arxiv_replay, sleeps
):
    summary = harvest(arxiv_settings, db, progress=False, sleep=sleeps, **WINDOW)
    # arXiv's recorded first reply is 503 with Retry-After: 10.
    assert 10.0 in sleeps.calls
    assert [q for _, q in arxiv_replay.requests] == [QUERY, QUERY]
    assert (summary.pages, summary.new, summary.rejected) == (1, 2, 0)
    with db.session() as session:
        paper = get_paper(session, "hep-th/9504118")
        assert paper.title.startswith("Discrete Ma")
        state = get_checkpoint(session, HARVEST_CHECKPOINT)
    assert state["last_datestamp"] == "2015-01-03" and "pending" not in state


def test_retry_after_is_capped_by_settings(arxiv_settings, db, sleeps):
    capped = dataclasses.replace(arxiv_settings, arxiv_retry_after_max_seconds=2.5)
    harvest(capped, db, progress=False, sleep=sleeps, **WINDOW)
    assert max(sleeps.calls) == 2.5


def test_polite_delay_between_requests(arxiv_settings, db, arxiv_replay, sleeps):
    _add_paged(arxiv_replay)
    polite = dataclasses.replace(arxiv_settings, arxiv_delay_seconds=3.0)
    harvest(polite, db, progress=False, sleep=sleeps, **WINDOW)
    # 503 (wait 10), page 1, then page 2 after a pause close to 3 s.
    assert sleeps.calls[0] == 10.0
    assert len(sleeps.calls) == 2 and 2.0 < sleeps.calls[1] <= 3.0


def test_gives_up_after_max_retries_of_503(arxiv_settings, db, arxiv_replay, sleeps):
    arxiv_replay.add(OAI_PATH, QUERY, 503, b"busy", [("Retry-After", "1")], replace=True)
    with pytest.raises(RemoteError, match="unavailable: HTTP 503 after 3 retries"):
        harvest(arxiv_settings, db, progress=False, sleep=sleeps, **WINDOW)
    assert len(arxiv_replay.requests) == 4


def _add_paged(replay):
    """Serve the real records as two pages chained by a resumption token."""
    pages = paged_listrecords()
    replay.add(OAI_PATH, QUERY, 200, pages[0][1])  # after the recorded 503
    replay.replies[next(k for k in replay.replies if dict(k[1]) == QUERY)].pop(1)
    for token, body in pages[1:]:
        replay.add(OAI_PATH, {"verb": "ListRecords", "resumptionToken": token}, 200, body)
    return pages


def test_harvest_follows_resumption_tokens(arxiv_settings, db, arxiv_replay, sleeps):
    _add_paged(arxiv_replay)
    summary = harvest(arxiv_settings, db, progress=False, sleep=sleeps, **WINDOW)
    assert summary.pages == 2 and summary.new == 2
    assert arxiv_replay.requests[-1][1] == {"verb": "ListRecords", "resumptionToken": "6961231|1"}


def test_interrupted_harvest_resumes_at_the_same_token(arxiv_settings, db, arxiv_replay, sleeps):
    _add_paged(arxiv_replay)
    # The second page fails for good: the harvest stops after committing page 1.
    token_query = {"verb": "ListRecords", "resumptionToken": "6961231|1"}
    good_page = arxiv_replay.replies[
        next(k for k in arxiv_replay.replies if dict(k[1]) == token_query)
    ][0]
    arxiv_replay.add("/oai2", token_query, 500, b"oops", replace=True)
    with pytest.raises(RemoteError):
        harvest(arxiv_settings, db, progress=False, sleep=sleeps, **WINDOW)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Paper)) == 1
        pending = get_checkpoint(session, HARVEST_CHECKPOINT)["pending"]
    assert pending["token"] == "6961231|1"
    # arXiv is back; a plain rerun (no options) continues at the saved token.
    arxiv_replay.add("/oai2", token_query, 200, good_page.body, replace=True)
    arxiv_replay.reset_counts()
    summary = harvest(arxiv_settings, db, progress=False, sleep=sleeps)
    assert summary.resumed and summary.new == 1
    assert [q for _, q in arxiv_replay.requests] == [token_query]
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Paper)) == 2
        state = get_checkpoint(session, HARVEST_CHECKPOINT)
    assert "pending" not in state and state["last_datestamp"] == "2015-01-03"


def test_default_from_is_last_harvested_datestamp(arxiv_settings, db, arxiv_replay, sleeps):
    harvest(arxiv_settings, db, progress=False, sleep=sleeps, **WINDOW)
    later = {"verb": "ListRecords", "metadataPrefix": "arXiv", "from": "2015-01-03"}
    arxiv_replay.add(OAI_PATH, later, 200, oai_error("noRecordsMatch", "none"))
    arxiv_replay.reset_counts()
    summary = harvest(arxiv_settings, db, progress=False, sleep=sleeps)
    assert arxiv_replay.requests[0][1] == later
    assert summary.new == 0 and summary.from_ == "2015-01-03"


def test_second_harvest_of_same_window_changes_nothing(arxiv_settings, db, sleeps):
    harvest(arxiv_settings, db, progress=False, sleep=sleeps, **WINDOW)
    summary = harvest(arxiv_settings, db, progress=False, sleep=sleeps, **WINDOW)
    assert (summary.new, summary.updated, summary.unchanged) == (0, 0, 2)


def test_expired_token_restarts_the_window(arxiv_settings, db, arxiv_replay, sleeps):
    pages = _add_paged(arxiv_replay)
    token_query = {"verb": "ListRecords", "resumptionToken": "6961231|1"}
    arxiv_replay.add(
        OAI_PATH, token_query, 200, oai_error("badResumptionToken", "expired"), replace=True
    )
    arxiv_replay.add(OAI_PATH, token_query, 200, pages[1][1])
    summary = harvest(arxiv_settings, db, progress=False, sleep=sleeps, **WINDOW)
    assert summary.new == 2
    assert [q.get("resumptionToken") for _, q in arxiv_replay.requests][-2:] == [None, "6961231|1"]


@pytest.mark.parametrize(
    "code, error, message",
    [
        ("badArgument", BadInput, "rejected the request: badArgument"),
        ("cannotDisseminateFormat", BadInput, "cannotDisseminateFormat"),
        ("someOtherError", RemoteError, "error someOtherError"),
    ],
)
def test_oai_errors_are_clear(arxiv_settings, db, arxiv_replay, sleeps, code, error, message):
    arxiv_replay.add(OAI_PATH, QUERY, 200, oai_error(code, "details here"), replace=True)
    with pytest.raises(error, match=message):
        harvest(arxiv_settings, db, progress=False, sleep=sleeps, **WINDOW)


def test_broken_xml_is_a_clear_error(arxiv_settings, db, arxiv_replay, sleeps):
    arxiv_replay.add(OAI_PATH, QUERY, 200, b"<OAI-PMH><ListRecords>", replace=True)
    with pytest.raises(RemoteError, match="broken reply"):
        harvest(arxiv_settings, db, progress=False, sleep=sleeps, **WINDOW)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"from_": "2015-13-01"}, "--from '2015-13-01' is not a date"),
        ({"from_": "2015-01-05", "until": "2015-01-01"}, "is after --until"),
    ],
)
def test_bad_dates_are_rejected_before_any_request(
    arxiv_settings, db, arxiv_replay, kwargs, message
):
    with pytest.raises(BadInput, match=message):
        harvest(arxiv_settings, db, progress=False, **kwargs)
    assert arxiv_replay.requests == []
