"""Upvotes, comments, moderation and submissions through the HTML forms (SQLite and
PostgreSQL), signed in with real sessions and CSRF tokens."""

import datetime as dt

import pytest
from sqlalchemy import select

from paperwire.store.models import Comment, FeedEntry, Paper, Upvote
from tests.factories import make_feed_papers, make_papers
from tests.support.arxiv_replay import arxiv_replay_server
from tests.web.accountkit import (  # noqa: F401
    fast_hashing,
    make_app,
    make_user,
    new_client,
    post_form,
    signin,
    wapp,
    web,
)


def _paper(db, pid):
    with db.session() as s:
        return s.get(Paper, pid)


# --- upvotes -------------------------------------------------------------------------------


def test_upvote_form_toggles_and_redirects_back(web, db):
    (rec,) = make_feed_papers(db, 1, day=dt.date(2026, 11, 25), upvotes=4)
    make_user(db, "alice")
    signin(web, "alice")
    r = post_form(
        web,
        f"/papers/{rec.id}/upvote",
        token_from=f"/papers/{rec.id}",
        headers={"referer": "http://testserver/trending"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/trending"
    assert _paper(db, rec.id).upvotes == 5
    page = web.get(f"/papers/{rec.id}").text
    assert 'aria-pressed="true"' in page
    post_form(web, f"/papers/{rec.id}/upvote", token_from=f"/papers/{rec.id}")
    assert _paper(db, rec.id).upvotes == 4


def test_upvote_json_for_the_page_script(web, db):
    (rec,) = make_papers(db, 1)
    make_user(db, "alice")
    signin(web, "alice")
    for expected in ((True, 1), (False, 0)):
        r = post_form(
            web,
            f"/papers/{rec.id}/upvote",
            token_from=f"/papers/{rec.id}",
            headers={"accept": "application/json"},
        )
        assert r.status_code == 200
        assert (r.json()["upvoted"], r.json()["upvotes"]) == expected


def test_explicit_vote_value_counts_once(web, db):
    (rec,) = make_papers(db, 1)
    make_user(db, "alice")
    signin(web, "alice")
    for _ in range(3):
        post_form(web, f"/papers/{rec.id}/upvote", {"vote": "1"}, token_from=f"/papers/{rec.id}")
    assert _paper(db, rec.id).upvotes == 1


def test_another_users_vote_is_untouched(web, db):
    (rec,) = make_papers(db, 1)
    make_user(db, "alice")
    make_user(db, "bob")
    signin(web, "alice")
    post_form(web, f"/papers/{rec.id}/upvote", token_from=f"/papers/{rec.id}")
    bob = new_client(web.app)
    signin(bob, "bob")
    # Bob withdrawing "his" vote (he has none) removes nothing of Alice's.
    post_form(bob, f"/papers/{rec.id}/upvote", {"vote": "0"}, token_from=f"/papers/{rec.id}")
    assert _paper(db, rec.id).upvotes == 1
    with db.session() as s:
        assert len(s.scalars(select(Upvote)).all()) == 1


def test_signed_out_upvote_goes_to_sign_in(web, db):
    (rec,) = make_papers(db, 1)
    r = post_form(web, f"/papers/{rec.id}/upvote", token_from="/signin")
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=")
    j = post_form(
        web,
        f"/papers/{rec.id}/upvote",
        token_from="/signin",
        headers={"accept": "application/json"},
    )
    assert j.status_code == 401 and j.json()["error"] == "unauthorized"
    assert _paper(db, rec.id).upvotes == 0


def test_upvote_unknown_paper_is_404(web, db):
    make_user(db, "alice")
    signin(web, "alice")
    r = post_form(
        web, "/papers/2501.99999/upvote", token_from="/", headers={"accept": "application/json"}
    )
    assert r.status_code == 404 and "2501.99999" in r.json()["detail"]


def test_old_style_ids_work_in_write_urls(web, db):
    make_papers(db, 1, id="hep-th/9901001")
    make_user(db, "alice")
    signin(web, "alice")
    post_form(web, "/papers/hep-th/9901001/upvote", token_from="/")
    post_form(web, "/papers/hep-th/9901001/comments", {"body": "old but gold"}, token_from="/")
    paper = _paper(db, "hep-th/9901001")
    assert (paper.upvotes, paper.num_comments) == (1, 1)


# --- comments ------------------------------------------------------------------------------


def test_comment_is_markdown_sanitized_and_counted(web, db):
    (rec,) = make_papers(db, 1)
    make_user(db, "alice")
    signin(web, "alice")
    body = (
        "**Great** paper, see [code](https://example.org/x).\n\n"
        "<script>alert('x')</script> <img src=x onerror=alert(1)> "
        '[bad](javascript:alert(1)) <a href="https://evil.example">raw</a>'
    )
    r = post_form(web, f"/papers/{rec.id}/comments", {"body": body}, token_from=f"/papers/{rec.id}")
    assert r.status_code == 303 and r.headers["location"].startswith(f"/papers/{rec.id}#comment-")
    with db.session() as s:
        comment = s.scalar(select(Comment))
    html = comment.body_html
    assert "<strong>Great</strong>" in html
    assert '<a href="https://example.org/x" rel="nofollow ugc">code</a>' in html
    assert (
        "<script" not in html
        and "<img" not in html
        and "onerror=" not in html.replace("onerror=alert(1)&gt;", "")
    )
    assert "javascript:" not in html.split("[bad]")[0] and 'href="javascript' not in html
    assert '<a href="https://evil.example"' not in html  # raw HTML stays text
    assert comment.body == body  # the Markdown as written is kept
    assert _paper(db, rec.id).num_comments == 1
    page = web.get(f"/papers/{rec.id}").text
    assert "<strong>Great</strong>" in page and "<script>alert('x')</script>" not in page


def test_empty_or_too_long_comment_comes_back_with_the_text(web, db):
    (rec,) = make_papers(db, 1)
    make_user(db, "alice")
    signin(web, "alice")
    r = post_form(web, f"/papers/{rec.id}/comments", {"body": "   "}, token_from="/")
    assert r.status_code == 422 and "the comment is empty" in r.text
    long_text = "word " * 2100
    r = post_form(web, f"/papers/{rec.id}/comments", {"body": long_text}, token_from="/")
    assert r.status_code == 400 and "at most 10,000 characters" in r.text
    assert long_text.strip()[:200] in r.text
    assert _paper(db, rec.id).num_comments == 0


def test_replies_are_threaded(web, db):
    (rec,) = make_papers(db, 1)
    make_user(db, "alice")
    signin(web, "alice")
    post_form(web, f"/papers/{rec.id}/comments", {"body": "first"}, token_from="/")
    with db.session() as s:
        parent = s.scalar(select(Comment.id))
    r = post_form(
        web,
        f"/papers/{rec.id}/comments",
        {"body": "answer", "parent_id": str(parent)},
        token_from="/",
    )
    assert r.status_code == 303
    with db.session() as s:
        child = s.scalar(select(Comment).where(Comment.body == "answer"))
    assert child.parent_id == parent
    bad = post_form(
        web, f"/papers/{rec.id}/comments", {"body": "x", "parent_id": "999999"}, token_from="/"
    )
    assert bad.status_code == 400 and "does not exist" in bad.text


def test_only_author_or_admin_deletes_a_comment(web, db):
    (rec,) = make_papers(db, 1)
    make_user(db, "alice")
    make_user(db, "mallory")
    make_user(db, "boss", admin=True)
    signin(web, "alice")
    post_form(web, f"/papers/{rec.id}/comments", {"body": "mine"}, token_from="/")
    post_form(web, f"/papers/{rec.id}/comments", {"body": "also mine"}, token_from="/")
    with db.session() as s:
        first, second = s.scalars(select(Comment.id).order_by(Comment.id)).all()
    mallory = new_client(web.app)
    signin(mallory, "mallory")
    r = post_form(mallory, f"/comments/{first}/delete", token_from="/")
    assert r.status_code == 403 and _paper(db, rec.id).num_comments == 2
    r = post_form(web, f"/comments/{first}/delete", token_from="/")
    assert r.status_code == 303 and _paper(db, rec.id).num_comments == 1
    admin = new_client(web.app)
    signin(admin, "boss")
    r = post_form(admin, f"/papers/{rec.id}/comments/{second}/delete", token_from="/")
    assert r.status_code == 303 and _paper(db, rec.id).num_comments == 0


def test_reply_and_delete_with_the_paper_pages_own_forms(web, db):
    """What a browser without JavaScript does: the reply form and the delete button of the
    paper page, with the CSRF token that page carries."""
    import re

    (rec,) = make_papers(db, 1)
    make_user(db, "alice")
    make_user(db, "bob")
    signin(web, "alice")
    page = f"/papers/{rec.id}"
    post_form(web, f"{page}/comments", {"body": "a question"}, token_from=page)
    with db.session() as s:
        top = s.scalar(select(Comment.id))
    bob = new_client(web.app)
    signin(bob, "bob")
    html = bob.get(page).text
    assert f'<input type="hidden" name="parent_id" value="{top}">' in html
    assert f"/comments/{top}/delete" not in html  # not bob's comment
    r = post_form(
        bob, f"{page}/comments", {"body": "an *answer*", "parent_id": str(top)}, token_from=page
    )
    assert r.status_code == 303
    with db.session() as s:
        reply = s.scalar(select(Comment).where(Comment.parent_id == top))
    html = bob.get(page).text
    assert f'class="comment depth-1" id="comment-{reply.id}"' in html and "<em>answer</em>" in html
    delete_action = re.search(rf'action="([^"]*/comments/{reply.id}/delete)"', html).group(1)
    r = post_form(bob, delete_action, token_from=page)
    assert r.status_code == 303 and r.headers["location"].endswith("#comments")
    html = bob.get(page).text
    assert "<em>answer</em>" not in html and f'id="comment-{top}"' in html
    assert _paper(db, rec.id).num_comments == 1


# --- moderation ----------------------------------------------------------------------------


def test_only_admins_hide_and_unhide(web, db):
    (rec,) = make_feed_papers(db, 1, day=dt.date(2026, 11, 25))
    make_user(db, "alice")
    make_user(db, "boss", admin=True)
    signin(web, "alice")
    r = post_form(web, f"/papers/{rec.id}/hide", token_from="/")
    assert r.status_code == 403 and not _paper(db, rec.id).hidden
    admin = new_client(web.app)
    signin(admin, "boss")
    before = _paper(db, rec.id).modified_at
    assert post_form(admin, f"/papers/{rec.id}/hide", token_from="/").status_code == 303
    paper = _paper(db, rec.id)
    assert paper.hidden and paper.modified_at >= before
    assert rec.id not in web.get("/papers?date=2026-11-25").text
    assert post_form(admin, f"/papers/{rec.id}/unhide", token_from="/").status_code == 303
    assert not _paper(db, rec.id).hidden
    assert rec.id in web.get("/papers?date=2026-11-25").text


# --- submit --------------------------------------------------------------------------------


@pytest.fixture
def replay():
    with arxiv_replay_server() as server:
        yield server


@pytest.fixture
def submit_client(settings, db, replay):
    from fastapi.testclient import TestClient

    app = make_app(
        settings,
        db,
        submit_max_age_days=100000,
        submit_daily_quota=2,
        **replay.settings_overrides(),
    )
    with TestClient(app) as client:
        make_user(db, "alice")
        signin(client, "alice")
        yield client


def _submit(client, value):
    return post_form(client, "/submit", {"paper": value}, token_from="/submit")


def test_submit_fetches_unknown_paper_and_puts_it_on_todays_feed(submit_client, db, replay):
    r = _submit(submit_client, "https://arxiv.org/abs/1707.08567v1")
    assert r.status_code == 303 and r.headers["location"] == "/submit?done=1707.08567"
    assert any(q.get("id_list", "").startswith("1707.08567") for _, q in replay.requests)
    with db.session() as s:
        entry = s.scalar(select(FeedEntry).where(FeedEntry.paper_id == "1707.08567"))
        paper = s.get(Paper, "1707.08567")
    assert paper.title.startswith("Proceedings of Workshop AEW10")
    assert entry.submitted_by is not None and entry.day == dt.datetime.now(dt.UTC).date()
    done = submit_client.get(r.headers["location"]).text
    assert "Submitted." in done and "Proceedings of Workshop AEW10" in done


def test_submit_refusals_say_why(submit_client, db, replay):
    make_papers(db, 1, id="2611.00001", published_at=dt.datetime.now() - dt.timedelta(days=1))
    make_papers(db, 1, id="2611.00002", published_at=dt.datetime.now() - dt.timedelta(days=1))
    hidden = make_feed_papers(db, 1, day=dt.date(2026, 1, 1), hidden=True, id="2610.00003")[0]

    r = _submit(submit_client, "not an id")
    assert r.status_code == 400 and "not an arXiv id" in r.text
    r = _submit(submit_client, "0808.05394")  # arXiv answers: no such paper
    assert r.status_code == 404 and "arXiv has no paper with id 0808.05394" in r.text
    r = _submit(submit_client, hidden.id)
    assert r.status_code == 403 and "removed from the feed by the moderators" in r.text
    assert _submit(submit_client, "2611.00001").status_code == 303
    r = _submit(submit_client, "2611.00001")
    assert r.status_code == 409 and "already on the feed" in r.text
    assert 'value="2611.00001"' in r.text  # what was typed stays in the form
    assert _submit(submit_client, "2611.00002").status_code == 303
    r = _submit(submit_client, "1605.08386")  # third submission today, quota is 2
    assert r.status_code == 429 and "the daily limit is 2" in r.text
    assert int(r.headers["retry-after"]) > 0
    with db.session() as s:
        assert s.get(Paper, "1605.08386") is None  # refused before asking arXiv


def test_submit_too_old_paper_is_refused(settings, db, replay):
    from fastapi.testclient import TestClient

    app = make_app(settings, db, submit_max_age_days=30, **replay.settings_overrides())
    with TestClient(app) as client:
        make_user(db, "alice")
        signin(client, "alice")
        r = _submit(client, "1605.08386")
    assert r.status_code == 422
    assert "first published on 2016-05-26" in r.text and "last 30 days" in r.text
    with db.session() as s:
        assert s.scalar(select(FeedEntry)) is None


def test_submit_page_needs_sign_in(web):
    r = web.get("/submit", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=%2Fsubmit"


def test_racing_submissions_make_one_feed_entry_and_respect_the_quota(settings, db):
    """Six threads (own connections) submit: the same paper -> one entry, five duplicates;
    different papers with quota 2 -> exactly two entries."""
    import dataclasses
    import threading

    from paperwire.services.submissions import Duplicate, QuotaExceeded, submit_paper

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ids = [f"2611.{i:05d}" for i in range(20, 26)]
    for pid in ids:
        make_papers(db, 1, id=pid, published_at=now - dt.timedelta(days=1))
    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    limited = dataclasses.replace(settings, submit_daily_quota=2)

    def race(user, targets):
        barrier = threading.Barrier(len(targets))
        outcomes = []

        def go(pid):
            barrier.wait()
            try:
                submit_paper(limited, db, user, pid, now=now)
                outcomes.append("ok")
            except (Duplicate, QuotaExceeded) as exc:
                outcomes.append(type(exc).__name__)

        threads = [threading.Thread(target=go, args=(pid,)) for pid in targets]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sorted(outcomes)

    assert race(alice, [ids[0]] * 2) == ["Duplicate", "ok"]
    assert race(bob, ids[1:6]) == ["QuotaExceeded"] * 3 + ["ok"] * 2
    with db.session() as s:
        assert len(s.scalars(select(FeedEntry)).all()) == 3
