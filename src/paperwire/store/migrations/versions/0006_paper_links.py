"""paper links: code, models, datasets, demos, project pages and videos of a paper (issue 14)

Only the table: links of papers stored before this revision come from
``paperwire links backfill`` (idempotent, with a progress bar), which a migration run on every
start should not do for a million papers.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 03:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("paper_id", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("added_by", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["added_by"],
            ["users.id"],
            name=op.f("fk_paper_links_added_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_paper_links_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_links")),
        sa.UniqueConstraint("paper_id", "url", name="uq_paper_links_paper_id"),
    )
    op.create_index("ix_paper_links_status", "paper_links", ["status", "created_at"], unique=False)
    op.create_index(op.f("ix_paper_links_added_by"), "paper_links", ["added_by"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_paper_links_added_by"), table_name="paper_links")
    op.drop_index("ix_paper_links_status", table_name="paper_links")
    op.drop_table("paper_links")
