"""The stored key sentence of papers (``papers.key_sentence*``, summary/keysentence.py).

Invariants:
- A stored key sentence is current only while its ``key_sentence_hash`` equals the paper's
  ``content_hash`` and its ``key_sentence_scorer`` the scorer version in use; readers check
  both (summary/read.py) and otherwise choose by the rule.
- Writes are plain updates by paper id: rerunning them writes the same values (idempotent);
  papers deleted meanwhile are skipped; ``modified_at`` is never touched.
- ``stale_key_sentence_ids`` lists papers that have current sentence vectors and a paper
  embedding for the model but no current key sentence, in id order (keyset pages), so a
  backfill can resume anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from paperwire.store.base import table_of
from paperwire.store.db import rowcount
from paperwire.store.models import Embedding, Paper, SentenceVectors

_CHUNK = 500


def save_key_sentences(
    session: Session, rows: Sequence[tuple[str, str, str | None]], scorer: str
) -> int:
    """Store ``(paper_id, content_hash it was chosen from, text or None)`` rows. A paper
    whose content changed since (another hash) is still written: readers see the mismatch
    and the next embedding pass writes a current one."""
    if not rows:
        return 0
    table = table_of(Paper)  # Core executemany (the ORM's bulk form wants column-named keys)
    stmt = (
        update(table)
        .where(table.c.id == bindparam("pid"))
        .values(
            key_sentence=bindparam("text"),
            key_sentence_hash=bindparam("chash"),
            key_sentence_scorer=scorer,
        )
    )
    params = [{"pid": pid, "text": text, "chash": chash} for pid, chash, text in rows]
    n = 0
    for start in range(0, len(params), _CHUNK):
        n += rowcount(session.execute(stmt, params[start : start + _CHUNK])) or 0
    return n


def stale_key_sentence_ids(
    session: Session, model_id: str, scorer: str, *, after_id: str = "", limit: int = 500
) -> list[str]:
    """Papers with current vectors (paper + sentences) but no current key sentence."""
    stmt = (
        select(Paper.id)
        .join(
            SentenceVectors,
            and_(
                SentenceVectors.paper_id == Paper.id,
                SentenceVectors.model == model_id,
                SentenceVectors.content_hash == Paper.content_hash,
            ),
        )
        .join(
            Embedding,
            and_(
                Embedding.paper_id == Paper.id,
                Embedding.model == model_id,
                Embedding.content_hash == Paper.content_hash,
            ),
        )
        .where(Paper.id > after_id)
        .where(
            or_(
                Paper.key_sentence_hash.is_(None),
                Paper.key_sentence_hash != Paper.content_hash,
                Paper.key_sentence_scorer.is_(None),
                Paper.key_sentence_scorer != scorer,
            )
        )
        .order_by(Paper.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def papers_text(session: Session, ids: Sequence[str]) -> dict[str, tuple[str, str, str]]:
    """(title, abstract, content_hash) of these papers."""
    out: dict[str, tuple[str, str, str]] = {}
    ids = list(ids)
    for start in range(0, len(ids), _CHUNK):
        for pid, title, abstract, chash in session.execute(
            select(Paper.id, Paper.title, Paper.abstract, Paper.content_hash).where(
                Paper.id.in_(ids[start : start + _CHUNK])
            )
        ):
            out[pid] = (title or "", abstract or "", chash)
    return out


__all__ = ["save_key_sentences", "stale_key_sentence_ids", "papers_text"]
