"""List import and export (services.library): round trips, fetching unknown papers from the
arXiv replay server, queueing when arXiv cannot be reached (never lost), the library-imports
job completing the queue, reruns that add nothing twice — on SQLite and PostgreSQL."""

import dataclasses
import json
import socket

import pytest

from paperwire.errors import BadInput, NotFound
from paperwire.services import library as service
from paperwire.services import library_export as export
from paperwire.store import lists
from tests.factories import make_papers, make_store_user
from tests.support.arxiv_replay import API_PATH, FIXTURES, arxiv_replay_server

KNOWN_TO_ARXIV = "1605.08386"  # recorded in tests/fixtures/arxiv/api
UNKNOWN_TO_ARXIV = "2101.99999"  # replayed with arXiv's empty answer


def _query(pid):
    return {
        "search_query": "",
        "id_list": pid,
        "sortBy": "relevance",
        "sortOrder": "descending",
        "start": "0",
        "max_results": "100",
    }


def _closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/query"


def _list_ids(db, list_id):
    with db.session() as s:
        return sorted(p.id for p, _ in lists.items(s, list_id))


def _arxiv_papers(db, n):
    """Papers with real-shaped arXiv ids (the factory's random ids may name month 85, which
    no BibTeX eprint of arXiv could carry)."""
    import random

    ids = random.sample(range(100000), n)
    return [
        make_papers(db, 1, id=f"{random.randint(15, 26)}{random.randint(1, 12):02d}.{i:05d}")[0]
        for i in ids
    ]


def _new_list(db, user, name):
    return service.create_list(db, user.id, name).id


@pytest.mark.parametrize("fmt", ["bib", "json"])
def test_export_then_import_into_a_fresh_list_gives_the_same_papers(settings, db, fmt):
    recs = _arxiv_papers(db, 6)
    user = make_store_user(db)
    source = _new_list(db, user, "source")
    for rec in recs:
        service.add_to_list(db, user.id, source, rec.id)
    with db.session() as s:
        row = lists.get_owned(s, user.id, source)
        text = (
            export.list_bibtex(s, row)
            if fmt == "bib"
            else json.dumps(export.list_json(s, row, owner=user.username))
        )
    target = _new_list(db, user, "copy")
    report = service.import_into_list(settings, db, user.id, target, text)
    assert report.errors == [] and report.queued == []
    assert _list_ids(db, target) == _list_ids(db, source) == sorted(r.id for r in recs)


def test_non_arxiv_papers_round_trip_through_bibtex(settings, db):
    from sqlalchemy import update

    from paperwire.store.models import Paper

    (rec,) = make_papers(db, 1, id="seed:local-paper")
    with db.session() as s:
        s.execute(update(Paper).where(Paper.id == rec.id).values(source="seed"))
    user = make_store_user(db)
    source = _new_list(db, user, "source")
    service.add_to_list(db, user.id, source, rec.id)
    with db.session() as s:
        text = export.list_bibtex(s, lists.get_owned(s, user.id, source))
    target = _new_list(db, user, "copy")
    report = service.import_into_list(settings, db, user.id, target, text)
    assert (report.added, report.errors) == (["seed:local-paper"], [])


def test_library_exports_hold_every_saved_paper(settings, db):
    recs = _arxiv_papers(db, 3)
    user = make_store_user(db)
    for rec in recs:
        service.save(db, user.id, rec.id)
    with db.session() as s:
        bib = export.library_bibtex(s, user.id)
        data = export.library_json(s, user.id)
    assert sorted(p["id"] for p in data["papers"]) == sorted(r.id for r in recs)
    assert all(f"eprint = {{{r.id}}}" in bib for r in recs)


def test_rerun_adds_nothing_twice_and_bad_lines_are_reported(settings, db):
    a, b = _arxiv_papers(db, 2)
    user = make_store_user(db)
    target = _new_list(db, user, "t")
    text = f"{a.id}\nnonsense\n{b.id}v2\n{a.id}"
    first = service.import_into_list(settings, db, user.id, target, text)
    second = service.import_into_list(settings, db, user.id, target, text)
    assert sorted(first.added) == sorted([a.id, b.id]) and first.already == []
    assert second.added == [] and sorted(second.already) == sorted([a.id, b.id])
    assert first.errors == ["line 2 (nonsense): not an arXiv id or arxiv.org URL"]


def test_unknown_papers_are_fetched_from_arxiv(settings, db):
    user = make_store_user(db)
    with arxiv_replay_server() as replay:
        empty = (FIXTURES / "api" / "id_0000.0000_s0_m100.xml").read_bytes()
        replay.add(API_PATH, _query(UNKNOWN_TO_ARXIV), 200, empty, replace=True)
        # One request for both ids: arXiv answers with the entry it has.
        known = (FIXTURES / "api" / f"id_{KNOWN_TO_ARXIV}_s0_m100.xml").read_bytes()
        replay.add(
            API_PATH, _query(f"{KNOWN_TO_ARXIV},{UNKNOWN_TO_ARXIV}"), 200, known, replace=True
        )
        app_settings = dataclasses.replace(settings, **replay.settings_overrides())
        target = _new_list(db, user, "t")
        report = service.import_into_list(
            app_settings, db, user.id, target, f"{KNOWN_TO_ARXIV}\n{UNKNOWN_TO_ARXIV}"
        )
    assert report.added == [KNOWN_TO_ARXIV] and report.queued == []
    assert report.errors == [f"line 2 ({UNKNOWN_TO_ARXIV}): arXiv has no paper {UNKNOWN_TO_ARXIV}"]


def test_when_arxiv_is_down_ids_wait_and_the_job_adds_them_later(settings, db):
    user = make_store_user(db)
    target = _new_list(db, user, "t")
    down = dataclasses.replace(
        settings,
        arxiv_api_url=_closed_port_url(),
        arxiv_interactive_timeout_seconds=2.0,
        arxiv_max_retries=0,
    )
    text = f"{KNOWN_TO_ARXIV}\n{UNKNOWN_TO_ARXIV}"
    first = service.import_into_list(down, db, user.id, target, text)
    again = service.import_into_list(down, db, user.id, target, text)
    assert sorted(first.queued) == sorted([KNOWN_TO_ARXIV, UNKNOWN_TO_ARXIV])
    assert sorted(again.queued) == sorted(first.queued)
    with db.session() as s:
        assert len(lists.pending_for_list(s, target)) == 2  # queued once
    # Still down: the job leaves the queue as it was.
    assert "stay queued" in service.complete_pending(down, db)
    with arxiv_replay_server() as replay:
        empty = (FIXTURES / "api" / "id_0000.0000_s0_m100.xml").read_bytes()
        replay.add(API_PATH, _query(UNKNOWN_TO_ARXIV), 200, empty, replace=True)
        up = dataclasses.replace(settings, arxiv_delay_seconds=0.0, **replay.settings_overrides())
        summary = service.complete_pending(up, db, batch=1)
    assert _list_ids(db, target) == [KNOWN_TO_ARXIV]
    with db.session() as s:
        left = lists.pending_for_list(s, target)
    assert [(p.arxiv_id, p.status) for p in left] == [(UNKNOWN_TO_ARXIV, "failed")]
    assert "1 queued papers added" in summary


def test_import_into_someone_elses_list_is_not_found(settings, db):
    alice, bob = make_store_user(db), make_store_user(db)
    target = _new_list(db, alice, "mine")
    with pytest.raises(NotFound):
        service.import_into_list(settings, db, bob.id, target, "2104.12255")


def test_empty_and_oversized_imports_are_refused_with_a_reason(settings, db):
    user = make_store_user(db)
    target = _new_list(db, user, "t")
    with pytest.raises(BadInput, match="nothing to import"):
        service.import_into_list(settings, db, user.id, target, "\n# only a comment\n")
    small = dataclasses.replace(settings, library_import_max_lines=2)
    with pytest.raises(BadInput, match="at most 2 papers"):
        service.import_into_list(small, db, user.id, target, "2104.12255 2104.12256 2104.12257")
