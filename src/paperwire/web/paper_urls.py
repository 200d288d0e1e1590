"""Where a typed or pasted paper reference leads: ``/papers/0704.0053v2``,
``/papers/arXiv:0704.0053``, ``/papers/https://arxiv.org/abs/0704.0053v2`` and the same
pasted into search all go to ``/papers/0704.0053`` (pure functions over
``ingest.arxiv_ids``).

Invariants: ``canonical_id(raw)`` is None for a canonical id (nothing to redirect: no loop)
and for anything that is not an arXiv reference (``seed:...`` ids, words); otherwise it is
the id without version that ``normalize_arxiv_id`` gives, which ``canonical_id`` maps to None.
"""

from __future__ import annotations

from urllib.parse import quote

from paperwire.errors import BadInput
from paperwire.ingest.arxiv_ids import normalize_arxiv_id


def arxiv_id(raw: str | None) -> str | None:
    """The canonical arXiv id ``raw`` names (any accepted form), or None."""
    text = (raw or "").strip()
    if not text or len(text) > 300:
        return None
    try:
        pid, _version = normalize_arxiv_id(text)
    except BadInput:
        return None
    return pid


def canonical_id(raw: str | None) -> str | None:
    """The id to redirect ``raw`` to, or None when ``raw`` is canonical or not arXiv."""
    pid = arxiv_id(raw)
    return pid if pid is not None and pid != (raw or "") else None


def paper_path(pid: str, suffix: str = "") -> str:
    return "/papers/" + quote(pid, safe="/:") + suffix


def search_target(q: str | None) -> str | None:
    """A search box holding nothing but a paper reference (id, versioned id, arXiv: id or an
    arxiv.org URL) goes to that paper's page; any other query is a search (None)."""
    pid = arxiv_id(q)
    return paper_path(pid) if pid is not None else None
