"""Index outbox rows by recipient and time, for the per-sender limit on automatic replies.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_rcpt_created", "outbox", ["rcpt_to", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_outbox_rcpt_created", table_name="outbox")
