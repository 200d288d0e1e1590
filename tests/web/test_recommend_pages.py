"""For you, its API twin and the digest's one-click feedback links, through the real app
(SQLite and PostgreSQL), on the real-record fixture (tests/recommend/store_kit.py)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape

from fastapi.testclient import TestClient

from paperwire.store import library
from tests.recommend.shared_fixtures import fresh_pools, sample  # noqa: F401  (fixtures)
from tests.recommend.store_kit import ids_of
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


def _save(db, uid, ids):
    with db.session() as s:
        for pid in ids:
            library.save_paper(s, uid, pid)


def test_for_you_asks_anonymous_visitors_to_sign_in(web):
    r = web.get("/for-you", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=%2Ffor-you"


def test_the_tab_shows_only_for_signed_in_members(web, db, sample):
    assert 'href="/for-you"' not in web.get("/").text
    make_user(db, "alice")
    signin(web, "alice")
    assert 'href="/for-you"' in web.get("/").text


def test_onboarding_follows_topics_and_saves_pasted_papers(web, db, sample):
    alice = make_user(db, "alice")
    signin(web, "alice")
    page = web.get("/for-you").text
    assert "Tell us what you read" in page and 'value="cat:' in page
    saved = ids_of(sample, "cs.IR", old=True)[:3]
    r = post_form(
        web,
        "/for-you/start",
        {
            "topic": ["cat:cs.IR", "retrieval"],
            "papers": f"{saved[0]}\nhttps://arxiv.org/abs/{saved[1]}v2, {saved[2]} "
            "9999.99999 nonsense",
        },
        token_from="/for-you",
    )
    assert r.status_code == 200, r.text[:500]
    text = unescape(r.text)
    assert "following 2 topics and saved 3 papers" in text
    assert "Not in Paperwire yet (submit or import them first): 9999.99999, nonsense" in text
    assert "Tell us what you read" not in text
    with db.session() as s:
        sig = library.member_signals(s, alice.id)
    assert sorted(p for p, _ in sig.saved) == sorted(saved) and sig.topics == [
        "cat:cs.IR",
        "retrieval",
    ]
    reasons = re.findall(r'<p class="reason">([^<]+)</p>', text)
    assert reasons and all(r.startswith("Because you saved “") for r in reasons)


def test_a_bad_topic_is_refused_with_the_reason_and_nothing_changes(web, db, sample):
    alice = make_user(db, "alice")
    signin(web, "alice")
    r = post_form(web, "/for-you/start", {"topics": "-only", "papers": ""}, token_from="/for-you")
    assert r.status_code == 400 and "topic 1" in unescape(r.text)
    with db.session() as s:
        assert library.member_signals(s, alice.id).is_empty


def test_api_needs_a_token_and_answers_only_for_its_member(web, db, sample):
    assert web.get("/api/me/recommendations").status_code == 401
    alice, bob = make_user(db, "alice"), make_user(db, "bob")
    _save(db, alice.id, ids_of(sample, "cs.CR", old=True))
    r = web.get("/api/me/recommendations?limit=5", headers=bearer(token_for(db, alice)))
    assert r.status_code == 200
    items = r.json()
    assert len(items) == 5
    assert {"paper", "score", "reason", "reasonKind", "reasonLabel", "reasonPaperId"} <= set(
        items[0]
    )
    assert items[0]["reasonKind"] == "saved" and items[0]["paper"]["id"]
    r = web.get("/api/me/recommendations", headers=bearer(token_for(db, bob)))
    assert r.status_code == 200 and r.json() == []


def test_digest_preview_has_the_section_and_its_feedback_link_works(settings, db, sample):
    from paperwire.digest.edition import edition_from_settings
    from paperwire.digest.mailer import preview
    from paperwire.services.recommendations import recommendations_for
    from tests.factories import make_subscription

    alice = make_user(db, "alice")
    _save(db, alice.id, ids_of(sample, "cs.CR", old=True))
    make_subscription(db, "alice@example.org", user_id=alice.id)
    make_subscription(db, "plain@example.org")
    ed = edition_from_settings(settings, "daily", dt.date.today())
    digest, msg, _ = preview(settings, db, "alice@example.org", ed, recommender=recommendations_for)
    assert len(digest.recommended) == settings.digest_recommendations
    text = msg.get_body(("plain",)).get_content()
    assert "RECOMMENDED FOR YOU" in text and "Because you saved “" in text
    html = msg.get_body(("html",)).get_content()
    assert "Recommended for you" in html and "Not interested" in html
    plain, _, _ = preview(settings, db, "plain@example.org", ed, recommender=recommendations_for)
    assert plain.recommended == ()

    target = digest.recommended[0]
    path = target.less_url.split(settings.base_url.rstrip("/"), 1)[1]
    app = make_app(settings, db)
    with TestClient(app) as client:
        page = client.get(path)
        assert page.status_code == 200 and "Yes, not interested" in page.text
        with db.session() as s:  # looking at the link changes nothing
            assert not library.member_signals(s, alice.id).not_interested
        token = re.search(r'name="t" value="([^"]+)"', page.text).group(1)
        done = post_form(client, "/r/feedback", {"t": unescape(token)}, token_from=path)
        assert done.status_code == 200 and "will not be recommended" in done.text
        bad = client.get(path[:-3] + "xyz")
        assert bad.status_code == 400 and "not valid" in bad.text
    with db.session() as s:
        assert [p for p, _ in library.member_signals(s, alice.id).not_interested] == [
            target.paper.id
        ]
    again, _, _ = preview(settings, db, "alice@example.org", ed, recommender=recommendations_for)
    assert target.paper.id not in {i.paper.id for i in again.recommended}


def test_api_names_an_unknown_query_parameter(web, db):
    alice = make_user(db, "alice")
    r = web.get("/api/me/recommendations?limt=5", headers=bearer(token_for(db, alice)))
    assert r.status_code == 400 and "'limt'" in r.json()["detail"]


def test_not_interested_on_the_page_removes_the_paper_at_once(web, db, sample):
    alice = make_user(db, "alice")
    _save(db, alice.id, ids_of(sample, "cs.CR", old=True))
    signin(web, "alice")
    page = web.get("/for-you").text
    first = re.search(r'name="paper_id" value="([^"]+)"', page).group(1)
    r = post_form(
        web, "/for-you/feedback", {"paper_id": first, "kind": "less"}, token_from="/for-you"
    )
    assert r.status_code == 303 and r.headers["location"] == "/for-you"
    assert f'value="{first}"' not in web.get("/for-you").text
    bad = post_form(
        web, "/for-you/feedback", {"paper_id": first, "kind": "meh"}, token_from="/for-you"
    )
    assert bad.status_code == 400
