"""Sign up, sign in, sign out, profile, API tokens and user pages (SQLite and PostgreSQL),
through the real middleware: cookies and CSRF tokens as a browser has them."""

import re

from sqlalchemy import select

from paperwire.store.models import ApiToken, User
from paperwire.store.models import Session as BrowserSession
from tests.factories import make_feed_papers
from tests.web.accountkit import (  # fast_hashing, wapp, web: pytest fixtures
    PASSWORD,  # noqa: F401
    fast_hashing,  # noqa: F401
    make_user,
    new_client,
    post_form,
    signin,
    wapp,  # noqa: F401
    web,  # noqa: F401
)


def _signup(client, username="alice", password=PASSWORD, confirm=None, email="", next=""):
    data = {
        "username": username,
        "password": password,
        "password_confirm": password if confirm is None else confirm,
        "email": email,
    }
    if next:
        data["next"] = next
    return post_form(client, "/signup", data, token_from="/signup")


def test_signup_creates_account_with_argon2id_hash_and_signs_in(web, db):
    response = _signup(web, "alice", email="Alice@Example.org", next="/profile")
    assert response.status_code == 303 and response.headers["location"] == "/profile"
    cookie = response.headers["set-cookie"]
    assert "pw_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    with db.session() as s:
        user = s.scalar(select(User).where(User.username == "alice"))
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert user.email == "alice@example.org" and not user.is_admin
        # The session table holds a hash of the cookie value, never the value itself.
        sid = cookie.split("pw_session=")[1].split(";")[0]
        rows = s.scalars(select(BrowserSession.id_hash)).all()
        assert sid not in rows and len(rows) == 1
    page = web.get("/profile")
    assert page.status_code == 200 and "@alice" in page.text


def test_production_hasher_is_argon2id_with_rfc9106_parameters():
    from argon2 import PasswordHasher, Type

    from paperwire.web import auth

    previous = auth.use_hasher(PasswordHasher())  # what a server uses (no test override)
    try:
        hashed = auth.hash_password("a long enough passphrase")
        assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert auth.verify_password(hashed, "a long enough passphrase")
        assert not auth.verify_password(hashed, "a long enough passphrase!")
        assert PasswordHasher().type is Type.ID
    finally:
        auth.use_hasher(previous)


def test_weak_hash_is_upgraded_on_next_signin(web, db):
    from argon2 import PasswordHasher

    from paperwire.web import auth

    make_user(db, "carol")  # hashed with the tests' small parameters
    auth.use_hasher(PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    signin(web, "carol")
    with db.session() as s:
        stored = s.scalar(select(User.password_hash).where(User.username == "carol"))
    assert "m=2048,t=2,p=1" in stored


def test_signup_refusals_say_why_and_keep_what_was_typed(web, db):
    cases = [
        (dict(username="x"), 400, "2 to 32 characters"),
        (dict(username="bob", password="short"), 400, "at least 8 characters"),
        (dict(username="bob", confirm="something else"), 400, "two passwords differ"),
        (dict(username="bob", email="not-an-email"), 400, "does not look like an e-mail"),
        (dict(username="admin"), 400, "reserved"),
        (dict(username="bobby", password="BOBBY"), 400, "at least 8"),
        (dict(username="bobbybobby", password="BobbyBobby"), 400, "must not be the username"),
    ]
    for kwargs, status, message in cases:
        response = _signup(web, **kwargs)
        assert response.status_code == status, (kwargs, response.text[:300])
        assert message in response.text
        assert f'value="{kwargs["username"]}"' in response.text
        assert 'name="password"' in response.text and PASSWORD not in response.text
    with db.session() as s:
        assert s.scalars(select(User)).all() == []


def test_taken_username_is_a_conflict(web, db):
    make_user(db, "Alice")
    response = _signup(web, "alice")
    assert response.status_code == 409
    assert "username &#39;alice&#39; is taken" in response.text


def test_signin_wrong_password_and_unknown_user_look_the_same(web, db):
    make_user(db, "dave")
    wrong = post_form(
        web, "/signin", {"username": "dave", "password": "nope nope"}, token_from="/signin"
    )
    unknown = post_form(
        web, "/signin", {"username": "nobody", "password": "nope nope"}, token_from="/signin"
    )
    assert wrong.status_code == unknown.status_code == 400
    assert (
        "Wrong username or password." in wrong.text
        and "Wrong username or password." in unknown.text
    )
    assert "pw_session" not in wrong.headers.get("set-cookie", "")


def test_signin_sets_a_fresh_session_and_next_is_kept_local(web, db):
    make_user(db, "erin")
    ok = post_form(
        web,
        "/signin",
        {"username": "ERIN", "password": PASSWORD, "next": "/submit"},
        token_from="/signin",
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/submit"
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = post_form(
            web,
            "/signin",
            {"username": "erin", "password": PASSWORD, "next": evil},
            token_from="/signin",
        )
        assert r.headers["location"] == "/", evil
    with db.session() as s:
        # Each sign-in ended the previous session of this browser: one row remains.
        assert len(s.scalars(select(BrowserSession)).all()) == 1


def test_disabled_user_cannot_sign_in(web, db):
    from paperwire.store.users import set_disabled

    user = make_user(db, "frank")
    with db.session() as s:
        set_disabled(s, user.id, True)
    r = post_form(web, "/signin", {"username": "frank", "password": PASSWORD}, token_from="/signin")
    assert r.status_code == 400


def test_signout_deletes_the_session(web, db):
    make_user(db, "gina")
    signin(web, "gina")
    old_cookie = web.cookies.get("pw_session")
    r = post_form(web, "/signout", token_from="/profile")
    assert r.status_code == 303
    with db.session() as s:
        assert s.scalars(select(BrowserSession)).all() == []
    # The old cookie value is worthless now, even if a copy was kept.
    replay = new_client(web.app)
    replay.cookies.set("pw_session", old_cookie)
    assert replay.get("/profile", follow_redirects=False).status_code == 303


def test_profile_needs_sign_in(web):
    r = web.get("/profile", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=%2Fprofile"


def test_profile_lists_submissions_upvotes_and_comments(web, db):
    import datetime as dt

    from paperwire.store import comments, votes
    from paperwire.store.models import FeedEntry

    user = make_user(db, "hana")
    recs = make_feed_papers(db, 2, day=dt.date(2026, 11, 20), title="Sequence models for cells")
    with db.session() as s:
        s.query(FeedEntry).filter(FeedEntry.paper_id == recs[0].id).update(
            {"submitted_by": user.id}
        )
        votes.add_vote(s, user.id, recs[1].id)
        comments.add_comment(s, recs[1].id, user.id, "Nice *work*", "<p>Nice <em>work</em></p>")
    signin(web, "hana")
    page = web.get("/profile").text
    subs = page.split('id="h-submissions"')[1].split("</section>")[0]
    ups = page.split('id="h-upvotes"')[1].split("</section>")[0]
    coms = page.split('id="h-comments"')[1].split("</section>")[0]
    assert f"/papers/{recs[0].id}" in subs and f"/papers/{recs[1].id}" not in subs
    assert f"/papers/{recs[1].id}" in ups and f"/papers/{recs[0].id}" not in ups
    assert "Nice *work*" in coms
    public = web.get("/users/hana").text
    assert f"/papers/{recs[0].id}" in public and "Nice *work*" in public
    assert web.get("/users/nobody").status_code == 404


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(web, db):
    user = make_user(db, "ivan")
    signin(web, "ivan")
    r = post_form(web, "/profile/tokens", {"name": "my bot"}, token_from="/profile")
    assert r.status_code == 201 and "no-store" in r.headers["cache-control"]
    token = re.search(
        r'id="new-token" class="token-value" readonly value="(pw_[^"]+)"', r.text
    ).group(1)
    with db.session() as s:
        row = s.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
        assert row.name == "my bot" and row.token_hash != token and len(row.token_hash) == 64
    assert web.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json() == {
        "name": "ivan",
        "isAdmin": False,
    }
    assert token not in web.get("/profile").text  # never shown again
    r = post_form(web, f"/profile/tokens/{row.id}/revoke", token_from="/profile")
    assert r.status_code == 303
    assert web.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_cannot_revoke_another_users_token(web, db):
    from paperwire.web import auth

    owner = make_user(db, "judy")
    token = auth.new_api_token(db, owner.id, "hers")
    make_user(db, "mallory")
    signin(web, "mallory")
    r = post_form(web, f"/profile/tokens/{token.id}/revoke", token_from="/profile")
    assert r.status_code == 404
    assert web.get("/api/me", headers={"Authorization": f"Bearer {token.token}"}).status_code == 200


def test_password_change_signs_out_other_browsers(web, db):
    make_user(db, "kim")
    signin(web, "kim")
    other = new_client(web.app)
    signin(other, "kim")
    r = post_form(
        web,
        "/profile/password",
        {
            "current_password": PASSWORD,
            "new_password": "a new passphrase",
            "new_password_confirm": "a new passphrase",
        },
        token_from="/profile",
    )
    assert r.status_code == 200 and "Your password was changed" in r.text
    assert web.get("/profile").status_code == 200
    assert other.get("/profile", follow_redirects=False).status_code == 303
    bad = post_form(
        web,
        "/profile/password",
        {
            "current_password": "wrong one!",
            "new_password": "another passphrase",
            "new_password_confirm": "another passphrase",
        },
        token_from="/profile",
    )
    assert bad.status_code == 400 and "current password is wrong" in bad.text
    signin(new_client(web.app), "kim", "a new passphrase")


# --- deleting one's own account ------------------------------------------------------------


def test_deleting_an_account_removes_votes_empties_comments_and_keeps_submissions(web, db):
    import datetime as dt

    from paperwire.store.feed import add_feed_entry
    from paperwire.store.models import ApiToken, Comment, FeedEntry, Paper, Upvote
    from tests.factories import make_papers
    from tests.web.accountkit import bearer, token_for

    p1, p2 = make_papers(db, 2)
    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    token = token_for(db, alice)
    with db.session() as s:
        add_feed_entry(
            s, p2.id, dt.date(2025, 5, 1), submitted_by=alice.id, submitted_by_name="alice"
        )
    signin(web, "alice")
    post_form(web, f"/papers/{p1.id}/upvote")
    post_form(web, f"/papers/{p1.id}/comments", {"body": "replied to"})
    post_form(web, f"/papers/{p1.id}/comments", {"body": "left alone"})
    with db.session() as s:
        replied, alone = s.scalars(select(Comment.id).order_by(Comment.id)).all()
    other = new_client(web.app)
    signin(other, "bob")
    post_form(other, f"/papers/{p1.id}/upvote")
    post_form(
        other,
        f"/papers/{p1.id}/comments",
        {"body": "an answer from bob", "parent_id": str(replied)},
    )
    with db.session() as s:
        assert s.get(Paper, p1.id).upvotes == 2 and s.get(Paper, p1.id).num_comments == 3

    wrong = post_form(
        web,
        "/profile/delete",
        {"password": "not it at all", "confirm": "alice"},
        token_from="/profile",
    )
    assert wrong.status_code == 400 and "password is wrong" in wrong.text
    unconfirmed = post_form(
        web, "/profile/delete", {"password": PASSWORD, "confirm": "alic"}, token_from="/profile"
    )
    assert unconfirmed.status_code == 400 and "Type your username" in unconfirmed.text

    done = post_form(
        web, "/profile/delete", {"password": PASSWORD, "confirm": "Alice"}, token_from="/profile"
    )
    assert done.status_code == 200 and "Account deleted" in done.text
    assert "pw_session=" in done.headers["set-cookie"]  # the cookie is cleared
    assert web.get("/profile", follow_redirects=False).status_code == 303
    assert web.get("/api/me", headers=bearer(token)).status_code == 401
    bad = post_form(
        new_client(web.app),
        "/signin",
        {"username": "alice", "password": PASSWORD},
        token_from="/signin",
    )
    assert bad.status_code == 400
    with db.session() as s:
        assert s.scalar(select(User).where(User.username == "alice")) is None
        assert s.scalar(select(ApiToken).where(ApiToken.user_id == alice.id)) is None
        paper = s.get(Paper, p1.id)
        # Votes removed with the counter; only bob's answer still counts as a comment.
        assert paper.upvotes == 1 and paper.num_comments == 1
        assert s.scalars(select(Upvote.user_id)).all() == [bob.id]
        for cid in (replied, alone):
            c = s.get(Comment, cid)
            assert c.deleted and c.body == "" and c.body_html == "" and c.user_id is None
        entry = s.scalar(select(FeedEntry).where(FeedEntry.paper_id == p2.id))
        assert entry is not None and entry.submitted_by is None and entry.submitted_by_name is None
    page = other.get(f"/papers/{p1.id}").text
    assert "[deleted]" in page and "an answer from bob" in page
    assert "replied to" not in page and "left alone" not in page
    # The name is free again.
    _signup(new_client(web.app), "alice")


def test_the_only_admin_cannot_delete_their_account(web, db):
    make_user(db, "chief", admin=True)
    signin(web, "chief")
    r = post_form(
        web, "/profile/delete", {"password": PASSWORD, "confirm": "chief"}, token_from="/profile"
    )
    assert r.status_code == 400 and "only administrator" in r.text
    make_user(db, "deputy", admin=True)
    r = post_form(
        web, "/profile/delete", {"password": PASSWORD, "confirm": "chief"}, token_from="/profile"
    )
    assert r.status_code == 200


def test_account_deletion_needs_the_csrf_token_and_a_session(web, db):
    make_user(db, "pat")
    anonymous = post_form(
        new_client(web.app), "/profile/delete", {"password": PASSWORD, "confirm": "pat"}
    )
    assert anonymous.status_code == 401
    signin(web, "pat")
    forged = web.post(
        "/profile/delete", data={"password": PASSWORD, "confirm": "pat"}, follow_redirects=False
    )
    assert forged.status_code == 403
    with db.session() as s:
        assert s.scalar(select(User).where(User.username == "pat")) is not None


def test_profile_offers_account_deletion(web, db):
    make_user(db, "quinn")
    signin(web, "quinn")
    html = web.get("/profile").text
    assert 'action="/profile/delete"' in html and 'name="confirm"' in html
    assert 'name="csrf_token"' in html[html.index('action="/profile/delete"') :]
