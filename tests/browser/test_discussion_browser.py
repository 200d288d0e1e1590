"""Discussions in a real browser: a comment with math renders as MathML (no Markdown damage:
no "x,dx"); a reply notifies its parent's author, whose header counts it, whose
notifications page shows it, and whose batched notification mail lands in the outbox."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

ALICE, BOB, PASSWORD = "alice", "bob", "a long enough passphrase"


@pytest.fixture(scope="module")
def discuss_site(browser, tmp_path_factory):
    from paperwire.config import load_settings
    from paperwire.ingest.demo import load_demo_if_empty
    from paperwire.store import notifications
    from paperwire.store.db import open_database
    from paperwire.web import auth
    from paperwire.web.app import create_app
    from tests.browser.conftest import Site
    from tests.support.live_server import free_port, running_app

    data_dir = tmp_path_factory.mktemp("discuss-site")
    port = free_port()
    settings = load_settings(
        env={},
        data_dir=data_dir,
        load_demo_data=False,
        secret_key="browser-test-key",
        mail_transport="outbox",
        base_url=f"http://127.0.0.1:{port}",
    )
    db = open_database(settings)
    assert load_demo_if_empty(settings, db), "demo data did not load"
    alice = auth.create_user(db, ALICE, PASSWORD, email="alice@example.org")
    auth.create_user(db, BOB, PASSWORD)
    with db.session() as s:  # alice proved her address earlier (the profile's mailed link)
        notifications.confirm_email(s, alice.id, 0, "alice@example.org")
    app = create_app(settings, db, warm_search=False)
    with running_app(app, port=port) as url:
        yield Site(url, settings, db, None, None, app)
    db.dispose()


def _paper_id(db) -> str:
    from sqlalchemy import select

    from paperwire.store.models import Paper

    with db.session() as s:
        return s.scalar(select(Paper.id).where(Paper.hidden.is_(False)).order_by(Paper.id))


def _signed_in(browser, url, name):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="en-US")
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(url + "/signin")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return context, page


def test_math_comment_and_reply_notification_end_to_end(browser, discuss_site):
    from paperwire.digest.notify import send_notifications
    from paperwire.digest.outbox import OutboxTransport, list_messages, outbox_dir

    site = discuss_site
    pid = _paper_id(site.db)
    alice_ctx, alice = _signed_in(browser, site.url, ALICE)
    bob_ctx, bob = _signed_in(browser, site.url, BOB)
    try:
        alice.goto(f"{site.url}/papers/{pid}")
        alice.locator("#comment-body").fill("Is it $$\\int_0^1 x\\,dx$$ or $a_1 + b_2$?")
        alice.get_by_role("button", name="Post comment").click()
        alice.wait_for_load_state()
        body = alice.locator(".comment-body").first
        assert body.locator("math").count() == 2  # MathML, display and inline
        assert body.locator("math[display=block] msubsup").count() == 1
        text = body.inner_text()
        assert "x,dx" not in text and "$$" not in text and "\\int" not in text
        # the browser lays the formula out (MathML is rendered, not dropped as unknown tags)
        assert body.locator("math").first.bounding_box()["width"] > 10

        bob.goto(f"{site.url}/papers/{pid}")
        bob.locator(".comment .reply summary").first.click()
        bob.locator(".comment .reply textarea").first.fill("The first: it is $\\frac{1}{2}$.")
        bob.locator(".comment .reply").first.get_by_role("button", name="Reply").click()
        bob.wait_for_load_state()
        assert bob.locator(".comment.depth-1 math").count() == 1

        alice.goto(f"{site.url}/")
        assert alice.locator(".unread-count").inner_text() == "1"
        alice.locator("a.notifications-link").click()
        alice.wait_for_load_state()
        item = alice.locator(".notification.is-unread").first
        assert "bob replied to your comment on" in item.inner_text()
        assert "The first: it is" in item.inner_text()

        with OutboxTransport(outbox_dir(site.settings)) as transport:
            summary = send_notifications(site.settings, site.db, transport, progress=False)
        assert summary.sent == 1
        messages, _ = list_messages(outbox_dir(site.settings))
        mine = [m for m in messages if "alice@example.org" in m.to]
        assert len(mine) == 1 and mine[0].subject.startswith("bob replied to your comment on")

        alice.get_by_role("button", name="Mark all read").click()
        alice.wait_for_load_state()
        assert alice.locator(".unread-count").count() == 0
    finally:
        alice_ctx.close()
        bob_ctx.close()
