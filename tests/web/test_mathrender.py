"""LaTeX -> MathML rendering of titles and abstracts (pure; no database)."""

from __future__ import annotations

import pytest

from paperwire.web.mathrender import plain_text, render_math


@pytest.mark.parametrize("text,expected_parts", [
    ("scE$^2$TM", ["scE<math", "<msup>", "<mn>2</mn>", "</math>TM"]),
    ("$\\alpha$-divergence", ["<mi>α</mi>", "</math>-divergence"]),
    ("$$E = mc^2$$", ['display="block"']),
    ("cost \\$5 and $x$", ["cost $5 and <math"]),
    ("over $\\Q(\\sqrt{5})$", ["<mi>ℚ</mi>", "<msqrt>"]),  # preamble shorthand
])
def test_math_is_rendered_as_mathml(text, expected_parts):
    html = str(render_math(text))
    for part in expected_parts:
        assert part in html, html


@pytest.mark.parametrize("text", [
    "<script>alert(1)</script> $x$",
    "$x$ <img src=x onerror=alert(1)>",
    "$\\text{<script>alert(1)</script>}$",
    "$\\href{javascript:alert(1)}{x}$",
])
def test_output_is_always_safe(text):
    html = str(render_math(text))
    assert "<script" not in html and "<img" not in html and "href=" not in html


@pytest.mark.parametrize("text", ["a $ b", "$\\frac{1}{$", "$\\undefinedcommand{x}$",
                                  "unmatched $x", "$" + "x" * 3000 + "$"])
def test_malformed_math_falls_back_to_escaped_text(text):
    html = str(render_math(text))
    assert "$" in html  # kept as text, nothing lost


def test_no_math_is_plain_escaping():
    assert str(render_math("a < b & c")) == "a &lt; b &amp; c"
    assert str(render_math(None)) == ""


@pytest.mark.parametrize("text,plain", [("scE$^2$TM", "scE^2TM"), ("no math", "no math"),
                                        ("a \\$5 fee", "a $5 fee"), ("", "")])
def test_plain_text_drops_delimiters(text, plain):
    assert plain_text(text) == plain
