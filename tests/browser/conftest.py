"""Real-browser tests: Debian's chromium driven by Playwright (never a downloaded browser)
against a live Paperwire with the demo data, the arXiv replay server as arXiv and a real SMTP
sink as mail server.

Without /usr/bin/chromium (or Playwright) the tests are skipped with a message saying how to
install it, unless PAPERWIRE_TEST_REQUIRE_BROWSER=1, which turns that into a failure (CI).

Fixtures:
- ``site`` (session): the running server: ``.url``, ``.settings``, ``.db``, ``.replay``,
  ``.smtp``; SQLite in a temporary data dir, demo data loaded before it starts.
- ``browser`` (session), ``page`` (a fresh context per test, desktop size, light scheme).
- ``SCREENSHOTS``: test-artifacts/screenshots/ in the repository (gitignored).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.search.embed_fixtures import encoder, model_data_dir  # noqa: F401  (fixtures)

CHROMIUM = os.environ.get("PAPERWIRE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
REQUIRE = os.environ.get("PAPERWIRE_TEST_REQUIRE_BROWSER") == "1"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def _why_no_browser() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return (
            f"chromium not found at {CHROMIUM}: install it with `apt-get update && "
            f"apt-get install -y chromium` (or set PAPERWIRE_TEST_CHROMIUM) to run the "
            f"browser tests"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def browser():
    why = _why_no_browser()
    if why:
        if REQUIRE:
            pytest.fail(f"PAPERWIRE_TEST_REQUIRE_BROWSER=1 but {why}")
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class Site:
    url: str
    settings: Any
    db: Any
    replay: Any
    smtp: Any
    app: Any


@pytest.fixture(scope="session")
def site(browser, tmp_path_factory, model_data_dir):  # noqa: F811
    from paperwire.config import load_settings
    from paperwire.ingest.demo import load_demo_if_empty
    from paperwire.store.db import open_database
    from paperwire.web.app import create_app
    from tests.support.arxiv_replay import arxiv_replay_server
    from tests.support.live_server import free_port, running_app
    from tests.support.smtp_sink import SmtpSink

    data_dir = tmp_path_factory.mktemp("browser-site")
    # The session's model export: the site's warm-up loads it in seconds. Exporting here
    # instead kept a thread in native code for minutes, and a process ending meanwhile
    # aborted ("terminate called without an active exception").
    shutil.copytree(model_data_dir / "models", data_dir / "models")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with arxiv_replay_server() as replay, SmtpSink() as smtp:
        settings = load_settings(
            env={},
            data_dir=data_dir,
            load_demo_data=False,
            secret_key="browser-test-key",
            base_url=url,
            arxiv_delay_seconds=0.0,
            smtp_url=smtp.smtp_url,
            # The replayed papers are from 2016/2017: let them be submitted today.
            submit_max_age_days=100000,
            **replay.settings_overrides(),
        )
        db = open_database(settings)
        assert load_demo_if_empty(settings, db), "demo data did not load"
        app = create_app(settings, db, warm_search=True)
        with running_app(app, port=port) as live_url:
            yield Site(live_url, settings, db, replay, smtp, app)
        db.dispose()


@pytest.fixture
def page(browser, site):
    context = browser.new_context(viewport=DESKTOP, color_scheme="light", locale="en-US")
    context.set_default_timeout(15000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.js_errors = errors
    yield pg
    context.close()
