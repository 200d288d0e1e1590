"""Field weights of the BM25 sum, shared by the tantivy query (compiler.py) and the Python
scorer of not-yet-indexed papers (scoring.py).

Invariant: both sides read them here at call time (``weights.TITLE_BOOST``, never a copy
bound at import), so the two scorers always agree, also while bench/relevance.py tunes
``TITLE_BOOST`` by assigning it.
"""

from __future__ import annotations

# tantivy scores each field with BM25 (k1=1.2, b=0.75); the boosts weight the fields' sum.
TITLE_BOOST = 0.25  # extra weight of title matches on top of the body (tuned, SciFact train)
BODY_BOOST = 1.0
AUTHOR_BOOST = 1.0
PHRASE_BOOST = 1.0
# Constant score of a prefix-only match (the word starts with the query word): small, so
# exact (stemmed) matches always rank above papers matched only through a prefix.
PREFIX_SCORE = 0.3
