"""key sentence: the abstract sentence chosen as a paper's one-line summary (issue 14 C)

Three nullable columns on ``papers``; rows stored before this revision get their key sentence
from the embedder's backfill pass (summary/refresh.py) and, until then, readers choose one by
the cue + position rule (no vectors), so nothing is missing meanwhile.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("papers", sa.Column("key_sentence", sa.Text(), nullable=True))
    op.add_column("papers", sa.Column("key_sentence_hash", sa.String(length=40), nullable=True))
    op.add_column("papers", sa.Column("key_sentence_scorer", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("papers") as batch:
        batch.drop_column("key_sentence_scorer")
        batch.drop_column("key_sentence_hash")
        batch.drop_column("key_sentence")
