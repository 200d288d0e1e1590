"""Screenshots of the feed, a paper page and search at phone and desktop widths (light, and
dark at desktop width), written to test-artifacts/screenshots/ for people to look at; the test
also checks the layout does not overflow sideways and nothing breaks the CSP."""

from __future__ import annotations

import pytest

from tests.browser.conftest import DESKTOP, PHONE, SCREENSHOTS

pytestmark = pytest.mark.browser

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
        context = browser.new_context(
            viewport=viewport, color_scheme=scheme, device_scale_factor=1, locale="en-US"
        )
        page = context.new_page()
        errors: list[str] = []
        page.on(
            "console",
            lambda msg, errors=errors: errors.append(msg.text) if msg.type == "error" else None,
        )
        paths = {"feed": PAGES["feed"], "paper": _paper_url(page, site), "search": PAGES["search"]}
        for name, path in paths.items():
            page.goto(site.url + path)
            page.wait_for_load_state("networkidle")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{name} at {size_name} scrolls sideways by {overflow}px"
            suffix = "" if scheme == "light" else "-dark"
            target = SCREENSHOTS / f"{name}-{size_name}{suffix}.png"
            page.screenshot(path=str(target), full_page=True)
            assert target.stat().st_size > 5000
            written.append(target)
        assert errors == [], errors
        context.close()
    assert len(written) == (6 if scheme == "light" else 3)


@pytest.mark.parametrize("size_name", ["phone", "desktop"])
def test_account_pages_screenshots(browser, site, size_name):
    """Sign-up, profile (with a new API token), a refused submission and a discussion, as a
    signed-in member sees them."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        viewport=SIZES[size_name], color_scheme="light", device_scale_factor=1, locale="en-US"
    )
    page = context.new_page()
    errors: list[str] = []
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "status of 4" not in msg.text
            else None
        ),
    )

    def shot(name, full_page=True):
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, f"{name} at {size_name} scrolls sideways by {overflow}px"
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{size_name}.png"), full_page=full_page)

    page.goto(site.url + "/signup")
    page.get_by_label("Username").fill(f"shot-{size_name}")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Password again").fill("short")
    page.get_by_role("button", name="Sign up").click()
    assert page.locator(".form-errors").is_visible()
    shot("signup-error")
    page.get_by_label("Password", exact=True).fill("a long enough passphrase")
    page.get_by_label("Password again").fill("a long enough passphrase")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(site.url + "/")

    page.goto(site.url + "/profile")
    page.get_by_label("Token name").fill("my lab's bot")
    page.get_by_role("button", name="Create token").click()
    assert page.locator("#new-token").input_value().startswith("pw_")
    shot("profile")

    page.goto(site.url + "/submit")
    page.get_by_label("arXiv id or URL").fill("0808.05394")
    page.get_by_role("button", name="Submit", exact=True).click()
    assert "arXiv has no paper" in page.locator(".form-errors").inner_text()
    shot("submit-refused")

    page.goto(site.url + _paper_url(page, site))
    # The new-comment form (each existing comment also has a reply form, folded away).
    page.locator("#comment-body").fill("Interesting.\n\n> quoted\n\n- a list\n- with `code`")
    page.locator("form.comment-form:has(#comment-body) button[type=submit]").click()
    page.wait_for_url("**#comment-*")
    # The viewport as the member sees it after posting (a full-page shot would paint the
    # sticky header in the middle of the page).
    shot("discussion", full_page=False)
    assert errors == [], errors
    context.close()
