"""Digest bodies: plain text and HTML (inline styles, table layout: what survives Gmail,
Outlook and Apple Mail). Pure functions of a ``Digest``.

Invariants: every piece of data (titles, authors, topics, names, URLs) is escaped for HTML;
math is rendered as readable Unicode (``mathtext.readable``) in both parts.
"""

from __future__ import annotations

import textwrap
from functools import lru_cache
from html import escape

from paperwire.digest import recommended
from paperwire.digest.followed_authors import reason as followed_reason
from paperwire.digest.model import Digest, DigestPaper, MailIdentity, PersonalItem
from paperwire.markup.mathtext import readable
from paperwire.summary.read import LABEL as KEY_SENTENCE_LABEL

_TEASER_CHARS = 280
_FONT = "font-family:-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif"


def _authors(p: DigestPaper, limit: int = 4) -> str:
    names = list(p.authors[:limit])
    total = max(p.author_count, len(p.authors))
    text = ", ".join(names)
    if total > len(names):
        text += f" +{total - len(names)} more"
    return text


def _teaser(text: str) -> str:
    text = " ".join(readable(text).split())
    if len(text) <= _TEASER_CHARS:
        return text
    cut = text[:_TEASER_CHARS].rsplit(" ", 1)[0]
    return cut + " …"


def why(item: PersonalItem) -> str:
    """The line saying why a paper is in the digest ("Matched your topic “x” — by meaning");
    the same words in the text and the HTML part."""
    return "Matched " + "; ".join(item.matched) if item.matched else ""


def heading(d: Digest, site_name: str) -> str:
    kind = "Daily" if d.edition == "daily" else "Weekly"
    return f"{site_name} {kind} digest — {d.period_label}"


def _stats(p: DigestPaper) -> str:
    bits = [f"▲ {p.upvotes}"]
    if p.num_comments:
        bits.append(f"{p.num_comments} comment{'s' if p.num_comments != 1 else ''}")
    if p.categories:
        bits.append(" ".join(p.categories[:3]))
    return " · ".join(bits)


# --- plain text -----------------------------------------------------------------------------
def _text_paper(n: int, p: DigestPaper, extra: str | None = None) -> list[str]:
    return [f"{n}. {readable(p.title)}", *_text_paper_body(p, extra)]


# Papers repeat across thousands of digests of one edition: render each (paper, topic line)
# once.
@lru_cache(maxsize=8192)
def _text_paper_body(p: DigestPaper, extra: str | None) -> tuple[str, ...]:
    wrap = textwrap.TextWrapper(width=76, initial_indent="   ", subsequent_indent="   ")
    lines: list[str] = []
    if p.authors:
        lines += wrap.wrap(_authors(p))
    lines.append(f"   {_stats(p)}")
    if extra:
        lines += wrap.wrap(extra)
    if p.key_sentence:
        lines += wrap.wrap(f"{KEY_SENTENCE_LABEL}: {' '.join(readable(p.key_sentence).split())}")
    if p.abstract:
        lines += wrap.wrap(_teaser(p.abstract))
    lines.append(f"   {p.url}")
    return tuple(lines + [""])


def render_text(d: Digest, ident: MailIdentity) -> str:
    title = heading(d, ident.site_name)
    lines = [title, "=" * min(len(title), 76), ""]
    if d.recipient_name:
        lines += [f"Hello {d.recipient_name},", ""]
    if d.trending:
        lines += ["TRENDING", ""]
        for n, p in enumerate(d.trending, 1):
            lines += _text_paper(n, p)
    if d.personal:
        lines += ["FOR YOUR TOPICS", ""]
        for n, item in enumerate(d.personal, 1):
            lines += _text_paper(n, item.paper, why(item))
    elif d.has_topics:
        lines += ["No new papers matched your topics this time.", ""]
    if d.followed:
        lines += ["NEW FROM AUTHORS YOU FOLLOW", ""]
        for n, item in enumerate(d.followed, 1):
            lines += _text_paper(n, item.paper, followed_reason(item))
    lines += recommended.text_lines(d.recommended, _text_paper)
    lines += [
        "-- ",
        f"You get this because you subscribed to the {ident.site_name} digest.",
        f"Preferences: {d.preferences_url}",
        f"Unsubscribe: {d.unsubscribe_url}",
        "",
    ]
    return "\n".join(lines)


# --- HTML -----------------------------------------------------------------------------------
@lru_cache(maxsize=8192)
def _html_paper(p: DigestPaper, extra: str | None = None) -> str:
    links = [f'<a href="{escape(p.url)}" style="color:#2563eb">Discuss</a>']
    if p.abs_url:
        links.append(f'<a href="{escape(p.abs_url)}" style="color:#2563eb">Abstract</a>')
    if p.pdf_url:
        links.append(f'<a href="{escape(p.pdf_url)}" style="color:#2563eb">PDF</a>')
    parts = [
        '<tr><td style="padding:14px 0;border-bottom:1px solid #e5e7eb">',
        f'<a href="{escape(p.url)}" style="font-size:17px;font-weight:600;color:#111827;'
        f'text-decoration:none;line-height:1.35">{escape(readable(p.title))}</a>',
    ]
    if p.authors:
        parts.append(
            f'<div style="font-size:13px;color:#4b5563;margin-top:4px">{escape(_authors(p))}</div>'
        )
    parts.append(
        f'<div style="font-size:12px;color:#6b7280;margin-top:4px">{escape(_stats(p))}</div>'
    )
    if extra:
        parts.append(
            f'<div style="font-size:13px;color:#065f46;background:#ecfdf5;'
            f'padding:4px 8px;border-radius:4px;margin-top:6px;display:inline-block">'
            f"{escape(extra)}</div>"
        )
    if p.key_sentence:
        parts.append(
            f'<p style="font-size:14px;color:#111827;line-height:1.5;margin:8px 0 0;'
            f'padding-left:8px;border-left:3px solid #d1d5db">'
            f'<span style="font-size:12px;color:#6b7280">{escape(KEY_SENTENCE_LABEL)}:'
            f"</span> {escape(readable(p.key_sentence))}</p>"
        )
    if p.abstract:
        parts.append(
            f'<p style="font-size:14px;color:#374151;line-height:1.5;margin:8px 0 6px">'
            f"{escape(_teaser(p.abstract))}</p>"
        )
    parts.append(f'<div style="font-size:13px">{" · ".join(links)}</div></td></tr>')
    return "".join(parts)


def _section(title: str) -> str:
    return (
        f'<tr><td style="padding:22px 0 4px;font-size:13px;font-weight:700;'
        f'letter-spacing:.06em;text-transform:uppercase;color:#b45309">{escape(title)}'
        f"</td></tr>"
    )


def render_html(d: Digest, ident: MailIdentity) -> str:
    title = heading(d, ident.site_name)
    rows = []
    if d.recipient_name:
        rows.append(
            f'<tr><td style="font-size:15px;padding-top:8px">Hello '
            f"{escape(d.recipient_name)},</td></tr>"
        )
    if d.trending:
        rows.append(_section("Trending"))
        rows += [_html_paper(p) for p in d.trending]
    if d.personal:
        rows.append(_section("For your topics"))
        rows += [_html_paper(i.paper, why(i)) for i in d.personal]
    elif d.has_topics:
        rows.append(
            '<tr><td style="padding:14px 0;color:#6b7280;font-size:14px">No new papers '
            "matched your topics this time.</td></tr>"
        )
    if d.followed:
        rows.append(_section("New from authors you follow"))
        rows += [_html_paper(i.paper, followed_reason(i)) for i in d.followed]
    rows += recommended.html_rows(d.recommended, _html_paper, _section)
    footer = (
        f'<tr><td style="padding:24px 0 0;font-size:12px;color:#6b7280;line-height:1.6">'
        f"You get this because you subscribed to the {escape(ident.site_name)} digest.<br>"
        f'<a href="{escape(d.preferences_url)}" style="color:#6b7280">Preferences</a> · '
        f'<a href="{escape(d.unsubscribe_url)}" style="color:#6b7280">Unsubscribe</a>'
        f"</td></tr>"
    )
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{escape(title)}</title></head>"
        f'<body style="margin:0;padding:0;background:#f3f4f6;{_FONT}">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="background:#f3f4f6"><tr><td align="center" style="padding:16px">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="max-width:640px;background:#ffffff;border-radius:8px;padding:20px 24px">'
        f'<tr><td style="font-size:20px;font-weight:700;color:#111827">'
        f'<a href="{escape(ident.base_url)}" style="color:#111827;text-decoration:none">'
        f"{escape(title)}</a></td></tr>"
        + "".join(rows)
        + footer
        + "</table></td></tr></table></body></html>"
    )
