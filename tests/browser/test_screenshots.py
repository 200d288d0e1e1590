"""Screenshots of the feed, a paper page and search at phone and desktop widths (light, and
dark at desktop width), written to test-artifacts/screenshots/ for people to look at; the test
also checks the layout does not overflow sideways and nothing breaks the CSP."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS

PAGES = {"feed": "/", "search": "/search?q=seq"}  # plus "paper", found by _paper_url
SIZES = {"phone": PHONE, "desktop": DESKTOP}


def _paper_url(page, site) -> str:
    """The page of scE$^2$TM, a demo paper with LaTeX in its title (shown as MathML)."""
    page.goto(site.url + "/search?q=interpretable%20single-cell%20embedding%20topic%20modeling")
    link = page.locator("article.card h2 a").first
    return link.get_attribute("href")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshots_at_phone_and_desktop_width(browser, site, scheme):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    written = []
    for size_name, viewport in SIZES.items():
        if scheme == "dark" and size_name == "phone":
            continue
        context = browser.new_context(viewport=viewport, color_scheme=scheme,
                                      device_scale_factor=1, locale="en-US")
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        paths = {"feed": PAGES["feed"], "paper": _paper_url(page, site),
                 "search": PAGES["search"]}
        for name, path in paths.items():
            page.goto(site.url + path)
            page.wait_for_load_state("networkidle")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 1, f"{name} at {size_name} scrolls sideways by {overflow}px"
            suffix = "" if scheme == "light" else "-dark"
            target = SCREENSHOTS / f"{name}-{size_name}{suffix}.png"
            page.screenshot(path=str(target), full_page=True)
            assert target.stat().st_size > 5000
            written.append(target)
        assert errors == [], errors
        context.close()
    assert len(written) == (6 if scheme == "light" else 3)
