"""The library in a real browser: sign up, save a paper from the feed (the button turns to
"Saved" without a reload), put it in a new list from its page, make the list public, then
open the list's page and its Atom feed as an anonymous visitor."""

from __future__ import annotations

import re

import pytest
from lxml import etree

pytestmark = pytest.mark.browser

USERNAME = "librarian"
PASSWORD = "a long enough passphrase"


def test_member_saves_lists_and_publishes_a_list_anyone_can_read(page, browser, site):
    # --- sign up ---------------------------------------------------------------------------
    page.goto(site.url + "/signup")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("E-mail").fill("librarian@example.org")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_load_state()

    # --- save the first paper of the feed (page script: no reload) --------------------------
    page.goto(site.url + "/")
    card = page.locator("article.card").first
    title = card.locator("h2 a").inner_text().strip()
    paper_path = card.locator("h2 a").get_attribute("href")
    save = card.locator("button.save-btn")
    assert save.inner_text() == "Save"
    save.click()
    page.wait_for_function(
        "(b) => b.getAttribute('aria-pressed') === 'true'", arg=save.element_handle()
    )
    assert save.inner_text() == "Saved"
    page.goto(site.url + "/library")
    assert title in page.locator("main").inner_text()

    # --- put it in a new list from the paper page ----------------------------------------------
    page.goto(site.url + paper_path)
    page.get_by_label("New list").fill("Reading group")
    page.get_by_role("button", name="Create and add").click()
    page.wait_for_load_state()
    list_link = page.locator(".paper-library a[href^='/lists/']")
    assert list_link.inner_text() == "Reading group"
    list_path = list_link.get_attribute("href")

    # --- make it public ---------------------------------------------------------------------
    page.goto(site.url + list_path)
    assert "a private list" in page.locator("main").inner_text()
    page.locator("details.list-manage summary").click()
    page.get_by_role("button", name="Make public").click()
    page.wait_for_url(re.compile(r"done=public"))

    # --- an anonymous visitor reads the page and the Atom feed ---------------------------------
    context = browser.new_context()
    try:
        anon = context.new_page()
        anon.goto(site.url + list_path)
        text = anon.locator("main").inner_text()
        assert "Reading group" in text and title in text and f"by {USERNAME}" in text
        assert anon.locator("button.save-btn").count() == 0
        feed_href = anon.locator("main").get_by_role("link", name="Atom feed").get_attribute("href")
        response = anon.request.get(site.url + feed_href)
        assert response.status == 200
        assert response.headers["content-type"].startswith("application/atom+xml")
        root = etree.fromstring(response.body())
        ns = {"a": "http://www.w3.org/2005/Atom"}
        entries = root.findall("a:entry", ns)
        assert len(entries) == 1
        assert entries[0].find("a:link[@rel='alternate']", ns).get("href").endswith(paper_path)
    finally:
        context.close()
    assert page.js_errors == []
