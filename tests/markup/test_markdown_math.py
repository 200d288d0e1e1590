"""Comment Markdown with math and mentions (markup/markdown.py): math is protected from Markdown,
rendered like the abstracts' math, and the result stays inside the sanitiser's allow-lists."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from paperwire.markup.markdown import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    math_spans,
    mention_candidates,
    protect_math,
    render_comment,
)
from paperwire.markup.mathrender import _ATTRIBUTES as MATH_ATTRIBUTES
from paperwire.markup.mathrender import _ELEMENTS as MATH_ELEMENTS
from paperwire.markup.mathrender import render_math


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> _Collect:
    p = _Collect()
    p.feed(html)
    p.close()
    return p


def assert_safe(html: str) -> None:
    """Every element and attribute is on an allow-list; links are http(s), mailto or relative."""
    for tag, attrs in parse(html).elements:
        if tag in MATH_ELEMENTS:
            assert set(attrs) <= MATH_ATTRIBUTES | {"xmlns"}, (tag, attrs)
            continue
        assert tag in ALLOWED_TAGS, tag
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel", "class"} if tag == "a" else set())
        assert set(attrs) <= allowed, (tag, attrs)
        if tag == "a":
            href = attrs.get("href", "")
            scheme = re.match(r"\s*([A-Za-z][A-Za-z0-9+.-]*):", href)
            assert scheme is None or scheme.group(1).lower() in ("http", "https", "mailto"), href
            if "class" in attrs:
                assert attrs["class"] == "mention"


# (comment as typed, substring the HTML must hold, substring it must not hold)
CASES = [
    (r"$$\int_0^1 x\,dx$$", "<msubsup><mo>∫</mo>", "x,dx"),
    (r"We get $a_1 + b_2$ and $c_3$ here", "<msub><mi>a</mi><mn>1</mn></msub>", "<em>"),
    (r"the bound $O(n \log n)$ is tight", "<mi>log</mi>", "$O("),
    (r"Eq. $x^*$ and $y^*$ differ", "<msup><mi>x</mi>", "<em>"),
    ("Display:\n\n$$\nE = mc^2\n$$\n\nthen text", 'display="block"', "$$"),
    (r"**Nice** paper, but $\alpha$ is never defined", "<strong>Nice</strong>", r"\alpha"),
    ("it costs $5 and $6 to print", "it costs $5 and $6 to print", "<math"),
    ("code: `$x_1$` stays code", "<code>$x_1$</code>", "<math"),
    ("```\n$$a_b$$\n```", "<pre><code>$$a_b$$", "<math"),
    (r"escaped \$5 is a dollar", "escaped $5 is a dollar", "<math"),
    (r"unknown command $\frobnicate{x}$ shows source", r"$\frobnicate{x}$", "<math"),
    (r"[a link](https://example.org/$x$) stays a link", 'href="https://example.org/$x$"', "<math"),
    ("<script>alert(1)</script> $x$", "&lt;script&gt;", "<script"),
    (r"$\href{javascript:alert(1)}{x}$", r"\href", 'javascript:alert(1)"'),
    ("# Title with $x^2$", "<h3>Title with <math", "<h1>"),
    ("- item $a_i$\n- item $b_i$", "<li>item <math", "$a_i$"),
    ("> quoted $\\beta$", "<blockquote>", "\\beta"),
]


@pytest.mark.parametrize("text, present, absent", CASES)
def test_comment_markdown_and_math_table(text, present, absent):
    html = render_comment(text)
    assert present in html
    assert absent not in html
    assert_safe(html)


def test_display_integral_is_not_damaged_by_markdown_escapes():
    html = render_comment(r"$$\int_0^1 x\,dx$$")
    assert html == "<p>" + str(render_math(r"$$\int_0^1 x\,dx$$")) + "</p>"


@pytest.mark.parametrize(
    "text, spans",
    [
        (r"a $x$ b $$y$$ c", ["$x$", "$$y$$"]),
        ("price $5 and $6", []),
        ("`$x$` and $y$", ["$y$"]),
        ("$ x$ and $x $", []),
        ("$a\n\nb$", []),
        ("$a\nb$", ["$a\nb$"]),
        (r"\$x$ and $z$", ["$z$"]),
    ],
)
def test_math_spans_table(text, spans):
    assert [text[s:e] for s, e in math_spans(text)] == spans


def reference_spans(pieces: list[tuple[str, str]]) -> list[str]:
    return [value for kind, value in pieces if kind == "math"]


# Words without spaces: four spaces opening a line would make an indented code block, where a
# dollar is rightly a dollar (the table above covers code).
_words = st.text(alphabet="abcdefgh*_#>-[]()\n,.:!", min_size=0, max_size=12)
_latex = st.text(alphabet="abxyz0123456789+-=^_{}()\\,. ", min_size=1, max_size=15).filter(
    lambda s: s.strip() == s and "\n" not in s and not s.endswith("\\")
)
_math = st.one_of(_latex.map(lambda s: f"${s}$"), _latex.map(lambda s: f"$${s}$$"))


@hsettings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(st.tuples(st.just("text"), _words), st.tuples(st.just("math"), _math)), max_size=8
    )
)
def test_math_spans_reach_the_math_renderer_byte_exact(pieces):
    # Separate neighbours so that two math spans do not touch (``$a$$b$`` is one token).
    text = " ".join(value for _kind, value in pieces if value)
    protected, prefix, spans = protect_math(text)
    assert spans == reference_spans(pieces)
    assert "$" not in protected
    # Put back, the protected text is the input.
    back = re.sub(re.escape(prefix) + r"(\d+)Z", lambda m: spans[int(m.group(1))], protected)
    assert back == text


@hsettings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200)
    | st.lists(
        st.sampled_from(
            [
                "$",
                "$$",
                "`",
                "<",
                ">",
                '"',
                "'",
                "[x](",
                ")",
                "javascript:",
                "<a href=",
                "<math>",
                "\\",
                "_",
                "*",
                "@bob",
                "\n",
                "\n\n",
                "    ",
                "x",
                "^",
                "{",
                "}",
                "<script>",
                "&",
                "#",
                "```",
                "onerror=",
            ]
        ),
        max_size=40,
    ).map("".join)
)
def test_no_input_yields_unsanitised_html(text):
    assert_safe(render_comment(text, {"bob"}))


# --- mentions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, names",
    [
        ("thanks @alice and @bob.", {"alice", "bob"}),
        ("mail me at carol@example.org", set()),
        ("`@code` is not a mention but @dave is", {"dave"}),
        ("@e", set()),
        ("(@frank)", {"frank"}),
    ],
)
def test_mention_candidates_table(text, names):
    assert mention_candidates(text) == names


def test_mention_of_an_existing_member_links_to_their_page():
    html = render_comment("I agree with @Alice here", {"alice"})
    assert '<a href="/users/alice" class="mention" rel="nofollow ugc">@Alice</a>' in html


def test_mention_of_an_unknown_name_stays_text():
    html = render_comment("I agree with @nobody here", {"alice"})
    assert "<a" not in html and "@nobody" in html


def test_mention_inside_code_or_a_link_is_not_linked():
    html = render_comment("`@alice` and [@alice](https://example.org)", {"alice"})
    assert "/users/alice" not in html


# --- through the comment form -------------------------------------------------------------


def test_comment_with_math_and_a_mention_renders_on_the_paper_page(settings, db):
    from fastapi.testclient import TestClient

    from tests.factories import make_papers
    from tests.web.accountkit import make_app, make_user, post_form, signin

    make_papers(db, 1, id="2401.00001", title="Integrals")
    make_user(db, "alice")
    make_user(db, "bob")
    with TestClient(make_app(settings, db)) as web:
        signin(web, "alice")
        r = post_form(
            web,
            "/papers/2401.00001/comments",
            {"body": "Check $$\\int_0^1 x\\,dx$$ with @bob and @nobody"},
            token_from="/papers/2401.00001",
        )
        assert r.status_code == 303
        page = web.get("/papers/2401.00001").text
    assert "<msubsup><mo>∫</mo>" in page and "x,dx" not in page
    assert '<a href="/users/bob" class="mention"' in page
    assert "/users/nobody" not in page and "@nobody" in page
