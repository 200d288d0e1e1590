"""Authors in a real browser: from a paper page to its author's page, follow; claim
authorship, an admin approves it on the claims queue, and the member's comment on the paper
carries the "author" badge while the author's name links to the member."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from paperwire.store.models import Paper

pytestmark = pytest.mark.browser

PASSWORD = "a long enough passphrase"
MEMBER, ADMIN = "tridaofan", "claimsboss"


def _sign_in(context, url: str, username: str):
    page = context.new_page()
    page.js_errors = []
    page.on("pageerror", lambda exc: page.js_errors.append(str(exc)))
    page.goto(url + "/signin")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def test_follow_an_author_and_an_approved_claim_badges_the_comment(browser, site):
    from paperwire.web import auth

    auth.create_user(site.db, MEMBER, PASSWORD)
    auth.create_user(site.db, ADMIN, PASSWORD, is_admin=True)
    with site.db.session() as s:
        paper_id = s.scalar(select(Paper.id).where(Paper.title.like("Mamba: Linear-Time%")))
    assert paper_id, "the demo data has the Mamba paper"

    member_ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    page = _sign_in(member_ctx, site.url, MEMBER)

    # --- from the paper page to the author's page; follow ---------------------------------
    page.goto(f"{site.url}/papers/{paper_id}")
    page.locator(".author-list").get_by_role("link", name="Tri Dao", exact=True).click()
    page.wait_for_url(re.compile(r"/authors/Tri%20Dao$"))
    assert page.locator("h1#author-name").inner_text() == "Tri Dao"
    assert page.locator(f"article.card a[href='/papers/{paper_id}']").count() == 1
    page.locator("#follow-btn").click()
    page.wait_for_load_state()
    assert page.locator("#follow-btn").inner_text().strip() == "Following"
    assert page.locator("#follow-btn").get_attribute("aria-pressed") == "true"

    # --- claim authorship: pending ---------------------------------------------------------
    page.locator("#claim-btn").click()
    page.wait_for_load_state()
    assert "is pending" in page.locator("#my-claim").inner_text()

    # --- comment on the paper: no badge yet -----------------------------------------------
    page.goto(f"{site.url}/papers/{paper_id}")
    page.locator("#comment-body").fill("Happy to answer questions about the kernels.")
    page.locator("form.comment-form:has(#comment-body) button[type=submit]").click()
    page.wait_for_url(re.compile(r"#comment-\d+$"))
    comment_id = page.url.rsplit("#comment-", 1)[1]
    assert page.locator(f"#comment-{comment_id} .badge-author").count() == 0

    # --- the admin approves it from the claims queue --------------------------------------
    admin_ctx = browser.new_context(viewport={"width": 1366, "height": 900})
    admin = _sign_in(admin_ctx, site.url, ADMIN)
    admin.goto(site.url + "/admin/authors/claims?status=pending")
    admin.get_by_role("button", name=f"Approve claim of @{MEMBER} to be Tri Dao").click()
    admin.wait_for_url(re.compile(r"/admin/authors/claims$"))
    row = admin.locator("tr", has_text=f"@{MEMBER}")
    assert "approved (admin)" in row.locator(".claim-status").inner_text()

    # --- the badge and the link, for everyone -----------------------------------------------
    page.reload()
    comment = page.locator(f"#comment-{comment_id}")
    assert comment.locator(".badge-author").inner_text().strip() == "author"
    claimed = page.locator(".author-list a.claimed-by")
    assert claimed.inner_text() == f"@{MEMBER}"
    assert claimed.get_attribute("href") == f"/users/{MEMBER}"
    assert page.js_errors == [] and admin.js_errors == []
    member_ctx.close()
    admin_ctx.close()
