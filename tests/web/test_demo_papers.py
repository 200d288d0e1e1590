"""The demo's seed papers are real arXiv papers on the web and in the API: submitting one
finds the paper already on the feed (no duplicate, arXiv not asked); ``cat:cs.LG`` finds
them; the paper page links the abstract and PDF and cites it with arXiv's BibTeX fields."""

import socket

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from paperwire.ingest.demo import load_demo_if_empty
from paperwire.store.models import FeedEntry, Paper
from tests.web.accountkit import bearer, fast_hashing, make_app, make_user, token_for  # noqa: F401


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_submitting_a_demo_paper_finds_it_on_the_feed(settings, db):
    load_demo_if_empty(settings, db)
    # arXiv is a closed port: a fetch would fail, so a 409 proves nothing was asked.
    app = make_app(settings, db, arxiv_api_url=f"http://127.0.0.1:{_closed_port()}/api/query")
    headers = bearer(token_for(db, make_user(db, "alice")))
    with TestClient(app) as client:
        r = client.post("/api/papers/submit", json={"id": "2312.00752"}, headers=headers)
        assert r.status_code == 409, r.text
        assert "2312.00752 is already on the feed" in r.json()["detail"]
        r = client.post(
            "/api/papers/submit", json={"id": "https://arxiv.org/abs/2312.00752v2"}, headers=headers
        )
        assert r.status_code == 409, r.text
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Paper)) == 255
        assert (
            session.scalar(
                select(func.count())
                .select_from(FeedEntry)
                .where(FeedEntry.paper_id == "2312.00752")
            )
            == 1
        )


def test_demo_arxiv_record_is_refused_as_too_old_and_accepted_offline_with_a_larger_max_age(
    settings, db
):
    """README: every demo paper is older than the maximum age; with a larger one a demo arXiv
    record (already in the library) is submitted to today's feed without asking arXiv."""
    load_demo_if_empty(settings, db)
    down = f"http://127.0.0.1:{_closed_port()}/api/query"
    headers = bearer(token_for(db, make_user(db, "alice")))
    with TestClient(make_app(settings, db, arxiv_api_url=down)) as client:
        r = client.post("/api/papers/submit", json={"id": "0704.0001"}, headers=headers)
        assert r.status_code == 422, r.text
        assert "first published on 2007-04-02" in r.json()["detail"]
    with TestClient(
        make_app(settings, db, arxiv_api_url=down, submit_max_age_days=100_000)
    ) as client:
        r = client.post("/api/papers/submit", json={"id": "0704.0001"}, headers=headers)
        assert r.status_code in (200, 201), r.text
        today = {item["paper"]["id"] for item in client.get("/api/daily_papers").json()}
        assert "0704.0001" in today
    with db.session() as session:
        assert (
            session.scalar(
                select(func.count()).select_from(FeedEntry).where(FeedEntry.paper_id == "0704.0001")
            )
            == 1
        )


def test_category_search_finds_the_demo_papers(settings, db):
    load_demo_if_empty(settings, db)
    with db.session() as session:
        expected = {
            pid
            for pid, cats in session.execute(select(Paper.id, Paper.categories))
            if "cs.LG" in (cats or [])
        }
    assert "2405.13956" in expected and len(expected) >= 10
    with TestClient(make_app(settings, db)) as client:
        r = client.get(
            "/api/papers/search", params={"q": "cat:cs.LG", "mode": "lexical", "limit": 100}
        )
        assert r.status_code == 200, r.text
        assert {item["paper"]["id"] for item in r.json()} == expected


def test_demo_paper_page_has_arxiv_links_and_bibtex(settings, db):
    load_demo_if_empty(settings, db)
    with TestClient(make_app(settings, db)) as client:
        body = client.get("/api/papers/2405.13956").json()
    assert body["absUrl"] == "https://arxiv.org/abs/2405.13956"
    assert body["pdfUrl"] == "https://arxiv.org/pdf/2405.13956"
    bib = body["bibtex"]
    assert bib.startswith("@misc{feng2024attention,")
    for line in (
        "author = {Leo Feng and Frederick Tung and Hossein Hajimirsadeghi and "
        "Mohamed Osama Ahmed and Yoshua Bengio and Greg Mori}",
        "year = {2024}",
        "eprint = {2405.13956}",
        "archivePrefix = {arXiv}",
        "primaryClass = {cs.LG}",
        "url = {https://arxiv.org/abs/2405.13956}",
    ):
        assert line in bib, bib
