"""The table of precomputed recommendations (issue 13 B).

Invariants:
- Private to the member (``user_id``): read only for that member (their For you page, their
  token's API answer, their digest, and operators' ``paperwire recommend``), removed with the
  account (store/users.py) and by the cascade.
- Derived data: a member's rows are replaced as a whole (delete, then insert, in one
  transaction) by the nightly job or by a live computation; ``signature`` is a hash of the
  member's signals and of the candidate window the rows were computed from, so a reader knows
  whether they still hold (a new save or "not interested" changes it).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from paperwire.store.models import Base, utcnow


class MemberRecommendation(Base):
    __tablename__ = "member_recommendations"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[str] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    score: Mapped[float] = mapped_column(Float)
    reason_kind: Mapped[str] = mapped_column(String(16))
    reason_label: Mapped[str] = mapped_column(Text)
    reason_paper_id: Mapped[str | None] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(40))
    computed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
