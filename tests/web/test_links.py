"""Links to code and resources on the web (SQLite and PostgreSQL): the paper page's links and
form, feed badges and the "With code" toggle kept across pages, the API's githubRepo /
projectPage / links and has=, the write API, and admin moderation."""

from __future__ import annotations

import datetime as dt
import re

from paperwire.store.models import utcnow
from tests.factories import make_feed_papers, make_papers
from tests.web.accountkit import (  # noqa: F401
    bearer,
    fast_hashing,
    make_user,
    post_form,
    signin,
    token_for,
    wapp,
    web,
)

CODE = "Code is available at https://github.com/owner/repo."
PAGE = " Project page: https://owner.github.io/repo/"


def _today():
    return utcnow().date()


def test_paper_page_groups_its_links_and_the_api_has_the_public_fields(web, db):
    rec = make_papers(db, abstract="We study kernels. " + CODE + PAGE)[0]
    page = web.get(f"/papers/{rec.id}")
    assert page.status_code == 200
    section = page.text[page.text.index('id="links"') : page.text.index('id="cite-h"')]
    assert "Code" in section and "Project page" in section
    assert 'href="https://github.com/owner/repo"' in section
    assert "Sign in</a> to add a link" in section
    data = web.get(f"/api/papers/{rec.id}").json()
    assert data["githubRepo"] == "https://github.com/owner/repo"
    assert data["projectPage"] == "https://owner.github.io/repo"
    assert [(x["kind"], x["url"]) for x in data["links"]] == [
        ("code", "https://github.com/owner/repo"),
        ("project", "https://owner.github.io/repo"),
    ]


def test_a_paper_without_links_has_null_fields(web, db):
    rec = make_papers(db, abstract="no links")[0]
    data = web.get(f"/api/papers/{rec.id}").json()
    assert (data["githubRepo"], data["projectPage"], data["links"]) == (None, None, [])


def test_feed_cards_show_badges_and_with_code_keeps_across_pages(web, db):
    today = _today()
    coded = make_feed_papers(db, 3, day=today, abstract=CODE, upvotes=[5, 4, 3])
    plain = make_feed_papers(db, 2, day=today, abstract="nothing linked", upvotes=[9, 8])
    feed = web.get(f"/papers?date={today}")
    assert feed.text.count('class="badge badge-code"') == 3
    assert f'href="/papers?date={today}&has=code"' in feed.text.replace("&amp;", "&")
    first = web.get(f"/papers?date={today}&has=code&limit=2")
    assert first.status_code == 200
    api = web.get(f"/api/daily_papers?date={today}&has=code&limit=2")
    assert [i["paper"]["id"] for i in api.json()] == [r.id for r in coded[:2]]
    assert api.headers["X-Total-Count"] == "3"
    all_ids = {i["paper"]["id"] for i in web.get(f"/api/daily_papers?date={today}").json()}
    assert all_ids == {r.id for r in coded + plain}


def test_with_code_toggle_survives_pagination_on_the_page(db, settings):
    from fastapi.testclient import TestClient

    from tests.web.accountkit import make_app

    app = make_app(settings, db, feed_page_size=2)
    today = _today()
    coded = make_feed_papers(db, 3, day=today, abstract=CODE, upvotes=[5, 4, 3])
    make_feed_papers(db, 2, day=today, abstract="nothing linked", upvotes=[9, 8])
    with TestClient(app) as client:
        page1 = client.get(f"/papers?date={today}&has=code").text.replace("&amp;", "&")
        nxt = re.search(r'rel="next" class="btn" href="([^"]+)"', page1).group(1)
        assert "has=code" in nxt
        page2 = client.get(nxt).text
        ids = set(re.findall(r'href="/papers/(\d{4}\.\d{5})"', page1 + page2))
        assert ids == {r.id for r in coded}
        assert 'aria-current="page">With code' in page1.replace('id="with-code" ', "")
        week = client.get(
            f"/papers/week/{today.isocalendar()[0]}-W{today.isocalendar()[1]:02d}?has=code"
        ).text
        assert '<p class="count">3 papers</p>' in week


def test_bad_has_is_a_clear_400(web, db):
    r = web.get(f"/papers?date={_today()}&has=binaries")
    assert r.status_code == 400 and "has must be one of" in r.text
    assert web.get("/api/daily_papers?has=binaries").status_code == 422


def test_member_adds_a_link_on_the_paper_page(web, db):
    rec = make_papers(db, abstract="plain")[0]
    make_user(db, "mia")
    signin(web, "mia")
    r = post_form(
        web,
        f"/papers/{rec.id}/links",
        {"url": "github.com/mia/code.git", "kind": ""},
        token_from=f"/papers/{rec.id}",
    )
    assert r.status_code == 303 and r.headers["location"].endswith("#links")
    data = web.get(f"/api/papers/{rec.id}").json()
    assert data["githubRepo"] == "https://github.com/mia/code"


def test_a_refused_link_comes_back_with_the_reason_and_the_text(web, db):
    rec = make_papers(db, abstract=CODE)[0]
    make_user(db, "mia")
    signin(web, "mia")
    bad = post_form(
        web,
        f"/papers/{rec.id}/links",
        {"url": "javascript:alert(1)", "kind": "code"},
        token_from=f"/papers/{rec.id}",
    )
    assert bad.status_code == 400
    assert "not a web address" in bad.text and 'value="javascript:alert(1)"' in bad.text
    dup = post_form(
        web,
        f"/papers/{rec.id}/links",
        {"url": "https://github.com/owner/repo", "kind": ""},
        token_from=f"/papers/{rec.id}",
    )
    assert dup.status_code == 409 and "already on this paper" in dup.text


def test_signed_out_link_form_goes_to_sign_in(web, db):
    rec = make_papers(db)[0]
    r = post_form(
        web,
        f"/papers/{rec.id}/links",
        {"url": "https://github.com/a/b"},
        token_from=f"/papers/{rec.id}",
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=")


def test_write_api_adds_a_link_and_says_why_not(web, db):
    rec = make_papers(db)[0]
    auth = bearer(token_for(db, make_user(db, "bot")))
    r = web.post(
        f"/api/papers/{rec.id}/links", json={"url": "https://huggingface.co/o/m"}, headers=auth
    )
    assert r.status_code == 201
    assert {k: r.json()[k] for k in ("kind", "status", "url")} == {
        "kind": "model",
        "status": "visible",
        "url": "https://huggingface.co/o/m",
    }
    again = web.post(
        f"/api/papers/{rec.id}/links", json={"url": "https://huggingface.co/o/m"}, headers=auth
    )
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    bad = web.post(
        f"/api/papers/{rec.id}/links", json={"url": "data:x", "kind": "code"}, headers=auth
    )
    assert bad.status_code == 400 and "not a web address" in bad.json()["detail"]
    assert web.post(f"/api/papers/{rec.id}/links", json={"url": "https://a.org"}).status_code == 401
    assert (
        web.post(
            "/api/papers/2999.99999/links", json={"url": "https://github.com/a/b"}, headers=auth
        ).status_code
        == 404
    )


def test_only_admins_see_and_use_the_moderation_page(web, db):
    rec = make_papers(db, abstract=CODE)[0]
    make_user(db, "mia")
    signin(web, "mia")
    post_form(
        web,
        f"/papers/{rec.id}/links",
        {"url": "https://gitlab.com/mia/x"},
        token_from=f"/papers/{rec.id}",
    )
    assert web.get("/admin/links").status_code == 403
    from sqlalchemy import select

    from paperwire.store.models import PaperLink

    with db.session() as s:
        link_id = s.scalar(select(PaperLink.id).where(PaperLink.source == "member"))
    assert post_form(web, f"/admin/links/{link_id}/hide").status_code == 403
    web.post("/signout", data={}, follow_redirects=False)
    make_user(db, "boss", admin=True)
    signin(web, "boss")
    page = web.get("/admin/links")
    assert page.status_code == 200 and "gitlab.com/mia/x" in page.text and "mia" in page.text
    r = post_form(web, f"/admin/links/{link_id}/hide", token_from="/admin/links")
    assert r.status_code == 303
    data = web.get(f"/api/papers/{rec.id}").json()
    assert [x["url"] for x in data["links"]] == ["https://github.com/owner/repo"]
    assert "gitlab.com/mia/x" in web.get("/admin/links?status=removed").text
    assert (
        post_form(web, f"/admin/links/{link_id}/delete", token_from="/admin/links").status_code
        == 303
    )
    assert "gitlab.com/mia/x" not in web.get("/admin/links").text


def test_search_api_has_param_is_has_code(web, db):
    coded = make_papers(db, abstract="kernel " + CODE)[0]
    make_papers(db, abstract="kernel without links")
    r = web.get("/api/papers/search?q=kernel&mode=lexical&has=code")
    assert [h["paper"]["id"] for h in r.json()] == [coded.id]
    assert r.json()[0]["paper"]["githubRepo"] == "https://github.com/owner/repo"
    r = web.get("/api/papers/search?q=kernel%20has:code&mode=lexical")
    assert [h["paper"]["id"] for h in r.json()] == [coded.id]
    assert dt


def test_atom_entries_carry_the_links_as_related(web, db):
    make_feed_papers(db, 1, day=_today(), abstract=CODE)
    body = web.get(f"/feeds/daily.atom?date={_today()}").text
    assert (
        '<link rel="related" type="text/html" href="https://github.com/owner/repo" title="Code"/>'
    ) in body


def test_search_page_with_code_box_is_has_code(web, db):
    coded = make_papers(db, abstract="kernel " + CODE)[0]
    plain = make_papers(db, abstract="kernel without links")[0]
    page = web.get("/search?q=kernel&mode=lexical&has=code")
    assert coded.id in page.text and plain.id not in page.text
    assert 'name="has" value="code" checked' in page.text
    assert web.get("/search?q=kernel&has=binaries").status_code == 400
