"""Raw-message retention: `inbound_message.raw_purged_at` records when the raw copy of a message
was purged (raw set to b"") because its ticket had been closed for HELPDESK_RAW_RETENTION_DAYS;
the ticket's text and attachments stay. NULL: the raw copy is still there.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_message") as batch:
        batch.add_column(sa.Column("raw_purged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_message") as batch:
        batch.drop_column("raw_purged_at")
