"""unlink subscriptions from accounts: links made before 0003 were never proven (issue 12, D1)

Before this revision an account was linked to a subscription when its holder typed an address
while signed in, without proof that they read it, so an account could reach someone else's
digest preferences. Which of the old links were honest cannot be told apart, so all are
removed; a member links again by following a confirmation link mailed to the address while
signed in (services/subscriptions.py). Subscriptions themselves, their status and topics are
kept, and mail goes on as before.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 02:30:00
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("UPDATE subscriptions SET user_id = NULL WHERE user_id IS NOT NULL")


def downgrade() -> None:
    pass  # the unproven links are not restored
