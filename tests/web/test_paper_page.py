"""The paper page /papers/{id} — on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from paperwire.store.models import Comment, Paper, User
from paperwire.web.appcontext import app_context
from tests.factories import make_feed_papers, make_papers
from tests.search.embed_fixtures import encoder  # noqa: F401 - one model export per session
from tests.web.readkit import app, as_user, client, count_statements  # noqa: F401


def _full_record(db, **overrides):
    values = dict(
        id="2104.12255",
        version=3,
        title="scE$^2$TM: Toward Interpretable Single-Cell Embedding",
        abstract="We embed cells with $\\alpha$-divergences. Results: <script>x</script>.",
        authors=[
            {"name": "Hegang Chen", "affiliations": ["Sun Yat-sen University"]},
            {"name": "Yuyin Lu", "affiliations": []},
        ],
        categories=["q-bio.GN", "cs.LG"],
        primary_category="q-bio.GN",
        doi="10.1000/xyz",
        journal_ref="Bioinformatics 41 (2025)",
        comments="12 pages, 3 figures",
        published_at=dt.datetime(2021, 4, 25, 10, 0),
        updated_at=dt.datetime(2021, 6, 1, 8, 0),
        versions=[
            {"version": 1, "created": "2021-04-25T10:00:00"},
            {"version": 2, "created": "2021-05-10T10:00:00"},
            {"version": 3, "created": "2021-06-01T08:00:00"},
        ],
        abs_url="https://arxiv.org/abs/2104.12255",
        pdf_url="https://arxiv.org/pdf/2104.12255v3",
    )
    values.update(overrides)
    return make_feed_papers(
        db,
        1,
        day=dt.date(2025, 5, 1),
        upvotes=17,
        num_comments=0,
        submitted_by_name="akhaliq",
        **values,
    )[0]


def test_paper_page_shows_everything_about_the_paper(client, db):
    rec = _full_record(db)
    resp = client.get(f"/papers/{rec.id}")
    assert resp.status_code == 200
    html = resp.text
    assert "<title>scE²TM: Toward Interpretable Single-Cell Embedding · Paperwire</title>" in html
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
        s.add_all(
            [
                Comment(
                    paper_id=rec.id,
                    user_id=user.id,
                    body="first",
                    body_html="<p>first <em>one</em></p>",
                    created_at=dt.datetime(2025, 5, 1, 10),
                ),
                Comment(
                    paper_id=rec.id,
                    user_id=user.id,
                    body="gone",
                    body_html="<p>gone</p>",
                    deleted=True,
                    created_at=dt.datetime(2025, 5, 1, 11),
                ),
                Comment(
                    paper_id=rec.id,
                    user_id=None,
                    body="second",
                    body_html="<p>second</p>",
                    created_at=dt.datetime(2025, 5, 1, 12),
                ),
            ]
        )
        # As the comment functions keep it: visible comments only.
        s.execute(update(Paper).where(Paper.id == rec.id).values(num_comments=2))
    html = client.get(f"/papers/{rec.id}").text
    assert "2 comments" in html
    assert html.index("<p>first <em>one</em></p>") < html.index("<p>second</p>")
    assert "<p>gone</p>" not in html
    assert "grace" in html and "[deleted]" in html  # the comment whose author left


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


@pytest.mark.parametrize(
    "path",
    ["/papers/0000.00000", "/papers/no%20such", "/papers/" + "x" * 300, "/papers/hep-th/0000000"],
)
def test_unknown_paper_is_a_404_page(client, path):
    resp = client.get(path)
    assert resp.status_code == 404
    assert "text/html" in resp.headers["content-type"]
    assert "no paper with id" in resp.text


def test_paper_page_without_semantic_index_still_renders_similar_section(client, db):
    rec = _full_record(db)
    html = client.get(f"/papers/{rec.id}").text
    assert "Similar papers" in html


def test_similar_papers_load_after_the_page_with_a_no_script_link(client, db):
    """The page never waits for the neighbour search: it links to /papers/{id}/similar (a
    page of its own without JavaScript; the bare list for the page script)."""
    rec = _full_record(db)
    html = client.get(f"/papers/{rec.id}").text
    assert f'data-similar-src="/papers/{rec.id}/similar"' in html
    assert f'<a href="/papers/{rec.id}/similar">Show similar papers</a>' in html
    page = client.get(f"/papers/{rec.id}/similar")
    assert page.status_code == 200 and "<html" in page.text and "Papers similar to" in page.text
    assert "<msup>" in page.text  # the title's math
    assert "X-Fragment" in page.headers["vary"]
    fragment = client.get(f"/papers/{rec.id}/similar", headers={"X-Fragment": "1"})
    assert fragment.status_code == 200 and "<html" not in fragment.text
    # No semantic index in this app: a notice, never an error.
    assert "Similar papers" in fragment.text and 'class="notice"' in fragment.text
    assert client.get("/papers/0000.00000/similar").status_code == 404


def test_similar_papers_of_a_hidden_paper_are_for_admins_only(app, client, db):
    (rec,) = make_feed_papers(db, 1, day=dt.date(2025, 5, 1), hidden=True)
    assert client.get(f"/papers/{rec.id}/similar").status_code == 404
    with db.session() as s:
        admin = User(username="root", password_hash="x", is_admin=True)
        s.add(admin)
    as_user(app, admin)
    assert client.get(f"/papers/{rec.id}/similar").status_code == 200


def _thread(db, rec):
    """alice: top; bob replies; alice answers bob; carol: a second top-level comment."""
    from paperwire.store import comments as store

    with db.session() as s:
        users = {
            n: User(username=n, password_hash="x", is_admin=(n == "boss"))
            for n in ("alice", "bob", "carol", "boss")
        }
        s.add_all(users.values())
        s.flush()
        t0 = dt.datetime(2025, 5, 1, 10)
        top = store.add_comment(s, rec.id, users["alice"].id, "top", "<p>top</p>", now=t0)
        second = store.add_comment(
            s,
            rec.id,
            users["carol"].id,
            "second",
            "<p>second</p>",
            now=t0 + dt.timedelta(minutes=1),
        )
        reply = store.add_comment(
            s,
            rec.id,
            users["bob"].id,
            "reply",
            "<p>reply</p>",
            parent_id=top.id,
            now=t0 + dt.timedelta(minutes=2),
        )
        answer = store.add_comment(
            s,
            rec.id,
            users["alice"].id,
            "answer",
            "<p>answer</p>",
            parent_id=reply.id,
            now=t0 + dt.timedelta(minutes=3),
        )
        s.expunge_all()
    return users, {"top": top.id, "second": second.id, "reply": reply.id, "answer": answer.id}


def test_comments_are_threaded_with_replies_under_their_parent(app, client, db):
    rec = _full_record(db)
    users, ids = _thread(db, rec)
    html = client.get(f"/papers/{rec.id}").text
    order = [html.index(f'id="comment-{ids[k]}"') for k in ("top", "reply", "answer", "second")]
    assert order == sorted(order)  # replies follow their parent, before the next top level
    assert f'class="comment depth-0" id="comment-{ids["top"]}"' in html
    assert f'class="comment depth-1" id="comment-{ids["reply"]}" data-parent="{ids["top"]}"' in html
    assert f'class="comment depth-2" id="comment-{ids["answer"]}"' in html
    assert "4 comments" in html
    assert 'name="parent_id"' not in html  # anonymous readers get no reply forms
    as_user(app, users["bob"])
    html = client.get(f"/papers/{rec.id}").text
    for key in ("top", "reply", "answer", "second"):
        assert f'<input type="hidden" name="parent_id" value="{ids[key]}">' in html
    assert html.count('name="body"') == 5  # a reply form per comment and the new-comment form


def test_delete_buttons_only_for_the_author_and_admins(app, client, db):
    rec = _full_record(db)
    users, ids = _thread(db, rec)

    def deletable(user):
        as_user(app, user)
        html = client.get(f"/papers/{rec.id}").text
        return {k for k, i in ids.items() if f"/comments/{i}/delete" in html}

    assert deletable(None) == set()
    assert deletable(users["alice"]) == {"top", "answer"}
    assert deletable(users["bob"]) == {"reply"}
    assert deletable(users["boss"]) == set(ids)


def test_deleted_comment_with_replies_stays_as_a_placeholder(client, db):
    from paperwire.store import comments as store

    rec = _full_record(db)
    _users, ids = _thread(db, rec)
    with db.session() as s:
        store.delete_comment(s, ids["top"])  # replies hang below: kept as "[deleted]"
        store.delete_comment(s, ids["second"])  # no replies: gone
    html = client.get(f"/papers/{rec.id}").text
    assert f'id="comment-{ids["top"]}"' in html and "<p>top</p>" not in html
    assert f'id="comment-{ids["second"]}"' not in html
    assert "[deleted]" in html and "<p>reply</p>" in html and "2 comments" in html


@pytest.mark.slow
def test_similar_papers_appear_once_the_semantic_index_is_ready(settings, db, encoder):
    """The real search service (model loaded in the background, as `paperwire serve` does)."""
    import dataclasses

    from fastapi.testclient import TestClient

    from paperwire.web.app import create_app

    cells = _full_record(db)
    make_papers(
        db,
        1,
        id="2301.00001",
        title="Single-cell embedding of gene expression",
        abstract="Interpretable embeddings of single-cell RNA sequencing data.",
    )
    make_papers(
        db,
        1,
        id="2301.00002",
        title="Galaxy rotation curves",
        abstract="We measure rotation curves of spiral galaxies with radio telescopes.",
    )
    app = create_app(dataclasses.replace(settings, page_cache_seconds=0.0), db, warm_search=True)
    with TestClient(app) as c:
        assert app_context(app).similar_ready.wait(120), "semantic side did not load"
        from paperwire.search.embedding_jobs import embed_pending

        embed_pending(settings, db)
        deadline = dt.datetime.now() + dt.timedelta(seconds=60)
        while True:
            similar = c.get(f"/api/papers/{cells.id}/similar?limit=2").json()
            if len(similar) == 2 or dt.datetime.now() > deadline:
                break
        assert [s["paper"]["id"] for s in similar][0] == "2301.00001"
        assert cells.id not in [s["paper"]["id"] for s in similar]
        fragment = c.get(f"/papers/{cells.id}/similar", headers={"X-Fragment": "1"}).text
        assert 'href="/papers/2301.00001"' in fragment
    from paperwire.search.service import close_all

    close_all()


@pytest.mark.slow
def test_similar_papers_are_not_cached_empty_before_the_paper_is_embedded(settings, db, encoder):
    """On a first start the model is ready minutes before the background embedder has done
    the demo papers: an empty answer then ("no embedding yet") must not be kept for the
    similar cache's minutes after the papers are embedded (the page cache is on here)."""
    import dataclasses

    from fastapi.testclient import TestClient

    from paperwire.search.embedding_jobs import embed_pending
    from paperwire.search.service import close_all
    from paperwire.web.app import create_app

    cells = _full_record(db)
    make_papers(
        db,
        1,
        id="2301.00001",
        title="Single-cell embedding of gene expression",
        abstract="Interpretable embeddings of single-cell RNA sequencing data.",
    )
    app = create_app(dataclasses.replace(settings, page_cache_seconds=5.0), db, warm_search=True)
    try:
        with TestClient(app) as c:
            assert app_context(app).similar_ready.wait(120), "semantic side did not load"
            assert c.get(f"/api/papers/{cells.id}/similar?limit=2").json() == []
            embed_pending(settings, db)
            deadline = dt.datetime.now() + dt.timedelta(seconds=60)
            while True:
                similar = c.get(f"/api/papers/{cells.id}/similar?limit=2").json()
                if similar or dt.datetime.now() > deadline:
                    break
            assert [s["paper"]["id"] for s in similar] == ["2301.00001"]
    finally:
        close_all()
