"""LaTeX made readable as plain Unicode text: for emails, and for page titles and meta tags.

Why not MathML, as the web pages do: Gmail and Outlook strip MathML, so ``scE$^2$TM`` would
show as ``scE2TM``. ``scE²TM`` reads right in every client, plain text parts included.

Invariant: never raises; anything it does not know stays as the LaTeX source minus ``$``.
"""

from __future__ import annotations

import re
from functools import lru_cache

_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$((?:\\\$|[^$])+?)(?<!\\)\$", re.S)

_SYMBOLS = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "vartheta": "ϑ",
    "iota": "ι",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "pi": "π",
    "rho": "ρ",
    "sigma": "σ",
    "tau": "τ",
    "upsilon": "υ",
    "phi": "φ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Xi": "Ξ",
    "Pi": "Π",
    "Sigma": "Σ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
    "times": "×",
    "cdot": "·",
    "pm": "±",
    "mp": "∓",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "neq": "≠",
    "ne": "≠",
    "approx": "≈",
    "sim": "∼",
    "simeq": "≃",
    "equiv": "≡",
    "infty": "∞",
    "partial": "∂",
    "nabla": "∇",
    "sum": "∑",
    "prod": "∏",
    "int": "∫",
    "to": "→",
    "rightarrow": "→",
    "leftarrow": "←",
    "Rightarrow": "⇒",
    "leftrightarrow": "↔",
    "in": "∈",
    "notin": "∉",
    "subset": "⊂",
    "subseteq": "⊆",
    "cup": "∪",
    "cap": "∩",
    "forall": "∀",
    "exists": "∃",
    "ell": "ℓ",
    "hbar": "ℏ",
    "circ": "∘",
    "star": "⋆",
    "langle": "⟨",
    "rangle": "⟩",
    "ldots": "…",
    "cdots": "⋯",
    "dots": "…",
    "prime": "′",
    "log": "log",
    "exp": "exp",
    "sin": "sin",
    "cos": "cos",
    "max": "max",
    "min": "min",
    "%": "%",
    "&": "&",
    "_": "_",
    "#": "#",
    "{": "{",
    "}": "}",
    ",": " ",
    ";": " ",
    "!": "",
    " ": " ",
    "quad": " ",
    "qquad": "  ",
}
_SUP = dict(zip("0123456789+-=()niαβγ", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵅᵝᵞ"))
_SUB = dict(zip("0123456789+-=()aeijkmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₘₙₒₚᵣₛₜᵤᵥₓ"))
_STYLE = (
    "mathrm",
    "mathbf",
    "mathit",
    "mathsf",
    "mathtt",
    "mathcal",
    "mathbb",
    "text",
    "textrm",
    "textbf",
    "textit",
    "operatorname",
    "boldsymbol",
    "bm",
    "emph",
    "mbox",
)


# A TeX command: a backslash and a name, or a backslash and one other character.
_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.S)


def _group(s: str, i: int) -> tuple[str, int]:
    """The argument at s[i]: a {...} group or one character/command; returns (text, end)."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s):
        return "", i
    if s[i] == "{":
        depth, j = 0, i
        while j < len(s):
            if s[j] == "{":
                depth += 1
            elif s[j] == "}":
                depth -= 1
                if depth == 0:
                    return s[i + 1 : j], j + 1
            j += 1
        return s[i + 1 :], len(s)
    if s[i] == "\\":
        m = _COMMAND.match(s, i)
        if m is None:  # a lone backslash at the very end
            return s[i], i + 1
        return m.group(0), i + len(m.group(0))
    return s[i], i + 1


def _script(text: str, table: dict[str, str], mark: str) -> str:
    inner = _convert(text)
    if inner and all(ch in table for ch in inner):
        return "".join(table[ch] for ch in inner)
    return f"{mark}{inner}" if len(inner) == 1 else f"{mark}({inner})"


def _convert(s: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch == "\\":
            m = _COMMAND.match(s, i)
            if m is None:  # a lone backslash at the very end stays as it is
                out.append(ch)
                i += 1
                continue
            name = m.group(1)
            i += len(m.group(0))
            if name in _STYLE:
                arg, i = _group(s, i)
                out.append(_convert(arg))
            elif name == "frac":
                a, i = _group(s, i)
                b, i = _group(s, i)
                a, b = _convert(a), _convert(b)
                out.append(f"{a}/{b}" if len(a) <= 1 and len(b) <= 1 else f"({a})/({b})")
            elif name == "sqrt":
                a, i = _group(s, i)
                a = _convert(a)
                out.append(f"√{a}" if len(a) <= 1 else f"√({a})")
            elif name in ("left", "right", "big", "Big", "bigl", "bigr"):
                continue
            else:
                out.append(_SYMBOLS.get(name, name))
        elif ch in "^_":
            arg, i = _group(s, i + 1)
            out.append(_script(arg, _SUP if ch == "^" else _SUB, ch))
        elif ch in "{}":
            i += 1
        elif ch == "~":
            out.append(" ")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


@lru_cache(maxsize=20000)
def readable(text: str | None) -> str:
    """``text`` with each ``$...$`` replaced by a Unicode rendering of its LaTeX."""
    if not text:
        return ""
    if "$" not in text and "\\" not in text:
        return text
    try:
        out = _MATH.sub(lambda m: _convert((m.group(1) or m.group(2) or "").strip()), text)
    except Exception:  # noqa: BLE001 - a title must never stop a digest
        out = _MATH.sub(lambda m: m.group(1) or m.group(2) or "", text)
    return out.replace("\\$", "$")
