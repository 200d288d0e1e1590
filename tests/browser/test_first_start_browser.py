"""A newcomer's first start in a real browser: `paperwire serve` on a fresh data dir with no
setting, the model preparation held back (its test hook) so that it is still "being
prepared": the demo feed shows real arXiv papers (authors, ids), and a search answers,
saying that results are keyword-only for now; with no mail setting a reader subscribes,
confirms from the outbox and gets the daily digest there; the API docs render."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import pytest

from tests.browser.conftest import DESKTOP
from tests.cli.test_first_start import FIRST_ON_FEED, Serve, _alive, _feed_shows_demo, _wait

pytestmark = [pytest.mark.browser, pytest.mark.slow]

READER = "reader@example.org"


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

        # Mail on the embedded default: subscribe, confirm from the outbox, a daily digest.
        page.goto(server.url + "/")
        page.get_by_label("Email address").fill(READER)
        page.locator("form.subscribe-form button[type=submit]").click()
        page.get_by_text("Check your inbox").first.wait_for()
        outbox = server.data / "outbox"
        (mail,) = _wait(lambda: _outbox(outbox), 30, "the confirmation mail in the outbox")
        link = re.search(r"(/subscribe/confirm/\S+)", mail).group(1)
        page.goto(server.url + link)
        page.get_by_role("button", name=re.compile("Confirm", re.I)).click()
        page.get_by_text("Subscription confirmed").first.wait_for()
        send_day = dt.date.today() + dt.timedelta(days=1)
        while send_day.weekday() >= 5:
            send_day += dt.timedelta(days=1)
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "paperwire",
                "digest",
                "send",
                "--edition",
                "daily",
                "--date",
                send_day.isoformat(),
                "--no-progress",
            ],
            env=server.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        digest = [m for m in _outbox(outbox) if "/subscribe/confirm/" not in m]
        assert len(digest) == 1 and READER in digest[0] and "List-Unsubscribe" in digest[0]

        # The API docs (the footer's "API" link) render their operations.
        page.goto(server.url + "/")
        page.locator("footer").get_by_role("link", name="API").click()
        page.wait_for_selector(".opblock", timeout=30000)
        assert any(
            p.startswith("/api/papers")
            for p in page.locator(".opblock-summary-path").all_inner_texts()
        )
        context.close()
        assert _alive(preparer)  # still held: all of this happened before the model existed
    finally:
        server.stop()


def _outbox(folder) -> list[str]:
    """The messages delivered to the outbox Maildir: headers and plain text, decoded."""
    import email
    import email.policy

    new = folder / "new"
    out = []
    for f in sorted(new.iterdir()) if new.is_dir() else []:
        msg = email.message_from_bytes(f.read_bytes(), policy=email.policy.default)
        text = msg.get_body(preferencelist=("plain",))
        out.append(
            "".join(f"{k}: {v}\n" for k, v in msg.items())
            + (text.get_content() if text is not None else "")
        )
    return out
