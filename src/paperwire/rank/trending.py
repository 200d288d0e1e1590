"""The trending score: votes (and discussion) that decay with the time a paper has been on
the feed.

    score = (1 + upvotes + COMMENT_WEIGHT * num_comments) / (age_hours + AGE_OFFSET_HOURS) ** gravity

- ``age_hours`` is the time since the paper was put on the feed (its feed entry's
  ``submitted_at``), not since publication: an old paper someone rediscovers gets its chance.
- The ``1 +`` gives a paper nobody voted for yet a small, decaying score, so new arrivals
  are ordered by freshness instead of all tying at zero.
- ``AGE_OFFSET_HOURS`` (2) keeps brand-new papers from dividing by ~0 and jumping to the top
  with a single vote.
- ``gravity`` (default 1.8, as on Hacker News) sets how fast the score decays: a paper must
  keep collecting votes to stay up; with gravity 1.8 a day-old paper needs about 9x the votes
  of a 6-hour-old one to rank level with it.

Invariants (tested): the score is positive, strictly increasing in upvotes and in comments,
strictly decreasing in age, and larger gravity means faster decay. Negative inputs (clock skew,
bad data) are clamped to zero rather than producing nonsense.
"""

from __future__ import annotations

import math

COMMENT_WEIGHT = 0.5
AGE_OFFSET_HOURS = 2.0
DEFAULT_GRAVITY = 1.8


def trending_score(
    upvotes: int, num_comments: int, age_hours: float, *, gravity: float = DEFAULT_GRAVITY
) -> float:
    """Time-decayed score of a paper on the feed (see the module docstring for the formula)."""
    if gravity <= 0 or not math.isfinite(gravity):
        raise ValueError(f"gravity must be a positive number, got {gravity!r}")
    votes = max(0, int(upvotes))
    comments = max(0, int(num_comments))
    age = age_hours if math.isfinite(age_hours) and age_hours > 0 else 0.0
    return (1.0 + votes + COMMENT_WEIGHT * comments) / (age + AGE_OFFSET_HOURS) ** gravity
