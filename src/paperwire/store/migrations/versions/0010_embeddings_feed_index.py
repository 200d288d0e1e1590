"""embeddings feed index: (model, created_at, paper_id) replaces the index on created_at

Every semantic index refresh reads the embeddings stored since its watermark, by the key
(created_at, paper_id) of one model. With only ``created_at`` indexed, SQLite scanned the
whole index from its start for that read (a second per refresh tick at 1M embeddings) and
re-sorted every page of a group of rows with one timestamp. The composite index serves the
range seek, the model filter and the order at once.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 19:00:00
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_embeddings_model_created_at",
        "embeddings",
        ["model", "created_at", "paper_id"],
        unique=False,
    )
    op.drop_index("ix_embeddings_created_at", table_name="embeddings")


def downgrade() -> None:
    op.create_index("ix_embeddings_created_at", "embeddings", ["created_at"], unique=False)
    op.drop_index("ix_embeddings_model_created_at", table_name="embeddings")
