"""authors: paper_authors (normalised author names, backfilled), author_follows, author_claims

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 03:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_authors",
        sa.Column("paper_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("strict_key", sa.String(length=255), nullable=False),
        sa.Column("loose_key", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["papers.id"],
            name=op.f("fk_paper_authors_paper_id_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("paper_id", "position", name=op.f("pk_paper_authors")),
    )
    op.create_index("ix_paper_authors_strict_key", "paper_authors", ["strict_key"], unique=False)
    op.create_index("ix_paper_authors_loose_key", "paper_authors", ["loose_key"], unique=False)
    op.create_table(
        "author_follows",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("strict_key", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_author_follows_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "strict_key", name=op.f("pk_author_follows")),
    )
    op.create_table(
        "author_claims",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("strict_key", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["users.id"],
            name=op.f("fk_author_claims_decided_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_author_claims_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_author_claims")),
    )
    op.create_index(op.f("ix_author_claims_status"), "author_claims", ["status"], unique=False)
    op.create_index(
        op.f("ix_author_claims_strict_key"), "author_claims", ["strict_key"], unique=False
    )
    op.create_index(op.f("ix_author_claims_user_id"), "author_claims", ["user_id"], unique=False)
    _backfill()


def _backfill() -> None:
    """paper_authors for every stored paper, in id order and batches (constant memory)."""
    from paperwire.store.authors import author_rows

    conn = op.get_bind()
    papers = sa.table("papers", sa.column("id", sa.String), sa.column("authors", sa.JSON))
    target = sa.table(
        "paper_authors",
        sa.column("paper_id"),
        sa.column("position"),
        sa.column("name"),
        sa.column("strict_key"),
        sa.column("loose_key"),
    )
    last = ""
    while True:
        batch = conn.execute(
            sa.select(papers.c.id, papers.c.authors)
            .where(papers.c.id > last)
            .order_by(papers.c.id)
            .limit(2000)
        ).all()
        if not batch:
            return
        rows = [
            dict(zip(("paper_id", "position", "name", "strict_key", "loose_key"), row))
            for pid, authors in batch
            for row in author_rows(pid, authors)
        ]
        if rows:
            conn.execute(sa.insert(target), rows)
        last = batch[-1][0]


def downgrade() -> None:
    op.drop_index(op.f("ix_author_claims_user_id"), table_name="author_claims")
    op.drop_index(op.f("ix_author_claims_strict_key"), table_name="author_claims")
    op.drop_index(op.f("ix_author_claims_status"), table_name="author_claims")
    op.drop_table("author_claims")
    op.drop_table("author_follows")
    op.drop_index("ix_paper_authors_loose_key", table_name="paper_authors")
    op.drop_index("ix_paper_authors_strict_key", table_name="paper_authors")
    op.drop_table("paper_authors")
