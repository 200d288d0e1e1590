"""A newcomer's first start in a real browser: `paperwire serve` on a fresh data dir with no
setting, the model preparation held back (its test hook) so that it is still "being
prepared": the demo feed shows real arXiv papers (authors, ids), and a search answers,
saying that results are keyword-only for now."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import DESKTOP
from tests.cli.test_first_start import FIRST_ON_FEED, Serve, _alive, _feed_shows_demo, _wait

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_demo_feed_and_search_in_the_browser_while_the_model_is_prepared(browser, tmp_path):
    server = Serve(tmp_path, "").start()  # SQLite in the data dir: the embedded default
    try:
        preparer = server.preparer()
        _wait(lambda: _feed_shows_demo(server.url), 30, "the demo feed")
        context = browser.new_context(viewport=DESKTOP, color_scheme="light", locale="en-US")
        context.set_default_timeout(15000)
        page = context.new_page()
        page.goto(server.url + "/")
        card = page.locator("article.card", has=page.locator(f'a[href="/papers/{FIRST_ON_FEED}"]'))
        assert card.count() >= 1
        assert "Ahmadreza Azizi" in card.first.inner_text()

        page.get_by_role("searchbox", name="Search papers").fill("mamba")
        page.get_by_role("searchbox", name="Search papers").press("Enter")
        page.wait_for_url(re.compile(r"/search\?q=mamba"))
        assert "keyword-only for now" in page.locator(".notice").first.inner_text()
        page.locator('a[href="/papers/2312.00752"]').first.click()
        page.wait_for_url(re.compile(r"/papers/2312\.00752"))
        body = page.locator("main").inner_text()
        assert "Albert Gu" in body and "Tri Dao" in body
        assert page.locator('a[href="https://arxiv.org/pdf/2312.00752"]').count() >= 1
        context.close()
        assert _alive(preparer)  # still held: all of this happened before the model existed
    finally:
        server.stop()
