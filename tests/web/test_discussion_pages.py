"""Editing comments, their history, notifications pages and the mail preference, through
the real app (forms with CSRF, API with tokens) — on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import re

from fastapi.testclient import TestClient

from tests.factories import make_papers
from tests.web.accountkit import (  # noqa: F401
    bearer,
    fast_hashing,
    make_app,
    make_user,
    post_form,
    signin,
    token_for,
    wapp,
    web,
)


def _comment(client, paper_id, body, parent=""):
    r = post_form(
        client,
        f"/papers/{paper_id}/comments",
        {"body": body, "parent_id": parent},
        token_from=f"/papers/{paper_id}",
    )
    assert r.status_code == 303, r.text[:300]
    return int(r.headers["location"].rsplit("comment-", 1)[1])


def test_author_edits_a_comment_and_it_says_edited(wapp, db):
    paper = make_papers(db, 1, id="2401.00002")[0]
    make_user(db, "alice")
    with TestClient(wapp) as alice:
        signin(alice, "alice")
        cid = _comment(alice, paper.id, "teh typo")
        page = alice.get("/papers/2401.00002").text
        assert f'href="/comments/{cid}/edit"' in page and "comment-edited" not in page
        assert alice.get(f"/comments/{cid}/edit").status_code == 200
        r = post_form(
            alice,
            f"/comments/{cid}/edit",
            {"body": "the fix, $x^2$"},
            token_from=f"/comments/{cid}/edit",
        )
        assert r.status_code == 303 and r.headers["location"].endswith(f"#comment-{cid}")
        page = alice.get("/papers/2401.00002").text
    assert "the fix" in page and "teh typo" not in page and "<msup>" in page
    assert 'class="muted comment-edited"' in page and "edited <time" in page


def test_only_the_author_may_edit_others_get_403(wapp, db):
    paper = make_papers(db, 1)[0]
    make_user(db, "alice")
    make_user(db, "bob")
    make_user(db, "boss", admin=True)
    with (
        TestClient(wapp) as alice,
        TestClient(wapp) as bob,
        TestClient(wapp) as boss,
        TestClient(wapp) as anon,
    ):
        signin(alice, "alice")
        signin(bob, "bob")
        signin(boss, "boss")
        cid = _comment(alice, paper.id, "mine")
        assert f"/comments/{cid}/edit" not in bob.get(f"/papers/{paper.id}").text
        assert bob.get(f"/comments/{cid}/edit").status_code == 403
        r = post_form(
            bob, f"/comments/{cid}/edit", {"body": "not mine"}, token_from=f"/papers/{paper.id}"
        )
        assert r.status_code == 403
        r = post_form(
            boss, f"/comments/{cid}/edit", {"body": "moderated"}, token_from=f"/papers/{paper.id}"
        )
        assert r.status_code == 403
        r = anon.get(f"/comments/{cid}/edit", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=")
        # without the CSRF token the edit is refused even for the author
        r = alice.post(f"/comments/{cid}/edit", data={"body": "x"}, follow_redirects=False)
        assert r.status_code == 403
        assert "mine" in anon.get(f"/papers/{paper.id}").text


def test_an_empty_edit_comes_back_with_the_reason_and_changes_nothing(wapp, db):
    paper = make_papers(db, 1)[0]
    make_user(db, "alice")
    with TestClient(wapp) as alice:
        signin(alice, "alice")
        cid = _comment(alice, paper.id, "kept")
        r = post_form(
            alice, f"/comments/{cid}/edit", {"body": "  "}, token_from=f"/comments/{cid}/edit"
        )
        assert r.status_code == 422 and "the comment is empty" in r.text
        assert "kept" in alice.get(f"/papers/{paper.id}").text


def test_administrators_see_the_earlier_versions_others_do_not(wapp, db):
    paper = make_papers(db, 1)[0]
    make_user(db, "alice")
    make_user(db, "boss", admin=True)
    with TestClient(wapp) as alice, TestClient(wapp) as boss:
        signin(alice, "alice")
        signin(boss, "boss")
        cid = _comment(alice, paper.id, "rude first version")
        post_form(
            alice, f"/comments/{cid}/edit", {"body": "polite"}, token_from=f"/comments/{cid}/edit"
        )
        assert f"/comments/{cid}/history" in boss.get(f"/papers/{paper.id}").text
        assert f"/comments/{cid}/history" not in alice.get(f"/papers/{paper.id}").text
        history = boss.get(f"/comments/{cid}/history")
        assert history.status_code == 200 and "rude first version" in history.text
        assert alice.get(f"/comments/{cid}/history").status_code == 403


def test_api_edit_comment_author_only(wapp, db):
    paper = make_papers(db, 1)[0]
    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    ta, tb = token_for(db, alice), token_for(db, bob)
    with TestClient(wapp) as c:
        made = c.post(
            f"/api/papers/{paper.id}/comments", json={"body": "v1"}, headers=bearer(ta)
        ).json()
        assert made["editedAt"] is None
        r = c.patch(f"/api/comments/{made['id']}", json={"body": "v2 $y$"}, headers=bearer(tb))
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        r = c.patch(f"/api/comments/{made['id']}", json={"body": "v2 $y$"}, headers=bearer(ta))
        assert r.status_code == 200
        body = r.json()
        assert body["body"] == "v2 $y$" and "<math" in body["bodyHtml"] and body["editedAt"]
        assert (
            c.patch("/api/comments/99999", json={"body": "x"}, headers=bearer(ta)).status_code
            == 404
        )
        listed = c.get(f"/api/papers/{paper.id}/comments").json()
        assert listed[0]["editedAt"] == body["editedAt"]


# --- notifications ---------------------------------------------------------------------------


def test_reply_shows_on_the_parents_authors_notifications_page(wapp, db):
    paper = make_papers(db, 1, title="On $\\alpha$-stable laws")[0]
    make_user(db, "alice")
    make_user(db, "bob")
    with TestClient(wapp) as alice, TestClient(wapp) as bob:
        signin(alice, "alice")
        signin(bob, "bob")
        cid = _comment(alice, paper.id, "Why $\\alpha<2$?")
        assert "unread-count" not in alice.get("/").text
        _comment(bob, paper.id, "Because the variance is infinite", parent=str(cid))
        home = alice.get("/").text
        assert re.search(r'class="badge unread-count">1<', home)
        page = alice.get("/notifications")
        assert page.status_code == 200 and "no-store" in page.headers["cache-control"]
        assert "bob replied to your comment on" in page.text
        assert "Because the variance is infinite" in page.text and "is-unread" in page.text
        # bob's own page shows nothing of it
        assert "replied" not in bob.get("/notifications").text
        r = post_form(alice, "/notifications/read", {}, token_from="/notifications")
        assert r.status_code == 303
        assert "unread-count" not in alice.get("/").text
        assert "is-unread" not in alice.get("/notifications").text


def test_marking_someone_elses_notification_changes_nothing(wapp, db):
    from paperwire.store import notifications as notes

    paper = make_papers(db, 1)[0]
    make_user(db, "alice")
    _bob = make_user(db, "bob")
    with TestClient(wapp) as a, TestClient(wapp) as b:
        signin(a, "alice")
        signin(b, "bob")
        _comment(a, paper.id, "hi @bob")
        with db.session() as s:
            [n] = notes.list_for(s, _bob.id)
        post_form(a, "/notifications/read", {"id": str(n.id)}, token_from="/notifications")
        with db.session() as s:
            assert notes.unread_count(s, _bob.id) == 1


def test_notifications_api(wapp, db):
    paper = make_papers(db, 1)[0]
    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    ta, tb = token_for(db, alice), token_for(db, bob)
    with TestClient(wapp) as c:
        c.post(f"/api/papers/{paper.id}/comments", json={"body": "ping @bob"}, headers=bearer(ta))
        got = c.get("/api/notifications", headers=bearer(tb)).json()
        assert got["unread"] == 1
        [item] = got["items"]
        assert (item["kind"], item["actor"], item["paperId"], item["read"]) == (
            "mention",
            "alice",
            paper.id,
            False,
        )
        assert c.get("/api/notifications").status_code == 401
        r = c.post("/api/notifications/read", json={"ids": [item["id"]]}, headers=bearer(ta))
        assert r.json() == {"marked": 0, "unread": 0}  # not alice's
        r = c.post("/api/notifications/read", json={}, headers=bearer(tb))
        assert r.json() == {"marked": 1, "unread": 0}


def test_notifications_page_needs_sign_in(web):
    r = web.get("/notifications", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=%2Fnotifications"


def test_email_preference_needs_a_proven_address(settings, db):
    """Switching mail on mails a confirmation link and nothing else; following it turns mail
    on; the one-click unsubscribe in the mail turns it off and voids older links."""
    from paperwire.digest.outbox import list_messages, outbox_dir
    from paperwire.store import notifications as notes

    settings = dataclasses.replace(settings, mail_transport="outbox", base_url="http://testserver")
    user = make_user(db, "alice", email="alice@example.org")
    with TestClient(make_app(settings, db)) as alice:
        signin(alice, "alice")
        r = post_form(alice, "/profile/notifications", {"email": "1"}, token_from="/profile")
        assert r.status_code == 303 and "notify=check-mail" in r.headers["location"]
        with db.session() as s:
            assert not notes.recipient(s, user.id)[2]
        items, _ = list_messages(outbox_dir(settings))
        assert len(items) == 1 and items[0].subject.startswith("Confirm notification emails")
        raw = (outbox_dir(settings) / "new").iterdir().__next__().read_text()
        link = re.search(r"http://testserver(/notifications/confirm/\S+)", raw).group(1)
        assert "We emailed a link" in alice.get("/profile?notify=check-mail").text
        assert alice.get(link).status_code == 200
        with db.session() as s:
            assert notes.recipient(s, user.id)[2]
        assert "checked" in alice.get("/profile").text.split('id="notifications"')[1][:1500]
        # asking again now that the address is proven mails nothing more
        post_form(alice, "/profile/notifications", {"email": "1"}, token_from="/profile")
        assert len(list_messages(outbox_dir(settings))[0]) == 1
    with TestClient(make_app(settings, db)) as stranger:
        from paperwire.digest.notify import member_url

        with db.session() as s:
            version = notes.get_prefs(s, user.id).token_version
        url = member_url(settings, "notify-unsubscribe", user.id, version)
        path = url.replace("http://testserver", "")
        assert stranger.get(path).status_code == 200
        r = stranger.post(path)  # one-click: no session, no CSRF token
        assert r.status_code == 200 and "No more notification emails" in r.text
        assert stranger.post(path).status_code == 400  # void once used
        assert stranger.get(link).status_code == 400  # the old confirmation too
        assert stranger.get("/notifications/unsubscribe/garbage").status_code == 400
    with db.session() as s:
        assert not notes.recipient(s, user.id)[2]
