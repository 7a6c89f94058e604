"""The dispatcher's claim index: queued rows by channel in the order they fell due.

The claim took the oldest due rows by id, so every claim gathered and sorted the whole backlog of
due rows (22 ms a claim on SQLite with 16,000 waiting after a relay outage; the server's sort grew
likewise on PostgreSQL). Ordered by the time they fell due, the claim stops after its batch. The
old (status, next_attempt_at) index is this one's prefix minus the channel; the health queries'
counts by status use the new one as well.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_outbox_claim", "outbox", ["status", "channel", "next_attempt_at", "id"])
    op.drop_index("ix_outbox_due", table_name="outbox")


def downgrade() -> None:
    op.create_index("ix_outbox_due", "outbox", ["status", "next_attempt_at"])
    op.drop_index("ix_outbox_claim", table_name="outbox")
