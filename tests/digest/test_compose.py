"""Composition is pure: data in, message out. Headers, multipart, injection, math."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest

from paperwire.digest.compose import ComposeError, compose_digest, header_text, message_id
from paperwire.digest.model import Digest, DigestPaper, MailIdentity, PersonalItem
from paperwire.markup.mathtext import readable

IDENT = MailIdentity(
    site_name="Paperwire",
    base_url="https://papers.example.org",
    mail_from="Paperwire <news@papers.example.org>",
    reply_to="Editors <editors@papers.example.org>",
    unsubscribe_mailto="unsubscribe@papers.example.org",
)
DATE = dt.datetime(2026, 11, 26, 7, 0, tzinfo=dt.UTC)


def paper(pid="2411.00001", title="scE$^2$TM: single-cell embeddings", **kw) -> DigestPaper:
    return DigestPaper(
        id=pid,
        title=title,
        authors=("Ada Lovelace", "Alan Turing"),
        author_count=2,
        categories=("q-bio.GN",),
        abstract="An abstract.",
        url=f"https://papers.example.org/papers/{pid}",
        **kw,
    )


def digest(**kw) -> Digest:
    values = dict(
        edition="daily",
        period="2026-11-26",
        period_label="Thursday 26 November 2026",
        recipient_email="reader@example.org",
        trending=(paper(),),
        personal=(
            PersonalItem(
                paper("2411.00002", "Atlas of cells"),
                ("your topic “single-cell” — by meaning", "your category q-bio.GN"),
            ),
        ),
        has_topics=True,
        unsubscribe_url="https://papers.example.org/unsubscribe/T",
        preferences_url="https://papers.example.org/subscription/P",
    )
    values.update(kw)
    return Digest(**values)


def roundtrip(msg):
    return email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)


def test_digest_headers_follow_settings_and_rfc8058():
    msg = roundtrip(compose_digest(digest(), IDENT, date=DATE, msg_id="<digest.1@x.org>"))
    assert msg["From"] == "Paperwire <news@papers.example.org>"
    assert msg["Reply-To"] == "Editors <editors@papers.example.org>"
    assert msg["To"] == "reader@example.org"
    assert msg["Date"] == "Thu, 26 Nov 2026 07:00:00 +0000"
    assert msg["Message-ID"] == "<digest.1@x.org>"
    assert msg["List-Unsubscribe"] == (
        "<https://papers.example.org/unsubscribe/T>, "
        "<mailto:unsubscribe@papers.example.org?subject=unsubscribe>"
    )
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg.get_content_type() == "multipart/alternative"
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for body in (plain, html):
        assert "https://papers.example.org/unsubscribe/T" in body
        assert "scE²TM" in body  # math readable in both parts
        # Why the paper is there, in both parts.
        assert "Matched your topic “single-cell” — by meaning; your category q-bio.GN" in " ".join(
            body.split()
        )
    assert 'style="' in html and "<script" not in html


def test_no_reply_to_when_not_configured():
    ident = MailIdentity(site_name="P", base_url="https://x.org", mail_from="p@x.org")
    msg = compose_digest(digest(), ident, date=DATE, msg_id="<a@x.org>")
    assert msg["Reply-To"] is None and msg["From"] == "p@x.org"


@pytest.mark.parametrize(
    "field,value",
    [
        ("recipient_name", "Eve\r\nBcc: victim@example.org"),
        ("recipient_name", "Eve\nX-Injected: yes"),
        ("period_label", "today\r\nBcc: victim@example.org"),
    ],
)
def test_header_injection_in_names_never_adds_headers(field, value):
    msg = roundtrip(compose_digest(digest(**{field: value}), IDENT, date=DATE, msg_id="<a@x.org>"))
    assert msg["Bcc"] is None and msg["X-Injected"] is None
    assert all("\n" not in str(v) and "\r" not in str(v) for _, v in msg.items())


@pytest.mark.parametrize(
    "title",
    [
        "Nice paper\r\nBcc: victim@example.org",
        "Title\nContent-Type: text/html",
    ],
)
def test_header_injection_in_titles_never_adds_headers(title):
    d = digest(trending=(paper(title=title),))
    msg = roundtrip(compose_digest(d, IDENT, date=DATE, msg_id="<a@x.org>"))
    assert msg["Bcc"] is None
    assert msg.get_content_type() == "multipart/alternative"
    assert "\n" not in msg["Subject"]


def test_topic_with_line_breaks_stays_in_the_body():
    d = digest(personal=(PersonalItem(paper("2411.3"), ("“x\r\nBcc: v@example.org”",)),))
    msg = roundtrip(compose_digest(d, IDENT, date=DATE, msg_id="<a@x.org>"))
    assert msg["Bcc"] is None


@pytest.mark.parametrize(
    "address",
    [
        "victim@example.org\r\nBcc: other@example.org",
        "a@b.org, c@d.org",
        "<a@b.org>",
        "no-at-sign",
        "two@@example.org",
    ],
)
def test_bad_recipient_addresses_are_refused(address):
    with pytest.raises(ComposeError):
        compose_digest(digest(recipient_email=address), IDENT, date=DATE, msg_id="<a@x.org>")


def test_naive_date_is_refused():
    with pytest.raises(ComposeError):
        compose_digest(digest(), IDENT, date=DATE.replace(tzinfo=None), msg_id="<a@x.org>")


def test_same_inputs_same_bytes():
    a = compose_digest(digest(), IDENT, date=DATE, msg_id="<a@x.org>").as_bytes()
    b = compose_digest(digest(), IDENT, date=DATE, msg_id="<a@x.org>").as_bytes()
    assert a.split(b"\n--")[0].split(b"boundary=")[0] == b.split(b"\n--")[0].split(b"boundary=")[0]


def test_html_escapes_data():
    d = digest(
        trending=(paper(title="<script>alert(1)</script> & co"),), recipient_name="<b>Eve</b>"
    )
    html = compose_digest(d, IDENT, date=DATE, msg_id="<a@x.org>").get_body(("html",)).get_content()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<b>Eve</b>" not in html


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("a\r\nb", "a b"),
        ("  many   spaces ", "many spaces"),
        ("tab\there", "tab here"),
        ("x" * 300, "x" * 199 + "…"),
    ],
)
def test_header_text(raw, expected):
    assert header_text(raw) == expected


@pytest.mark.parametrize("key", ["1.daily.2026-11-26", "7.weekly.2026-W48"])
def test_message_id_is_deterministic_and_plain(key):
    mid = message_id("digest", key, "papers.example.org")
    assert mid == message_id("digest", key, "papers.example.org")
    assert mid.startswith("<digest.") and mid.endswith("@papers.example.org>")


@pytest.mark.parametrize(
    "latex,expected",
    [
        ("scE$^2$TM", "scE²TM"),
        ("$\\alpha$-synuclein", "α-synuclein"),
        ("$O(n^{1.5})$ time", "O(n^(1.5)) time"),
        ("$\\frac{1}{2}$", "1/2"),
        ("no math, costs \\$5", "no math, costs $5"),
        ("$x_i$", "xᵢ"),
        ("unbalanced $ dollar", "unbalanced $ dollar"),
    ],
)
def test_math_is_readable_text(latex, expected):
    assert readable(latex) == expected
