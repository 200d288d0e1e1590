"""Mail on the embedded default, in a real browser: a fresh site with demo data and no mail
setting at all. A reader subscribes from the feed and is told to check the inbox; the admin
finds the confirmation mail on /admin/outbox; the reader follows its link and confirms; the
daily digest job runs; the digest is in the outbox, its HTML shown sandboxed (no script)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from paperwire.store.models import FeedEntry, Subscription

pytestmark = pytest.mark.browser

READER = "reader@example.org"
ADMIN, PASSWORD = "editor", "a long enough passphrase"


@pytest.fixture(scope="module")
def outbox_site(browser, tmp_path_factory):
    from paperwire.config import load_settings
    from paperwire.ingest.demo import load_demo_if_empty
    from paperwire.store.db import open_database
    from paperwire.web import auth
    from paperwire.web.app import create_app
    from tests.browser.conftest import Site
    from tests.support.live_server import free_port, running_app

    data_dir = tmp_path_factory.mktemp("outbox-site")
    port = free_port()
    # No SMTP_URL, no SMTP_HOST, no MAIL_TRANSPORT: what a newcomer runs.
    settings = load_settings(
        env={},
        data_dir=data_dir,
        load_demo_data=False,
        secret_key="browser-test-key",
        base_url=f"http://127.0.0.1:{port}",
    )
    db = open_database(settings)
    assert load_demo_if_empty(settings, db), "demo data did not load"
    auth.create_user(db, ADMIN, PASSWORD, is_admin=True)
    app = create_app(settings, db, warm_search=False)
    with running_app(app, port=port) as url:
        yield Site(url, settings, db, None, None, app)
    db.dispose()


def _sign_in(page, url: str) -> None:
    page.goto(url + "/signin")
    page.get_by_label("Username").fill(ADMIN)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _send_day(db) -> dt.date:
    """A weekday whose daily edition covers the latest demo feed day."""
    with db.session() as s:
        day = s.scalar(select(func.max(FeedEntry.day)))
    send = day + dt.timedelta(days=1)
    while send.weekday() >= 5:
        send += dt.timedelta(days=1)
    return send


def test_subscribe_confirm_and_daily_digest_land_in_the_outbox(browser, outbox_site):
    from paperwire.jobs.definitions import digest_part

    site = outbox_site
    reader = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    admin = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    errors: list[str] = []
    for ctx in (reader, admin):
        ctx.set_default_timeout(15000)
        ctx.on("weberror", lambda e: errors.append(str(e.error)))
    rp, ap = reader.new_page(), admin.new_page()
    for p in (rp, ap):
        p.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    # --- the reader subscribes from the feed ----------------------------------------------
    rp.goto(site.url + "/")
    rp.get_by_label("Email address").fill(READER)
    rp.locator("form.subscribe-form button[type=submit]").click()
    rp.get_by_text("Check your inbox").first.wait_for()

    # --- the admin finds the confirmation mail in the outbox -------------------------------
    _sign_in(ap, site.url)
    ap.goto(site.url + "/admin/outbox")
    assert "no SMTP server configured" in ap.locator("#mail-target").inner_text()
    assert str(site.settings.data_dir / "outbox") in ap.locator("#mail-target").inner_text()
    rows = ap.locator("table.outbox tbody tr")
    assert rows.count() == 1 and READER in rows.first.inner_text()
    rows.first.locator("a").click()
    ap.wait_for_url(re.compile(r"/admin/outbox/pw-"))
    text = ap.locator("pre.mail-text").first.inner_text()
    link = re.search(r"(/subscribe/confirm/\S+)", text).group(1)

    # --- the reader follows the link and confirms ------------------------------------------
    rp.goto(site.url + link)
    rp.get_by_role("button", name=re.compile("Confirm", re.I)).click()
    rp.get_by_text("Subscription confirmed").first.wait_for()
    with site.db.session() as s:
        assert s.scalar(select(Subscription.status).where(Subscription.email == READER)) == "active"

    # --- the daily digest job runs; the digest lands in the outbox -------------------------
    outcome = digest_part(site.settings, site.db, f"daily:{_send_day(site.db).isoformat()}")
    assert outcome.startswith("daily") and " 1 sent" in outcome, outcome
    ap.goto(site.url + "/admin/outbox")
    assert rows.count() == 2
    digest_row = ap.locator("table.outbox tbody tr", has_text="Paperwire")
    digest_row.first.locator("a").click()
    ap.wait_for_url(re.compile(r"/admin/outbox/pw-"))
    assert "List-Unsubscribe" in ap.locator("dl.mail-headers").inner_text()
    frame = ap.frame_locator("iframe.mail-html")
    frame.locator("a[href*='/papers/']").first.wait_for()
    assert ap.locator("iframe.mail-html").get_attribute("sandbox") == ""
    assert errors == [] or all("Blocked script" in e for e in errors), errors

    # --- a hostile message in the outbox is shown, never run --------------------------------
    key = _put_hostile(site.settings)
    ap.goto(site.url + f"/admin/outbox/{key}")
    assert "<script>" in ap.locator("pre.mail-text").first.inner_text()  # shown as text
    ap.frame_locator("iframe.mail-html").locator("p.greeting").wait_for()
    frame = ap.frame(url=re.compile(r"/html$"))
    assert frame.evaluate("typeof window.pwned") == "undefined"
    assert ap.evaluate("typeof window.pwned") == "undefined"
    reader.close()
    admin.close()


def _put_hostile(settings) -> str:
    from email.message import EmailMessage

    from paperwire.digest.outbox import OutboxTransport, message_key, outbox_dir

    hostile = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "a@paperwire.test", READER, "Hostile " + hostile
    msg["Message-ID"] = "<hostile.1@paperwire.test>"
    msg.set_content("Text " + hostile)
    msg.add_alternative(f"<p class='greeting'>Hello</p>{hostile}", subtype="html")
    OutboxTransport(outbox_dir(settings)).send(msg)
    return message_key(msg)
