"""library: saved papers, lists, follows, feedback, topics, pending imports

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 03:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "followed_topics",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("query", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_followed_topics_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_followed_topics")),
        sa.UniqueConstraint("user_id", "query", name="uq_followed_topics_user_query"),
    )
    with op.batch_alter_table("followed_topics", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_followed_topics_user_id"), ["user_id"], unique=False)

    op.create_table(
        "paper_feedback",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_paper_feedback_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_paper_feedback_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "paper_id", name=op.f("pk_paper_feedback")),
    )
    with op.batch_alter_table("paper_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_feedback_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "paper_lists",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_paper_lists_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_lists")),
        sa.UniqueConstraint("user_id", "name", name="uq_paper_lists_user_name"),
    )
    with op.batch_alter_table("paper_lists", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_lists_user_id"), ["user_id"], unique=False)

    op.create_table(
        "saved_papers",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_saved_papers_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_saved_papers_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "paper_id", name=op.f("pk_saved_papers")),
    )
    with op.batch_alter_table("saved_papers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_papers_paper_id"), ["paper_id"], unique=False)
        batch_op.create_index(
            "ix_saved_papers_user_created", ["user_id", "created_at"], unique=False
        )

    op.create_table(
        "list_follows",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["paper_lists.id"],
            name=op.f("fk_list_follows_list_id_paper_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_list_follows_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "list_id", name=op.f("pk_list_follows")),
    )
    with op.batch_alter_table("list_follows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_list_follows_list_id"), ["list_id"], unique=False)

    op.create_table(
        "list_items",
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("paper_id", sa.String(length=64), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["paper_lists.id"],
            name=op.f("fk_list_items_list_id_paper_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_list_items_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("list_id", "paper_id", name=op.f("pk_list_items")),
    )
    with op.batch_alter_table("list_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_list_items_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "pending_imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("arxiv_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tried_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["paper_lists.id"],
            name=op.f("fk_pending_imports_list_id_paper_lists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_imports")),
        sa.UniqueConstraint("list_id", "arxiv_id", name="uq_pending_imports_list_arxiv"),
    )
    with op.batch_alter_table("pending_imports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pending_imports_list_id"), ["list_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pending_imports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pending_imports_list_id"))

    op.drop_table("pending_imports")
    with op.batch_alter_table("list_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_list_items_paper_id"))

    op.drop_table("list_items")
    with op.batch_alter_table("list_follows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_list_follows_list_id"))

    op.drop_table("list_follows")
    with op.batch_alter_table("saved_papers", schema=None) as batch_op:
        batch_op.drop_index("ix_saved_papers_user_created")
        batch_op.drop_index(batch_op.f("ix_saved_papers_paper_id"))

    op.drop_table("saved_papers")
    with op.batch_alter_table("paper_lists", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_lists_user_id"))

    op.drop_table("paper_lists")
    with op.batch_alter_table("paper_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_feedback_paper_id"))

    op.drop_table("paper_feedback")
    with op.batch_alter_table("followed_topics", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_followed_topics_user_id"))

    op.drop_table("followed_topics")
