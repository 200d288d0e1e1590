"""member recommendations: each member's precomputed "For you" list (issue 13 B)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "member_recommendations",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason_kind", sa.String(length=16), nullable=False),
        sa.Column("reason_label", sa.Text(), nullable=False),
        sa.Column("reason_paper_id", sa.String(length=64), nullable=True),
        sa.Column("signature", sa.String(length=40), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_member_recommendations_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_member_recommendations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "rank", name=op.f("pk_member_recommendations")),
    )
    op.create_index(
        op.f("ix_member_recommendations_paper_id"),
        "member_recommendations",
        ["paper_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_member_recommendations_paper_id"), table_name="member_recommendations")
    op.drop_table("member_recommendations")
