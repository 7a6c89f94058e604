"""Mail hygiene: addresses that bounced permanently are blocked for automatic mail for a while;
attachment contents are stored once, by their SHA-256 (the same logo in every mail of a thread
is kept one time; rows written before keep their inline data, which readers still use); every
stored message keeps its processing log.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_email") as batch:
        batch.add_column(sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("block_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("inbound_message") as batch:
        batch.add_column(sa.Column("processing_log", sa.Text(), nullable=True))
    # delivery reports without our VERP address are matched by the returned Message-ID
    op.create_index("ix_outbox_message_id", "outbox", ["message_id"])
    op.create_table(
        "blob",
        sa.Column("sha256", sa.String(length=64), primary_key=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
    )
    with op.batch_alter_table("attachment") as batch:
        batch.add_column(sa.Column("sha256", sa.String(length=64), nullable=True))
        batch.alter_column("data", existing_type=sa.LargeBinary(), nullable=True)
        batch.create_foreign_key("fk_attachment_blob", "blob", ["sha256"], ["sha256"])
        batch.create_index("ix_attachment_sha256", ["sha256"])


def downgrade() -> None:
    with op.batch_alter_table("attachment") as batch:
        batch.drop_index("ix_attachment_sha256")
        batch.drop_constraint("fk_attachment_blob", type_="foreignkey")
        batch.drop_column("sha256")
    op.drop_table("blob")
    op.drop_index("ix_outbox_message_id", table_name="outbox")
    with op.batch_alter_table("inbound_message") as batch:
        batch.drop_column("processing_log")
    with op.batch_alter_table("user_email") as batch:
        batch.drop_column("block_reason")
        batch.drop_column("blocked_until")
