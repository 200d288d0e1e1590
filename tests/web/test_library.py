"""The library on the web: Save buttons (form and JSON), the Library page, /api/me/*, list
privacy (404 for everyone but the owner), public list page/feed/JSON, following, signals page
and "clear all", exports and the account export — on SQLite and PostgreSQL."""

import datetime as dt
import json

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from paperwire.store import library, lists
from tests.factories import make_feed_papers
from tests.web.accountkit import (  # noqa: F401
    bearer,
    csrf,
    fast_hashing,
    make_app,
    make_user,
    post_form,
    signin,
    token_for,
)

DAY = dt.date(2026, 11, 20)


@pytest.fixture
def app(settings, db):
    return make_app(settings, db, rate_limit_per_minute=1_000_000)


def _client(app, name=None):
    client = TestClient(app)
    if name:
        signin(client, name)
    return client


def test_save_button_form_saves_and_library_shows_it_newest_first(app, db):
    first, second = make_feed_papers(db, 2, day=DAY)
    make_user(db, "alice")
    with _client(app, "alice") as client:
        for rec in (first, second):
            r = post_form(client, f"/papers/{rec.id}/save", token_from="/")
            assert r.status_code == 303
        page = client.get("/library")
    assert page.status_code == 200
    assert page.text.index(second.title) < page.text.index(first.title)
    assert "2 saved papers" in page.text


def test_feed_cards_show_save_buttons_to_members_only(app, db):
    (rec,) = make_feed_papers(db, 1, day=DAY)
    make_user(db, "alice")
    with _client(app) as anon:
        assert "save-btn" not in anon.get(f"/papers?date={DAY}").text
    with _client(app, "alice") as client:
        post_form(client, f"/papers/{rec.id}/save", {"saved": "1"})
        html = client.get(f"/papers?date={DAY}").text
        paper_page = client.get(f"/papers/{rec.id}").text
    assert 'aria-pressed="true">Saved' in html
    assert "Not interested" in html and "More like this" in html
    assert 'aria-pressed="true">Saved' in paper_page and "Create and add" in paper_page


def test_save_answers_json_for_the_page_script(app, db):
    (rec,) = make_feed_papers(db, 1, day=DAY)
    make_user(db, "alice")
    with _client(app, "alice") as client:
        token = csrf(client, "/")
        headers = {"Accept": "application/json", "X-CSRF-Token": token}
        on = client.post(f"/papers/{rec.id}/save", headers=headers)
        off = client.post(f"/papers/{rec.id}/save", headers=headers)
        more = client.post(f"/papers/{rec.id}/feedback", data={"kind": "more"}, headers=headers)
        less = client.post(f"/papers/{rec.id}/feedback", data={"kind": "less"}, headers=headers)
    assert (on.json()["saved"], off.json()["saved"]) == (True, False)
    assert (more.json()["feedback"], less.json()["feedback"]) == ("more", "less")


def test_anonymous_save_goes_to_sign_in(app, db):
    (rec,) = make_feed_papers(db, 1, day=DAY)
    with _client(app) as client:
        r = post_form(client, f"/papers/{rec.id}/save")
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")


@pytest.mark.parametrize(
    "path", ["/api/me/library", "/api/me/signals", "/api/me/export", "/api/me/lists"]
)
def test_api_me_without_a_token_is_401(app, path):
    with _client(app) as client:
        r = client.get(path)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"


def test_api_library_pages_newest_saved_first(app, db):
    recs = make_feed_papers(db, 5, day=DAY)
    alice = make_user(db, "alice")
    base = dt.datetime(2026, 11, 1)
    with db.session() as s:
        for i, rec in enumerate(recs):
            library.save_paper(s, alice.id, rec.id, at=base + dt.timedelta(minutes=i))
    headers = bearer(token_for(db, alice))
    with _client(app) as client:
        one = client.get("/api/me/library?limit=3", headers=headers).json()
        two = client.get("/api/me/library?limit=3&p=2", headers=headers).json()
    assert [p["id"] for p in one["papers"] + two["papers"]] == [r.id for r in reversed(recs)]
    assert (one["hasMore"], two["hasMore"], one["total"]) == (True, False, 5)


def _private_list(db, owner, papers):
    with db.session() as s:
        row = lists.create_list(s, owner.id, "secret reading")
        for rec in papers:
            lists.add_item(s, row.id, rec.id)
        return row.id


@pytest.mark.parametrize(
    "path",
    [
        "/lists/{id}",
        "/feeds/lists/{id}.atom",
        "/api/lists/{id}",
        "/lists/{id}/export.bib",
        "/lists/{id}/export.json",
    ],
)
def test_private_list_is_404_for_other_members_and_anonymous(app, db, path):
    (rec,) = make_feed_papers(db, 1, day=DAY)
    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    list_id = _private_list(db, alice, [rec])
    url = path.format(id=list_id)
    with _client(app) as anon:
        assert anon.get(url).status_code == 404
    with _client(app, "bob") as other:
        r = other.get(url, headers=bearer(token_for(db, bob)) if "/api/" in url else None)
        assert r.status_code == 404
        assert "secret reading" not in r.text and rec.title not in r.text
    if "/feeds/" not in url:
        with _client(app, "alice") as owner:
            headers = bearer(token_for(db, alice)) if "/api/" in url else None
            assert owner.get(url, headers=headers).status_code == 200


def test_public_list_has_a_page_an_atom_feed_and_json_and_can_be_followed(app, db):
    recs = make_feed_papers(db, 2, day=DAY)
    make_user(db, "alice"), make_user(db, "bob")
    with _client(app, "alice") as owner:
        r = post_form(
            owner, "/lists", {"name": "Reading group", "public": "1"}, token_from="/library"
        )
        list_url = r.headers["location"]
        for rec in recs:
            post_form(owner, f"{list_url}/papers", {"paper_id": rec.id}, token_from=list_url)
    list_id = int(list_url.rsplit("/", 1)[1])
    with _client(app) as anon:
        page = anon.get(list_url)
        feed = anon.get(f"/feeds/lists/{list_id}.atom")
        data = anon.get(f"/api/lists/{list_id}").json()
    assert page.status_code == 200 and "Reading group" in page.text and recs[0].title in page.text
    root = etree.fromstring(feed.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    assert {e.text.rsplit("/", 1)[-1] for e in root.findall("a:entry/a:id", ns)} == {
        r.id for r in recs
    }
    assert {p["id"] for p in data["papers"]} == {r.id for r in recs} and data["owner"] == "alice"
    assert "pending" in data and data["pending"] == []
    with _client(app, "bob") as bob:
        post_form(bob, f"{list_url}/follow", {"follow": "1"}, token_from=list_url)
        assert "Reading group" in bob.get("/library").text
        assert "Follow this list" not in bob.get(list_url).text


def test_signals_page_lists_every_signal_and_clear_all_removes_them(app, db):
    from paperwire.authors.names import strict_key
    from paperwire.store import authors

    a, b, c = make_feed_papers(db, 3, day=DAY)
    alice = make_user(db, "alice")
    with db.session() as s:
        authors.follow(s, alice.id, strict_key("Ada Lovelace"), "Ada Lovelace")
    with _client(app, "alice") as client:
        post_form(client, f"/papers/{a.id}/upvote", {"vote": "1"})
        post_form(client, f"/papers/{b.id}/save", {"saved": "1"})
        post_form(client, f"/papers/{c.id}/feedback", {"kind": "less"})
        post_form(client, "/signals/topics", {"topic": "protein folding"}, token_from="/signals")
        bad = post_form(client, "/signals/topics", {"topic": "   "}, token_from="/signals")
        page = client.get("/signals").text
        for title in (a.title, b.title, c.title, "protein folding", "Ada Lovelace"):
            assert title in page
        assert bad.status_code == 400 and "needs some words" in bad.text
        post_form(client, "/signals/clear", {"confirm": "yes"}, token_from="/signals")
        after = client.get("/signals", headers={"Accept": "application/json"}).json()
    assert all(
        after[k] == []
        for k in ("upvoted", "saved", "moreLikeThis", "notInterested", "topics", "followedAuthors")
    )


def test_account_export_includes_library_lists_and_signals(app, db):
    a, b = make_feed_papers(db, 2, day=DAY)
    alice = make_user(db, "alice", email="alice@example.org")
    with db.session() as s:
        library.save_paper(s, alice.id, a.id)
        library.set_feedback(s, alice.id, b.id, "more")
        library.follow_topic(s, alice.id, "graphs")
        row = lists.create_list(s, alice.id, "thesis")
        lists.add_item(s, row.id, b.id)
    with _client(app) as client:
        data = client.get("/api/me/export", headers=bearer(token_for(db, alice))).json()
    with _client(app, "alice") as client:
        download = client.get("/account/export.json")
    assert data["profile"]["username"] == "alice"
    assert [x["paperId"] for x in data["library"]] == [a.id]
    assert data["lists"][0]["name"] == "thesis" and data["lists"][0]["papers"][0]["id"] == b.id
    assert [x["paperId"] for x in data["signals"]["moreLikeThis"]] == [b.id]
    assert data["followedTopics"] == ["graphs"]
    assert {"followedAuthors", "authorClaims", "discussions", "recommendations"} <= set(data)
    assert "password" not in json.dumps(data).lower()
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    assert download.json()["library"] == data["library"]


def test_import_page_reports_bad_lines_and_shows_papers_waiting_for_arxiv(settings, db):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = make_app(
        settings,
        db,
        rate_limit_per_minute=1_000_000,
        arxiv_max_retries=0,
        arxiv_api_url=f"http://127.0.0.1:{port}/api/query",
    )
    (rec,) = make_feed_papers(db, 1, day=DAY, id="2104.12255")
    alice = make_user(db, "alice")
    with db.session() as s:
        list_id = lists.create_list(s, alice.id, "thesis").id
    bib = b"@misc{a, eprint = {2104.12255}, archivePrefix = {arXiv}}\n@book{b, title = {x}}\n"
    with _client(app, "alice") as client:
        r = client.post(
            f"/lists/{list_id}/import",
            data={"text": "2105.00001\nnonsense", "csrf_token": csrf(client, f"/lists/{list_id}")},
            follow_redirects=False,
        )
        up = client.post(
            f"/lists/{list_id}/import",
            files={"file": ("refs.bib", bib)},
            data={"csrf_token": csrf(client, f"/lists/{list_id}")},
        )
        page = client.get(f"/lists/{list_id}").text
    assert r.status_code == 200
    assert "line 2 (nonsense): not an arXiv id or arxiv.org URL" in r.text
    assert "1 waiting for arXiv" in r.text
    assert "1 added" in up.text and "line 2 (@book{b}): no arXiv id" in up.text
    assert "Waiting for arXiv" in page and "2105.00001" in page and rec.title in page
