"""LaTeX -> MathML rendering of titles and abstracts (pure; no database)."""

from __future__ import annotations

import pytest

from paperwire.markup.mathrender import plain_text, render_marked_math, render_math


@pytest.mark.parametrize(
    "text,expected_parts",
    [
        ("scE$^2$TM", ["scE<math", "<msup>", "<mn>2</mn>", "</math>TM"]),
        ("$\\alpha$-divergence", ["<mi>α</mi>", "</math>-divergence"]),
        ("$$E = mc^2$$", ['display="block"']),
        ("cost \\$5 and $x$", ["cost $5 and <math"]),
        ("over $\\Q(\\sqrt{5})$", ["<mi>ℚ</mi>", "<msqrt>"]),  # preamble shorthand
    ],
)
def test_math_is_rendered_as_mathml(text, expected_parts):
    html = str(render_math(text))
    for part in expected_parts:
        assert part in html, html


@pytest.mark.parametrize(
    "text",
    [
        "<script>alert(1)</script> $x$",
        "$x$ <img src=x onerror=alert(1)>",
        "$\\text{<script>alert(1)</script>}$",
        "$\\href{javascript:alert(1)}{x}$",
    ],
)
def test_output_is_always_safe(text):
    html = str(render_math(text))
    assert "<script" not in html and "<img" not in html and "href=" not in html


@pytest.mark.parametrize(
    "text",
    ["a $ b", "$\\frac{1}{$", "$\\undefinedcommand{x}$", "unmatched $x", "$" + "x" * 3000 + "$"],
)
def test_malformed_math_falls_back_to_escaped_text(text):
    html = str(render_math(text))
    assert "$" in html  # kept as text, nothing lost


def test_no_math_is_plain_escaping():
    assert str(render_math("a < b & c")) == "a &lt; b &amp; c"
    assert str(render_math(None)) == ""


@pytest.mark.parametrize(
    "text,plain",
    [("scE$^2$TM", "scE^2TM"), ("no math", "no math"), ("a \\$5 fee", "a $5 fee"), ("", "")],
)
def test_plain_text_drops_delimiters(text, plain):
    assert plain_text(text) == plain


# Highlighted search titles/snippets (escaped text whose only markup is <mark>) with math.
@pytest.mark.parametrize(
    "marked,expected_parts,absent",
    [
        # A mark outside the formula stays where it was; the formula becomes MathML.
        ("<mark>scE</mark>$^2$TM", ["<mark>scE</mark><math", "<msup>", "</math>TM"], ["$"]),
        # A mark inside a formula marks the whole formula (MathML cannot hold <mark>).
        ("over $<mark>x</mark>^2$ here", ["over <mark><math", "</math></mark> here"], ["$"]),
        # Escaped text stays escaped; the entities are not double-escaped.
        (
            "a &lt;b&gt; &amp; <mark>c</mark> $x$",
            ["a &lt;b&gt; &amp; <mark>c</mark> <math"],
            ["&amp;lt;", "<b>"],
        ),
        # A snippet cut inside math: the lone $ is text, the marks survive.
        ("…ends with $\\alpha <mark>seq</mark>", ["$\\alpha <mark>seq</mark>"], ["<math"]),
        # Malformed math falls back to its source, marks kept.
        (
            "$\\undefinedcommand{<mark>a</mark>}$ b",
            ["$\\undefinedcommand{<mark>a</mark>}$ b"],
            ["<math"],
        ),
        ("no math, <mark>just</mark> marks", ["no math, <mark>just</mark> marks"], []),
    ],
)
def test_marked_text_gets_math_and_keeps_its_marks(marked, expected_parts, absent):
    html = str(render_marked_math(marked))
    for part in expected_parts:
        assert part in html, html
    for part in absent:
        assert part not in html, html


@pytest.mark.parametrize(
    "marked",
    [
        "<script>alert(1)</script> <mark>x</mark> $y$",
        "<mark><img src=x onerror=alert(1)></mark> $y$",
        "$\\text{<script>alert(1)</script>}$ <mark>z</mark>",
        "<mark>a</mark><b onclick=alert(1)>b</b>",
    ],
)
def test_marked_math_lets_no_other_markup_through(marked):
    """Only <mark> and MathML are markup; any other tag in the input shows as text."""
    html = str(render_marked_math(marked))
    assert "<script" not in html and "<img" not in html and "<b " not in html
    stripped = html.replace("<mark>", "").replace("</mark>", "")
    import re

    assert set(re.findall(r"<(/?[a-z]+)", stripped)) <= {
        "math",
        "/math",
        "mrow",
        "/mrow",
        "mi",
        "/mi",
        "mn",
        "/mn",
        "mo",
        "/mo",
        "msup",
        "/msup",
        "mtext",
        "/mtext",
    }
