"""Comment Markdown to safe HTML.

Two layers, so that a bug in one is caught by the other:
1. markdown-it-py (CommonMark) with raw HTML disabled: ``<script>`` typed in a comment comes
   out as text, not as a tag.
2. nh3 (the ammonia sanitizer) with an allow-list of the tags CommonMark produces, links
   limited to http(s)/mailto and marked ``rel="nofollow ugc"``; images are not allowed (they
   would let a commenter make every reader's browser fetch a third-party URL).

Invariant: ``render_comment(text)`` never contains an element, attribute or URL scheme outside
the allow-lists below, whatever ``text`` is.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

MAX_COMMENT_CHARS = 10_000

ALLOWED_TAGS = {"p", "br", "hr", "em", "strong", "del", "code", "pre", "blockquote", "ul",
                "ol", "li", "a", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr",
                "th", "td"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"},
                      "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}
LINK_REL = "nofollow ugc"

_md = (MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
       .enable(["table", "strikethrough"]))


def _demote_headings(tokens, *_args) -> None:
    # A comment's "# Title" must not compete with the page's own h1/h2 outline.
    for token in tokens:
        if token.type in ("heading_open", "heading_close") and token.tag in ("h1", "h2"):
            token.tag = "h3"


_md.core.ruler.push("demote_headings", lambda state: _demote_headings(state.tokens))


def render_comment(text: str) -> str:
    """Markdown → sanitized HTML (see module docstring)."""
    html = _md.render(text or "")
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel=LINK_REL,
                     clean_content_tags={"script", "style"}, strip_comments=True).strip()
