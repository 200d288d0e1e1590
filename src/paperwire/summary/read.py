"""The key sentence a reader shows: the stored one while it is current, else the rule's.

Invariants:
- Never loads a model or vectors: a stored key sentence (chosen with the paper's vectors by
  the embedder) is used while its hash equals the paper's ``content_hash`` and its scorer
  version is the current one; otherwise the cue + position rule runs on the abstract (pure,
  tens of microseconds; bench/keysentence.py measures it).
- A paper without an abstract sentence has no key sentence (None), whatever is stored.
- The text passes through ``paperwire.stored.text`` like every other stored field.
"""

from __future__ import annotations

from functools import lru_cache

from paperwire import stored as stored_fields
from paperwire.summary.keysentence import SCORER_VERSION, KeySentence, pick

LABEL = "Key sentence (extracted from the abstract)"
# The API's ``summary_kind``: the line is a sentence of the abstract, not generated text.
KIND = "extracted"


def resolve(
    abstract: str | None,
    content_hash: str | None = None,
    key_sentence: str | None = None,
    key_sentence_hash: str | None = None,
    key_sentence_scorer: str | None = None,
) -> KeySentence | None:
    """The key sentence to show, with how it was chosen (``vectors`` or ``rule``)."""
    abstract = stored_fields.text(abstract)
    if not abstract.strip():
        return None
    text = stored_fields.text(key_sentence)
    if (
        text
        and content_hash
        and key_sentence_hash == content_hash
        and key_sentence_scorer == SCORER_VERSION
    ):
        return KeySentence(-1, text, "vectors")
    return _rule(abstract)


# The rule costs ~0.1-0.9 ms an abstract (bench/keysentence.py, loaded machine): papers not yet
# embedded are shown again and again (feed, search, feeds) until the embedder stores theirs.
@lru_cache(maxsize=4096)
def _rule(abstract: str) -> KeySentence | None:
    return pick(abstract)


def of_paper(paper) -> KeySentence | None:
    """``resolve`` for a store ``Paper`` (attributes read with getattr: rows of older code)."""
    return resolve(
        getattr(paper, "abstract", None),
        getattr(paper, "content_hash", None),
        getattr(paper, "key_sentence", None),
        getattr(paper, "key_sentence_hash", None),
        getattr(paper, "key_sentence_scorer", None),
    )


def text_of_paper(paper) -> str | None:
    chosen = of_paper(paper)
    return chosen.text if chosen else None


__all__ = ["LABEL", "KIND", "resolve", "of_paper", "text_of_paper"]
