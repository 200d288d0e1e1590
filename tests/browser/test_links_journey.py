"""A member adds a code link on a paper page in a real browser: it shows under "Code and
resources", as a Code badge on the paper's feed card, under the feed's "With code" toggle,
and searching has:code finds the paper."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PHONE, SCREENSHOTS

pytestmark = pytest.mark.browser

PAPER = "2103.04264"  # the first demo seed paper: on today's feed, no code_url in the seed
REPO = "https://github.com/example/t-miner"


def test_member_adds_a_code_link_and_it_shows_on_the_feed_and_in_has_code(page, site):
    from paperwire.web.auth import create_user

    create_user(site.db, "linker", "a long enough passphrase")
    page.goto(site.url + "/signin")
    page.get_by_label("Username").fill("linker")
    page.get_by_label("Password", exact=True).fill("a long enough passphrase")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$|/papers"))

    page.goto(f"{site.url}/papers/{PAPER}")
    card_before = page.locator("#links").inner_text()
    assert "t-miner" not in card_before
    page.locator("#link-url").fill("github.com/example/t-miner.git")
    # Typed without https:// (the field is text, not type=url, so the browser lets it through
    # and the server normalises it).
    page.get_by_role("button", name="Add link").click()
    page.wait_for_url(re.compile(r"#links$"))
    link = page.locator("#links a.link-code")
    assert link.get_attribute("href") == REPO

    # The feed card shows the Code badge; "With code" keeps the paper.
    page.goto(site.url + "/")
    card = page.locator("article.card", has=page.locator(f'a[href="/papers/{PAPER}"]'))
    badge = card.locator("a.badge-code")
    assert badge.inner_text() == "Code" and badge.get_attribute("href") == REPO
    page.locator("#with-code").click()
    page.wait_for_url(re.compile(r"has=code"))
    assert page.locator(f'article.card a[href="/papers/{PAPER}"]').count() >= 1
    assert page.locator("article.card a.badge-code").count() == page.locator("article.card").count()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "feed-with-code-desktop.png"))
    page.set_viewport_size(PHONE)
    page.goto(f"{site.url}/papers/{PAPER}#links")
    page.locator("#links").screenshot(path=str(SCREENSHOTS / "paper-links-phone.png"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    # has:code in the query language finds it.
    page.goto(site.url + "/search?q=has:code&mode=lexical")
    assert page.locator(f'article.card a[href="/papers/{PAPER}"]').count() == 1
    assert page.js_errors == []
