"""The paper page /papers/{id} — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from sqlalchemy import update

from paperwire.store.models import Comment, Paper, User
from tests.factories import make_feed_papers, make_papers
from tests.search.embed_fixtures import encoder  # noqa: F401 - one model export per session
from tests.web.readkit import app, as_user, client, count_statements  # noqa: F401


def _full_record(db, **overrides):
    values = dict(
        id="2104.12255", version=3,
        title="scE$^2$TM: Toward Interpretable Single-Cell Embedding",
        abstract="We embed cells with $\\alpha$-divergences. Results: <script>x</script>.",
        authors=[{"name": "Hegang Chen", "affiliations": ["Sun Yat-sen University"]},
                 {"name": "Yuyin Lu", "affiliations": []}],
        categories=["q-bio.GN", "cs.LG"], primary_category="q-bio.GN", doi="10.1000/xyz",
        journal_ref="Bioinformatics 41 (2025)", comments="12 pages, 3 figures",
        published_at=dt.datetime(2021, 4, 25, 10, 0), updated_at=dt.datetime(2021, 6, 1, 8, 0),
        versions=[{"version": 1, "created": "2021-04-25T10:00:00"},
                  {"version": 2, "created": "2021-05-10T10:00:00"},
                  {"version": 3, "created": "2021-06-01T08:00:00"}],
        abs_url="https://arxiv.org/abs/2104.12255", pdf_url="https://arxiv.org/pdf/2104.12255v3",
    )
    values.update(overrides)
    return make_feed_papers(db, 1, day=dt.date(2025, 5, 1), upvotes=17, num_comments=0,
                            submitted_by_name="akhaliq", **values)[0]


def test_paper_page_shows_everything_about_the_paper(client, db):
    rec = _full_record(db)
    resp = client.get(f"/papers/{rec.id}")
    assert resp.status_code == 200
    html = resp.text
    assert "<title>scE^2TM: Toward Interpretable Single-Cell Embedding · Paperwire</title>" in html
    assert "<msup>" in html  # title math rendered
    assert "<mi>α</mi>" in html or "&#x003B1;" in html  # abstract math rendered
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>x</script>" not in html
    assert "Hegang Chen" in html and "Sun Yat-sen University" in html and "Yuyin Lu" in html
    assert ">q-bio.GN</a>" in html and "tag-primary" in html
    for v in ("v1", "v2", "v3"):
        assert v in html
    assert 'href="https://arxiv.org/abs/2104.12255"' in html
    assert 'href="https://arxiv.org/pdf/2104.12255v3"' in html
    assert 'href="https://doi.org/10.1000/xyz"' in html
    assert "Bioinformatics 41 (2025)" in html and "12 pages, 3 figures" in html
    assert '<span class="upvote-count">17</span>' in html
    assert 'action="/papers/2104.12255/upvote"' in html
    assert "submitted by akhaliq" in html and 'href="/papers?date=2025-05-01"' in html
    assert "@misc{chen2021interpretable," in html
    assert "eprint = {2104.12255}" in html and "archivePrefix = {arXiv}" in html
    assert 'data-copy-target="bibtex"' in html
    assert "Sign in</a> to comment" in html


def test_old_style_ids_with_a_slash_have_pages(client, db):
    make_papers(db, 1, id="hep-th/9901001", title="Old style id paper")
    resp = client.get("/papers/hep-th/9901001")
    assert resp.status_code == 200
    assert "Old style id paper" in resp.text
    assert 'action="/papers/hep-th/9901001/upvote"' in resp.text


def test_comments_are_listed_oldest_first_and_deleted_ones_left_out(client, db):
    rec = _full_record(db)
    with db.session() as s:
        user = User(username="grace", password_hash="x")
        s.add(user)
        s.flush()
        s.add_all([
            Comment(paper_id=rec.id, user_id=user.id, body="first", body_html="<p>first <em>one</em></p>",
                    created_at=dt.datetime(2025, 5, 1, 10)),
            Comment(paper_id=rec.id, user_id=user.id, body="gone", body_html="<p>gone</p>",
                    deleted=True, created_at=dt.datetime(2025, 5, 1, 11)),
            Comment(paper_id=rec.id, user_id=None, body="second", body_html="<p>second</p>",
                    created_at=dt.datetime(2025, 5, 1, 12)),
        ])
        # As the comment functions keep it: visible comments only.
        s.execute(update(Paper).where(Paper.id == rec.id).values(num_comments=2))
    html = client.get(f"/papers/{rec.id}").text
    assert "2 comments" in html
    assert html.index("<p>first <em>one</em></p>") < html.index("<p>second</p>")
    assert "<p>gone</p>" not in html
    assert "grace" in html and "deleted user" in html


def test_signed_in_user_gets_a_comment_form_and_admin_gets_moderation(app, client, db):
    rec = _full_record(db)
    with db.session() as s:
        user = User(username="lin", password_hash="x")
        admin = User(username="boss", password_hash="x", is_admin=True)
        s.add_all([user, admin])
    as_user(app, user)
    html = client.get(f"/papers/{rec.id}").text
    assert f'action="/papers/{rec.id}/comments"' in html and 'name="body"' in html
    assert 'value="test-csrf-token"' in html
    assert "Hide from feed" not in html
    as_user(app, admin)
    assert "Hide from feed" in client.get(f"/papers/{rec.id}").text


def test_hidden_paper_is_not_found_except_for_admins(app, client, db):
    (rec,) = make_feed_papers(db, 1, day=dt.date(2025, 5, 1), hidden=True)
    assert client.get(f"/papers/{rec.id}").status_code == 404
    with db.session() as s:
        admin = User(username="root", password_hash="x", is_admin=True)
        s.add(admin)
    as_user(app, admin)
    resp = client.get(f"/papers/{rec.id}")
    assert resp.status_code == 200 and "hidden from the feed" in resp.text


@pytest.mark.parametrize("path", ["/papers/0000.00000", "/papers/no%20such", "/papers/" + "x" * 300,
                                  "/papers/hep-th/0000000", "/papers/%00"])
def test_unknown_paper_is_a_404_page(client, path):
    resp = client.get(path)
    assert resp.status_code == 404
    assert "text/html" in resp.headers["content-type"]
    assert "no paper with id" in resp.text


def test_paper_page_without_semantic_index_still_renders_similar_section(client, db):
    rec = _full_record(db)
    html = client.get(f"/papers/{rec.id}").text
    assert "Similar papers" in html


@pytest.mark.slow
def test_similar_papers_appear_once_the_semantic_index_is_ready(settings, db, encoder):
    """The real search service (model loaded in the background, as `paperwire serve` does)."""
    import dataclasses

    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app

    cells = _full_record(db)
    make_papers(db, 1, id="2301.00001", title="Single-cell embedding of gene expression",
                abstract="Interpretable embeddings of single-cell RNA sequencing data.")
    make_papers(db, 1, id="2301.00002", title="Galaxy rotation curves",
                abstract="We measure rotation curves of spiral galaxies with radio telescopes.")
    app = create_app(dataclasses.replace(settings, page_cache_seconds=0.0), db,
                     warm_search=True)
    with TestClient(app) as c:
        assert app.state.similar_ready.wait(120), "semantic side did not load"
        from paperwire.search.embedding_jobs import embed_pending

        embed_pending(settings, db)
        deadline = dt.datetime.now() + dt.timedelta(seconds=60)
        while True:
            similar = c.get(f"/api/papers/{cells.id}/similar?limit=2").json()
            if len(similar) == 2 or dt.datetime.now() > deadline:
                break
        assert [s["paper"]["id"] for s in similar][0] == "2301.00001"
        assert cells.id not in [s["paper"]["id"] for s in similar]
        html = c.get(f"/papers/{cells.id}").text
        assert 'href="/papers/2301.00001"' in html
    from paperwire.search.service import close_all

    close_all()
