"""Submitting while arXiv cannot be reached fails fast and says so in words: a short timeout,
no retries for a person who waits, "arXiv could not be reached; nothing was changed; try
again later"; the technical detail (error, endpoint) is in the log only. Against real
sockets: a closed port, a server that never answers, and the arXiv replay server answering
503 (it hung 64 s in five retries and then showed `[Errno -2] Name or service not known`)."""

import contextlib
import logging
import socket
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paperwire.services.submissions import UNREACHABLE
from paperwire.store.models import FeedEntry, Paper
from tests.support.arxiv_replay import API_PATH, arxiv_replay_server
from tests.web.accountkit import (  # noqa: F401
    bearer,
    fast_hashing,
    make_app,
    make_user,
    post_form,
    signin,
    token_for,
)

PAPER = "2501.00001"


@contextlib.contextmanager
def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield f"http://127.0.0.1:{port}/api/query"


@contextlib.contextmanager
def silent_server():
    """Accepts connections (the kernel completes them from the backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/api/query"


@contextlib.contextmanager
def replay_503():
    with arxiv_replay_server() as replay:
        query = {
            "search_query": "",
            "id_list": PAPER,
            "sortBy": "relevance",
            "sortOrder": "descending",
            "start": "0",
            "max_results": "100",
        }
        replay.add(API_PATH, query, 503, b"busy", [("Retry-After", "10")], replace=True)
        yield replay.api_url


ENDPOINTS = {"closed port": closed_port, "no answer": silent_server, "503": replay_503}


def _nothing_changed(db):
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Paper)) == 0
        assert session.scalar(select(func.count()).select_from(FeedEntry)) == 0


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_api_submit_when_arxiv_is_down_fails_fast_in_words(settings, db, caplog, endpoint):
    with ENDPOINTS[endpoint]() as url:
        app = make_app(
            settings,
            db,
            arxiv_api_url=url,
            arxiv_interactive_timeout_seconds=2.0,
            submit_max_age_days=100000,
        )
        headers = bearer(token_for(db, make_user(db, "alice")))
        with TestClient(app) as client, caplog.at_level(logging.WARNING):
            started = time.monotonic()
            r = client.post("/api/papers/submit", json={"id": PAPER}, headers=headers)
            elapsed = time.monotonic() - started
    assert r.status_code == 503, r.text
    assert r.json()["detail"] == UNREACHABLE
    assert elapsed < 6, f"took {elapsed:.1f} s"
    assert url not in r.text and "Errno" not in r.text
    assert PAPER in caplog.text and "arXiv fetch" in caplog.text  # the detail: in the log
    _nothing_changed(db)


def test_submit_page_when_arxiv_is_down_says_so_and_keeps_the_input(settings, db):
    with closed_port() as url:
        app = make_app(settings, db, arxiv_api_url=url, submit_max_age_days=100000)
        with TestClient(app) as client:
            make_user(db, "alice")
            signin(client, "alice")
            started = time.monotonic()
            r = post_form(client, "/submit", {"paper": PAPER}, token_from="/submit")
            elapsed = time.monotonic() - started
    assert r.status_code == 503
    assert "arXiv could not be reached; nothing was changed; try again later." in r.text
    assert "later.." not in r.text  # the page adds a full stop only where one is missing
    assert f'value="{PAPER}"' in r.text
    assert "127.0.0.1" not in r.text and "Errno" not in r.text
    assert elapsed < 6
    _nothing_changed(db)
