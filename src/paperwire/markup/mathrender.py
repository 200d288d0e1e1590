"""LaTeX in titles and abstracts rendered server-side to MathML (no JavaScript, no third-party
assets): ``scE$^2$TM`` becomes ``scE<math>...</math>TM``.

Invariants:
- The result is always safe HTML: text outside math is escaped, and math is either MathML
  from latex2mathml that passed an allowlist of presentation-MathML elements and attributes
  (re-serialized by lxml, so text nodes are escaped) or, when conversion fails or produces
  anything else, the original ``$...$`` escaped as text.
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


_MATHML_NS = "http://www.w3.org/1998/Math/MathML"
# Presentation MathML only; anything else in the converter's output (it copies \text{...}
# content verbatim, and supports \href) means: show the LaTeX source as text instead.
_ELEMENTS = frozenset(
    """math mrow mi mn mo ms mtext mspace msup msub msubsup mover munder
    munderover mfrac msqrt mroot mstyle merror mpadded mphantom mfenced menclose mtable mtr
    mtd mlabeledtr maligngroup malignmark semantics annotation mmultiscripts mprescripts
    none""".split()
)
_ATTRIBUTES = frozenset(
    """display mathvariant stretchy fence form separator lspace rspace
    accent accentunder movablelimits largeop symmetric minsize maxsize width height depth
    linethickness columnalign rowalign columnspacing rowspacing columnlines rowlines frame
    framespacing notation displaystyle scriptlevel align bevelled numalign denomalign
    rowspan columnspan open close separators mathsize mathcolor class encoding""".split()
)


def _is_safe_mathml(markup: str) -> str | None:
    """Re-serialized markup when every element and attribute is allowed, else None."""
    from lxml import etree

    try:
        root = etree.fromstring(
            markup.encode("utf-8"), parser=etree.XMLParser(resolve_entities=False, no_network=True)
        )
    except etree.XMLSyntaxError:
        return None
    for el in root.iter():
        if not isinstance(el.tag, str):
            return None  # comments, processing instructions
        ns, _, name = el.tag.rpartition("}")
        if ns.lstrip("{") != _MATHML_NS or name not in _ELEMENTS:
            return None
        for attr, value in el.attrib.items():
            if attr not in _ATTRIBUTES or ":" in value:
                return None
        # An unknown command comes back as its own name (<mi>\foo</mi>): show the source.
        if el.text and el.text.lstrip().startswith("\\"):
            return None
    return etree.tostring(root, encoding="unicode")


# Blackboard-bold shorthands that arXiv authors define in their preambles (\Q, \R, ...):
# common enough in titles and abstracts to be worth expanding.
_SHORTHANDS = re.compile(r"\\(N|Z|Q|R|C|F|P|E)(?![A-Za-z])")


def _convert(latex: str, display: bool) -> str | None:
    if len(latex) > _MAX_MATH_LEN:
        return None
    latex = _SHORTHANDS.sub(lambda m: "\\mathbb{" + m.group(1) + "}", latex)
    try:
        from latex2mathml.converter import convert

        markup = convert(latex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - any parser failure falls back to the escaped source
        return None
    return _is_safe_mathml(markup)


@lru_cache(maxsize=20000)
def _render(text: str) -> str:
    out: list[str] = []
    pos = 0
    for m in _MATH.finditer(text):
        out.append(str(escape(text[pos : m.start()].replace("\\$", "$"))))
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


def readable_text(text: str | None) -> str:
    """The text with its math written as readable Unicode (``scE$^2$TM`` -> ``scE²TM``,
    ``$\\alpha$`` -> ``α``), for ``<title>`` and meta descriptions, where markup cannot show
    and raw LaTeX reads badly. Never raises (``mathtext.readable``)."""
    if not text:
        return ""
    if "$" not in text:
        return text
    from paperwire.markup.mathtext import readable

    return readable(text)


_MARK_SPLIT = re.compile(r"(</?mark>)")


@lru_cache(maxsize=20000)
def _render_marked(marked: str) -> str:
    # Back to plain text plus the marked character spans: whatever the input holds besides
    # <mark> tags is unescaped here and escaped again below, so nothing in it becomes markup.
    import html

    text_parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos, opened = 0, None
    for part in _MARK_SPLIT.split(marked):
        if part == "<mark>":
            opened = pos if opened is None else opened
        elif part == "</mark>":
            if opened is not None and pos > opened:
                spans.append((opened, pos))
            opened = None
        elif part:
            plain = html.unescape(part)
            text_parts.append(plain)
            pos += len(plain)
    if opened is not None and pos > opened:
        spans.append((opened, pos))
    text = "".join(text_parts)

    def marked_text(start: int, end: int) -> str:
        out, at = [], start
        for s, e in spans:
            s, e = max(s, start), min(e, end)
            if s >= e:
                continue
            out.append(str(escape(text[at:s].replace("\\$", "$"))))
            out.append("<mark>" + str(escape(text[s:e].replace("\\$", "$"))) + "</mark>")
            at = e
        out.append(str(escape(text[at:end].replace("\\$", "$"))))
        return "".join(out)

    out: list[str] = []
    pos = 0
    for m in _MATH.finditer(text):
        out.append(marked_text(pos, m.start()))
        display = m.group(1) is not None
        latex = (m.group(1) if display else m.group(2)).strip()
        mathml = _convert(latex, display) if latex else None
        if mathml is None:
            out.append(marked_text(m.start(), m.end()))  # the source, with its marks
        elif any(s < m.end() and e > m.start() for s, e in spans):
            # A match inside a formula marks the whole formula (MathML cannot hold <mark>).
            out.append("<mark>" + mathml + "</mark>")
        else:
            out.append(mathml)
        pos = m.end()
    out.append(marked_text(pos, len(text)))
    return "".join(out)


def render_marked_math(marked: str | None) -> Markup:
    """Highlighted search text (escaped text whose only markup is ``<mark>``, as the search
    service makes titles and snippets) with its ``$...$`` math rendered to MathML.

    Invariants: the output's only markup is ``<mark>`` and allowlisted MathML (the input is
    unescaped and escaped again, so any other tag in it shows as text); the visible text and
    the marked words are those of the input; a mark touching a formula marks the whole
    formula; an unmatched ``$`` (a snippet cut inside math) stays as text."""
    if not marked:
        return Markup("")
    if (
        "$" not in marked
        and "&" not in marked
        and "<" not in marked.replace("<mark>", "").replace("</mark>", "")
    ):
        return Markup(marked)
    return Markup(_render_marked(marked))
