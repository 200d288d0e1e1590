"""Author pages, following and authorship claims over HTTP (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import make_feed_papers, make_papers, make_subscription
from tests.web.accountkit import (  # noqa: F401 - fixtures
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


def _people(*names, affiliations=()):
    return [{"name": n, "affiliations": list(affiliations)} for n in names]


@pytest.fixture
def smiths(db):
    (old,) = make_papers(
        db,
        authors=_people("John Smith", "Ann Lee"),
        published_at=dt.datetime(2023, 1, 1),
        categories=["cs.CL"],
    )
    (new,) = make_feed_papers(
        db,
        1,
        day=dt.date(2025, 3, 3),
        authors=_people("Smith, John", "Ann Lee"),
        published_at=dt.datetime(2025, 3, 1),
        categories=["cs.LG", "cs.CL"],
    )
    make_papers(db, authors=_people("J. Smith"))
    make_papers(db, authors=_people("Jane Smith"))
    return old, new


def test_author_api_lists_papers_newest_first_with_coauthors_and_variants(web, smiths):
    old, new = smiths
    r = web.get("/api/authors/John Smith")
    assert r.status_code == 200
    data = r.json()
    assert data["name"] == "John Smith" and data["strictKey"] == "john smith"
    assert [i["paper"]["id"] for i in data["papers"]] == [new.id, old.id]
    assert data["coauthors"] == [
        {"name": "Ann Lee", "strictKey": "ann lee", "papers": 2, "url": "/authors/Ann%20Lee"}
    ]
    assert {c["category"]: c["papers"] for c in data["categories"]} == {"cs.CL": 2, "cs.LG": 1}
    assert [i["paper"]["id"] for i in data["onFeed"]] == [new.id]
    assert [(v["name"], v["compatible"]) for v in data["variants"]] == [
        ("J. Smith", True),
        ("Jane Smith", False),
    ]
    author = data["papers"][0]["paper"]["authors"][0]
    assert set(author) >= {"_id", "name", "hidden", "user"} and author["_id"] == "john smith"
    # The "Last, First" spelling finds the same author.
    assert web.get("/api/authors/smith, john").json()["paperCount"] == 2


def test_author_api_paginates(web, db):
    make_papers(db, 5, authors=_people("Pat Page"))
    first = web.get("/api/authors/Pat Page?limit=2").json()
    last = web.get("/api/authors/Pat Page?limit=2&p=3").json()
    assert first["hasMore"] and len(first["papers"]) == 2
    assert not last["hasMore"] and len(last["papers"]) == 1


@pytest.mark.parametrize("name,status", [("Nobody At All", 404), (",", 404), ("x" * 300, 400)])
def test_unknown_or_bad_author_names_are_refused(web, db, name, status):
    r = web.get(f"/api/authors/{name}")
    assert r.status_code == status and r.json()["detail"]


def test_author_page_and_links_from_cards_and_paper_page(web, smiths):
    old, new = smiths
    page = web.get("/authors/John%20Smith")
    assert page.status_code == 200
    assert "Also listed as" in page.text and "/authors/J.%20Smith" in page.text
    assert 'href="/authors/Ann%20Lee"' in page.text
    assert 'href="/authors/Smith%2C%20John"' in web.get(f"/papers/{new.id}").text
    assert 'href="/authors/Smith%2C%20John"' in web.get("/papers?date=2025-03-03").text


def test_follow_from_the_page_and_unfollow(web, db, smiths):
    from paperwire.store.authors import followed_authors

    alice = make_user(db, "alice")
    signin(web, "alice")
    r = post_form(web, "/authors/John Smith/follow", token_from="/authors/John Smith")
    assert r.status_code == 303
    assert "Following" in web.get("/authors/John Smith").text
    with db.session() as s:
        assert followed_authors(s, alice.id) == ["john smith"]
    post_form(web, "/authors/John Smith/unfollow", token_from="/authors/John Smith")
    with db.session() as s:
        assert followed_authors(s, alice.id) == []


def test_follow_needs_signin_and_a_known_author(web, db, smiths):
    user = make_user(db, "bob")
    r = web.post("/api/authors/John Smith/follow")
    assert r.status_code == 401
    r = web.post("/api/authors/Nobody Here/follow", headers=bearer(token_for(db, user)))
    assert r.status_code == 404
    r = web.post("/api/authors/John Smith/follow", headers=bearer(token_for(db, user)))
    assert r.json() == {
        "name": "John Smith",
        "strictKey": "john smith",
        "following": True,
        "changed": True,
    }


def test_claim_waits_for_an_admin_then_badges_comments_and_links_the_name(web, db, smiths):
    old, new = smiths
    member = make_user(db, "jsmith")
    admin = make_user(db, "boss", admin=True)
    h, boss = bearer(token_for(db, member)), bearer(token_for(db, admin))
    claim = web.post("/api/authors/John Smith/claim", headers=h)
    assert claim.status_code == 201 and claim.json()["status"] == "pending"
    cid = claim.json()["id"]
    assert web.post("/api/authors/John Smith/claim", headers=h).status_code == 409
    web.post(f"/api/papers/{new.id}/comments", json={"body": "Author here."}, headers=h)
    detail = web.get(f"/api/papers/{new.id}").json()
    assert detail["isAuthorParticipating"] is False
    assert detail["authors"][0]["user"] is None

    # Only admins approve.
    assert web.post(f"/api/author-claims/{cid}/approve", headers=h).status_code == 403
    ok = web.post(f"/api/author-claims/{cid}/approve", headers=boss)
    assert ok.status_code == 200 and ok.json()["status"] == "approved"

    detail = web.get(f"/api/papers/{new.id}").json()
    assert detail["isAuthorParticipating"] is True
    assert detail["authors"][0]["user"]["name"] == "jsmith"
    assert detail["authors"][1]["user"] is None
    feed = web.get("/api/daily_papers?date=2025-03-03").json()
    assert feed[0]["isAuthorParticipating"] is True
    page = web.get(f"/papers/{new.id}").text
    assert 'class="badge badge-author" title="An author of this paper">author<' in page
    assert web.get("/api/authors/John Smith").json()["user"]["name"] == "jsmith"
    # The member's public profile names the author they are.
    assert (
        'href="/authors/John%20Smith" class="badge badge-author">John Smith<'
        in web.get("/users/jsmith").text
    )


def test_only_the_claimant_releases_and_only_admins_revoke(web, db, smiths):
    member, other = make_user(db, "jsmith"), make_user(db, "mallory")
    admin = make_user(db, "boss", admin=True)
    h, m, boss = (bearer(token_for(db, u)) for u in (member, other, admin))
    cid = web.post("/api/authors/John Smith/claim", headers=h).json()["id"]
    web.post(f"/api/author-claims/{cid}/approve", headers=boss)
    assert web.post(f"/api/author-claims/{cid}/release", headers=m).status_code == 403
    assert web.post(f"/api/author-claims/{cid}/release", headers=boss).status_code == 403
    assert web.post(f"/api/author-claims/{cid}/revoke", headers=m).status_code == 403
    # Another member cannot claim an author someone holds.
    assert web.post("/api/authors/John Smith/claim", headers=m).status_code == 409
    r = web.post(f"/api/author-claims/{cid}/revoke", headers=boss)
    assert r.json()["status"] == "revoked"
    assert web.get("/api/authors/John Smith").json()["user"] is None
    cid2 = web.post("/api/authors/John Smith/claim", headers=h).json()["id"]
    assert web.post(f"/api/author-claims/{cid2}/release", headers=h).json()["status"] == "released"
    assert web.post("/api/author-claims/999999/approve", headers=boss).status_code == 404


def test_claim_is_approved_by_a_proven_address_matching_an_affiliation(web, db):
    make_papers(db, authors=_people("Dana Affil", affiliations=["CS Dept, uni.example.edu"]))
    make_papers(db, authors=_people("Eve Other", affiliations=["CS Dept, uni.example.edu"]))
    dana = make_user(db, "dana", email="dana@uni.example.edu")
    eve = make_user(db, "eve", email="eve@uni.example.edu")
    # Eve's account e-mail matches but is not proven: her claim waits.
    r = web.post("/api/authors/Eve Other/claim", headers=bearer(token_for(db, eve)))
    assert r.json()["status"] == "pending"
    # Dana proved her address (a confirmed digest subscription linked to her account).
    make_subscription(db, "dana@uni.example.edu", user_id=dana.id)
    r = web.post("/api/authors/Dana Affil/claim", headers=bearer(token_for(db, dana)))
    assert (r.json()["status"], r.json()["rule"]) == ("approved", "email-domain")


def test_admin_queue_page_approves_and_is_admins_only(web, db, smiths):
    member = make_user(db, "jsmith")
    make_user(db, "boss", admin=True)
    cid = web.post("/api/authors/John Smith/claim", headers=bearer(token_for(db, member))).json()[
        "id"
    ]
    signin(web, "jsmith")
    assert web.get("/admin/authors/claims").status_code == 403
    r = post_form(web, f"/admin/authors/claims/{cid}/approve", token_from="/authors/John Smith")
    assert r.status_code == 403
    web.cookies.clear()
    signin(web, "boss")
    queue = web.get("/admin/authors/claims")
    assert queue.status_code == 200 and "@jsmith" in queue.text
    r = post_form(web, f"/admin/authors/claims/{cid}/approve", token_from="/admin/authors/claims")
    assert r.status_code == 303
    assert f'id="claim-{cid}"' in web.get("/admin/authors/claims?status=approved").text
