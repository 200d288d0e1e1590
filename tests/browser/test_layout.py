"""Layout under the sticky header, checked in a real browser: page content starts below the
header with a gap (a `.wrap` padding shorthand once zeroed `main`'s padding-top), in-page
anchors land below it, and the header's account links bring the reader back."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP
from tests.browser.test_screenshots import _paper_url

pytestmark = pytest.mark.browser


def _header_bottom(page) -> float:
    return page.evaluate("document.querySelector('.site-header').getBoundingClientRect().bottom")


def test_content_and_anchors_clear_the_sticky_header(browser, site):
    context = browser.new_context(viewport=DESKTOP, device_scale_factor=1, locale="en-US")
    page = context.new_page()
    try:
        url = site.url + _paper_url(page, site)
        page.goto(url)
        first_top = page.evaluate(
            "document.querySelector('#main').firstElementChild.getBoundingClientRect().top"
        )
        assert first_top >= _header_bottom(page) + 8, "content touches the sticky header"

        # A short viewport so the anchor has room to scroll; its target must not be hidden.
        page.set_viewport_size({"width": DESKTOP["width"], "height": 400})
        page.goto(url + "#comments")
        page.wait_for_timeout(200)
        assert page.evaluate("window.scrollY") > 0, "the anchor did not scroll the page"
        top = page.evaluate("document.getElementById('comments').getBoundingClientRect().top")
        assert top >= _header_bottom(page), "the anchor target is under the sticky header"

        signup = page.locator(".site-header a", has_text="Sign up").get_attribute("href")
        signin = page.locator(".site-header a", has_text="Sign in").get_attribute("href")
        assert signup.startswith("/signup?next=/papers/"), signup
        assert signin.startswith("/signin?next=/papers/"), signin
    finally:
        context.close()
