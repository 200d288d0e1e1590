"""Comment Markdown (with LaTeX math and @mentions) to safe HTML.

Order matters, so that Markdown cannot damage math (``$$\\int_0^1 x\\,dx$$`` used to come out
as ``x,dx``: ``\\,`` is a Markdown escape and ``_`` starts emphasis):
1. protect: every math span outside code (``protect_math``) is swapped for an inert
   alphanumeric placeholder that Markdown leaves alone;
2. markdown-it-py (CommonMark) with raw HTML disabled renders the rest: ``<script>`` typed in
   a comment comes out as text, not as a tag; ``@name`` of an existing member becomes a link
   to their page (only names the caller passes as ``mentions``: unknown names stay text);
3. nh3 (the ammonia sanitizer) cleans the HTML with an allow-list of the tags CommonMark
   produces, links limited to http(s)/mailto and relative paths (``/users/name``) and marked
   ``rel="nofollow ugc"``; images are not allowed (they would let a commenter make every
   reader's browser fetch a third-party URL);
4. restore: each placeholder in text becomes the span rendered by
   ``paperwire.markup.mathrender.render_math`` (allow-listed MathML, or the escaped source when
   it cannot convert); a placeholder that ended up inside a tag (a link's URL) or in code
   becomes the escaped source text.

Math follows the abstracts' delimiters (``$...$``, ``$$...$$``, ``\\$`` a literal dollar), with
one rule more for inline math, as in Pandoc: the opening ``$`` is not followed by a space, the
closing one is not preceded by a space nor followed by a digit, and a blank line ends the
span, so "it costs $5 and $6" stays text.

Invariants: ``render_comment(text)`` never contains an element, attribute or URL scheme
outside the allow-lists below and the MathML allow-list of ``mathrender``, whatever ``text``
is; each math span goes to the math renderer byte for byte as typed.
"""

from __future__ import annotations

import html as _html
import re
import secrets

import nh3
from markdown_it import MarkdownIt

from paperwire.markup.mathrender import render_math

MAX_COMMENT_CHARS = 10_000

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc"

# Display math first; inline math by the Pandoc rule (see module docstring).
_MATH = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$"
    r"|(?<![\\$])\$(?![\s$])((?:\\\$|[^$\n]|\n(?![ \t]*\n))+?)(?<![\s\\])\$(?!\d)",
    re.S,
)
# Code, where a dollar is a dollar: fenced blocks, indented blocks after a blank line, and
# backtick spans (a run of n backticks closed by the next run of exactly n).
_FENCE = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^[ ]{0,3}\1[ \t]*$|\Z)", re.M | re.S)
_INDENTED = re.compile(r"(?:\A|\n[ \t]*\n)((?:(?:[ ]{4}|\t)[^\n]*(?:\n|\Z))+)")
_TICKS = re.compile(r"(?<!`)(`+)(?!`)")

MENTION = re.compile(r"(?<![A-Za-z0-9_.@/-])@([A-Za-z0-9][A-Za-z0-9_.-]{1,31})(?<![.-])")


def _code_regions(text: str) -> list[tuple[int, int]]:
    regions = [(m.start(), m.end()) for m in _FENCE.finditer(text)]
    regions += [(m.start(1), m.end(1)) for m in _INDENTED.finditer(text)]
    pos = 0
    while True:
        m = _TICKS.search(text, pos)
        if m is None:
            break
        run = m.group(1)
        close = re.compile(r"(?<!`)" + run + r"(?!`)").search(text, m.end())
        if close is None:
            pos = m.end()
            continue
        regions.append((m.start(), close.end()))
        pos = close.end()
    return regions


def math_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each math span of ``text`` that is not inside code, in order."""
    code = _code_regions(text)
    spans = []
    for m in _MATH.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in code):
            continue
        spans.append((m.start(), m.end()))
    return spans


def protect_math(text: str) -> tuple[str, str, list[str]]:
    """(text with each math span replaced by a placeholder, the placeholder prefix, the spans
    as typed). Placeholders are ``<prefix><n>Z``: letters and digits only, which Markdown
    neither escapes nor turns into markup, and a prefix that does not occur in ``text``."""
    prefix = "PWMATH" + secrets.token_hex(6).upper() + "N"
    while prefix in text:
        prefix = "PWMATH" + secrets.token_hex(6).upper() + "N"
    out: list[str] = []
    spans: list[str] = []
    pos = 0
    for start, end in math_spans(text):
        out.append(text[pos:start])
        out.append(f"{prefix}{len(spans)}Z")
        spans.append(text[start:end])
        pos = end
    out.append(text[pos:])
    return "".join(out), prefix, spans


# A tag of nh3's output: attribute values are double-quoted with '"' escaped, so a '>' inside
# one cannot end the tag early here.
_TAG = re.compile(r'(<[^<>"]*(?:"[^"]*"[^<>"]*)*>)')


def restore_math(html: str, prefix: str, spans: list[str]) -> str:
    """Placeholders in text become rendered math; in tags or code, the escaped source."""
    if not spans:
        return html
    placeholder = re.compile(re.escape(prefix) + r"(\d+)Z")

    def source(m: re.Match) -> str:
        i = int(m.group(1))
        return _html.escape(spans[i], quote=True) if i < len(spans) else ""

    def rendered(m: re.Match) -> str:
        i = int(m.group(1))
        return str(render_math(spans[i])) if i < len(spans) else ""

    out, in_code = [], 0
    for part in _TAG.split(html):
        if part.startswith("<") and part.endswith(">"):
            name = (
                part[1:].lstrip("/").split(None, 1)[0].rstrip(">").lower() if len(part) > 2 else ""
            )
            if name in ("code", "pre"):
                in_code += -1 if part.startswith("</") else 1
            out.append(placeholder.sub(source, part))
        else:
            out.append(placeholder.sub(source if in_code > 0 else rendered, part))
    return "".join(out)


_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)


def _demote_headings(tokens, *_args) -> None:
    # A comment's "# Title" must not compete with the page's own h1/h2 outline.
    for token in tokens:
        if token.type in ("heading_open", "heading_close") and token.tag in ("h1", "h2"):
            token.tag = "h3"


def _link_mentions(state) -> None:
    known = {n.lower(): n for n in (state.env.get("mentions") or ())}
    if not known:
        return
    from markdown_it.token import Token

    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        children, in_link = [], 0
        for tok in block.children:
            if tok.type == "link_open":
                in_link += 1
            elif tok.type == "link_close":
                in_link -= 1
            if tok.type != "text" or in_link or "@" not in tok.content:
                children.append(tok)
                continue
            pos = 0
            for m in MENTION.finditer(tok.content):
                name = known.get(m.group(1).lower())
                if name is None:
                    continue
                if m.start() > pos:
                    t = Token("text", "", 0)
                    t.content = tok.content[pos : m.start()]
                    children.append(t)
                opening = Token("link_open", "a", 1)
                opening.attrs = {"href": f"/users/{name}", "class": "mention"}
                label = Token("text", "", 0)
                label.content = "@" + m.group(1)
                children += [opening, label, Token("link_close", "a", -1)]
                pos = m.end()
            if pos < len(tok.content):
                t = Token("text", "", 0)
                t.content = tok.content[pos:]
                children.append(t)
        block.children = children


_md.core.ruler.push("demote_headings", lambda state: _demote_headings(state.tokens))
_md.core.ruler.push("link_mentions", _link_mentions)


def mention_candidates(text: str) -> set[str]:
    """Names written as ``@name`` in ``text`` (outside code), for the caller to look up."""
    code = _code_regions(text or "")
    return {
        m.group(1)
        for m in MENTION.finditer(text or "")
        if not any(s <= m.start() < e for s, e in code)
    }


def render_comment(text: str, mentions: set[str] | frozenset[str] = frozenset()) -> str:
    """Markdown → sanitized HTML (see module docstring). ``mentions``: the usernames that
    exist, which ``@name`` links to (any others stay text)."""
    protected, prefix, spans = protect_math(text or "")
    html = _md.render(protected, {"mentions": set(mentions)})
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
        clean_content_tags={"script", "style"},
        strip_comments=True,
        allowed_classes={"a": {"mention"}},
    ).strip()
    return restore_math(clean, prefix, spans)
