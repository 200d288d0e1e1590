"""The digest's "New from authors you follow" section, over a real SMTP server (SQLite and
PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from paperwire.digest.send import send_edition
from paperwire.digest.transport import open_transport
from paperwire.store import authors as store
from tests.digest.kit import SEND_DAY, daily, mail_settings, seed_day
from tests.factories import make_papers, make_store_user, make_subscription
from tests.support.smtp_sink import SmtpSink


@pytest.fixture
def sink():
    with SmtpSink() as s:
        yield s


def run(settings, db, ed=None):
    with open_transport(settings) as t:
        return send_edition(settings, db, ed or daily(), t, progress=False, sleep=lambda _s: None)


def _follow(db, user_id, name):
    from paperwire.authors.names import strict_key

    with db.session() as s:
        store.follow(s, user_id, strict_key(name), name)


def _author_paper(db, name, days_before_send, title):
    at = dt.datetime.combine(SEND_DAY, dt.time(3)) - dt.timedelta(days=days_before_send)
    (rec,) = make_papers(
        db,
        authors=[{"name": name, "affiliations": []}],
        published_at=at,
        title=title,
        categories=["math.AG"],
    )
    return rec


def test_followers_digest_lists_new_papers_of_followed_authors_once(settings, db, sink):
    s = mail_settings(settings, sink)
    seed_day(db)
    reader = make_store_user(db, "reader")
    _follow(db, reader.id, "Ann Lee")
    fresh = _author_paper(db, "Lee, Ann", 3, "Fresh moduli spaces")
    _author_paper(db, "Ann Lee", 30, "Old moduli spaces")  # older than 7 days
    _author_paper(db, "Jane Lee", 2, "Someone else entirely")  # not followed
    make_subscription(db, "reader@example.org", user_id=reader.id)
    make_subscription(db, "stranger@example.org")  # follows nobody
    assert run(s, db).sent == 2
    text = sink.to("reader@example.org")[0].message.get_body(("plain",)).get_content()
    section = text.split("NEW FROM AUTHORS YOU FOLLOW", 1)[1]
    assert "Fresh moduli spaces" in section and f"/papers/{fresh.id}" in section
    assert "By Lee, Ann, whom you follow" in section
    assert "Old moduli spaces" not in text and "Someone else entirely" not in text
    html = sink.to("reader@example.org")[0].message.get_body(("html",)).get_content()
    assert "New from authors you follow" in html
    other = sink.to("stranger@example.org")[0].message.get_body(("plain",)).get_content()
    assert "AUTHORS YOU FOLLOW" not in other
    # The weekly edition does not send the same paper again.
    from paperwire.digest.edition import edition_for

    sink.messages.clear()
    run(s, db, edition_for("weekly", SEND_DAY))
    for m in sink.to("reader@example.org"):
        assert "Fresh moduli spaces" not in m.message.get_body(("plain",)).get_content()


def test_the_section_shows_the_papers_stored_key_sentence(settings, db, sink):
    from paperwire.store.keysentences import save_key_sentences
    from paperwire.store.models import Paper
    from paperwire.summary.keysentence import SCORER_VERSION

    s = mail_settings(settings, sink)
    seed_day(db)
    reader = make_store_user(db, "reader")
    _follow(db, reader.id, "Ann Lee")
    fresh = _author_paper(db, "Ann Lee", 1, "Fresh moduli spaces")
    with db.session() as session:
        chash = session.get(Paper, fresh.id).content_hash
        save_key_sentences(
            session, [(fresh.id, chash, "The stored key sentence of it.")], SCORER_VERSION
        )
    make_subscription(db, "reader@example.org", user_id=reader.id)
    run(s, db)
    text = sink.to("reader@example.org")[0].message.get_body(("plain",)).get_content()
    section = text.split("NEW FROM AUTHORS YOU FOLLOW", 1)[1]
    assert "The stored key sentence of it." in " ".join(section.split())


def test_the_section_can_be_turned_off(settings, db, sink):
    s = dataclasses.replace(mail_settings(settings, sink), followed_authors_digest_days=0)
    seed_day(db)
    reader = make_store_user(db, "reader")
    _follow(db, reader.id, "Ann Lee")
    _author_paper(db, "Ann Lee", 1, "Fresh moduli spaces")
    make_subscription(db, "reader@example.org", user_id=reader.id)
    run(s, db)
    text = sink.to("reader@example.org")[0].message.get_body(("plain",)).get_content()
    assert "AUTHORS YOU FOLLOW" not in text
