"""LaTeX in titles and abstracts rendered server-side to MathML (no JavaScript, no third-party
assets): ``scE$^2$TM`` becomes ``scE<math>...</math>TM``.

Invariants:
- The result is always safe HTML: text outside math is escaped, and math is either MathML
  produced by latex2mathml from the escaped-free LaTeX (it emits only MathML elements and
  escapes text nodes) or, when conversion fails, the original ``$...$`` escaped as text.
- ``\\$`` is a literal dollar, not a delimiter; an unmatched ``$`` stays as text.
- Results are cached: titles repeat on every page view.
"""

from __future__ import annotations

import re
from functools import lru_cache

from markupsafe import Markup, escape

# $$...$$ (display) or $...$ (inline); content may not be empty and may not contain an
# unescaped $. \$ outside math is a literal dollar.
_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$((?:\\\$|[^$])+?)(?<!\\)\$", re.S)
_MAX_MATH_LEN = 2000


def _convert(latex: str, display: bool) -> str | None:
    if len(latex) > _MAX_MATH_LEN:
        return None
    try:
        from latex2mathml.converter import convert

        return convert(latex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - any parser failure falls back to the escaped source
        return None


@lru_cache(maxsize=20000)
def _render(text: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _MATH.finditer(text):
        out.append(str(escape(text[pos:m.start()].replace("\\$", "$"))))
        display = m.group(1) is not None
        latex = (m.group(1) if display else m.group(2)).strip()
        mathml = _convert(latex, display) if latex else None
        out.append(mathml if mathml is not None else str(escape(m.group(0))))
        pos = m.end()
    out.append(str(escape(text[pos:].replace("\\$", "$"))))
    return "".join(out)


def render_math(text: str | None) -> Markup:
    """HTML for ``text`` with its ``$...$`` math as MathML (see module invariants)."""
    if not text:
        return Markup("")
    if "$" not in text:
        return escape(text)
    return Markup(_render(text))


def plain_text(text: str | None) -> str:
    """The text with math delimiters removed, for places that cannot show markup (Atom titles,
    ``<title>``, emails' subject lines)."""
    if not text:
        return ""
    return _MATH.sub(lambda m: (m.group(1) or m.group(2) or "").strip(), text).replace("\\$", "$")
