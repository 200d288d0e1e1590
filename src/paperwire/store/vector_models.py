"""Tables of the stored embeddings: one paper vector and the packed sentence vectors per
paper, shared by every process through the database.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from paperwire.store.base import Base, utcnow


class Embedding(Base):
    """A paper's embedding, shared by every process through the database.

    ``content_hash`` is the paper's hash when it was embedded: a mismatch means re-embed.
    """

    __tablename__ = "embeddings"
    # The change feed's key, per model (store.embeddings.embeddings_since seeks it; migration
    # 0010 replaced an index on created_at alone).
    __table_args__ = (Index("ix_embeddings_model_created_at", "model", "created_at", "paper_id"),)

    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(128))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class SentenceVectors(Base):
    """The "Title. Sentence" vectors of a paper's abstract sentences, packed in one row.

    ``vectors`` is ``count`` x ``dim`` int8 (unit vectors x 127, like the ANN index), in
    sentence order. Written in the same transaction as the paper's ``embeddings`` row; a
    ``model`` or ``content_hash`` mismatch means re-embed. Read only for the ~200 candidates
    of a query, never loaded whole.
    """

    __tablename__ = "sentence_vectors"

    paper_id: Mapped[str] = mapped_column(
        ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(128))
    dim: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    vectors: Mapped[bytes] = mapped_column(LargeBinary)
    content_hash: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


# The tables the foreign keys above name, whichever module is imported first.
import paperwire.store.models  # noqa: E402,F401
