"""``/api/docs`` (the footer's "API" link) renders the API's operations in a real browser with
no network beyond the site itself: Swagger UI comes from the installed package, not a CDN,
and runs under the site's own Content-Security-Policy."""

from __future__ import annotations

import pytest

from paperwire.config import load_settings
from paperwire.store.db import open_database
from paperwire.web.app import create_app
from tests.support.live_server import running_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def docs_site(tmp_path_factory):
    settings = load_settings(
        env={},
        data_dir=tmp_path_factory.mktemp("api-docs"),
        load_demo_data=False,
        secret_key="api-docs-test",
    )
    db = open_database(settings)
    with running_app(create_app(settings, db)) as url:
        yield url
    db.dispose()


def test_api_docs_render_the_operations_offline_under_the_csp(browser, docs_site):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    foreign: list[str] = []
    problems: list[str] = []
    # Anything not served by the site itself is refused: a CDN would fail here as offline.
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(docs_site)
            else (foreign.append(route.request.url), route.abort())
        ),
    )
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        response = page.goto(docs_site + "/api/docs")
        assert response.status == 200
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_selector(".opblock", timeout=30000)
        operations = page.locator(".opblock-summary-path").all_inner_texts()
        assert any(p.startswith("/api/papers") for p in operations), operations
        assert any(p.startswith("/feeds/") for p in operations), operations
        # An operation opens and shows its parameters (the UI works, not just renders).
        page.locator(".opblock-summary", has_text="/api/papers/search").first.click()
        page.wait_for_selector(".opblock .parameters", timeout=10000)
        assert page.locator(".info .title").inner_text().startswith(load_settings(env={}).site_name)
    finally:
        context.close()
    assert foreign == [], foreign
    assert problems == [], problems


def test_swagger_assets_are_cached_and_versioned(docs_site):
    import httpx

    html = httpx.get(docs_site + "/api/docs").text
    assert "cdn" not in html.lower()
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        start = html.index(f"/static/swagger-ui/{asset}?v=")
        url = html[start : html.index('"', start)]
        response = httpx.get(docs_site + url)
        assert response.status_code == 200, url
        assert "immutable" in response.headers["cache-control"]
