"""SMS: the MessageSid of a stored SMS (stored once however often Twilio delivers it), the
provider's reference and final delivery status of a sent one, opt-outs, MMS media URLs.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_message") as batch:
        batch.add_column(sa.Column("external_id", sa.String(64), nullable=True))
        batch.create_index("ux_inbound_external_id", ["external_id"], unique=True)
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("provider_ref", sa.String(64), nullable=True))
        batch.add_column(sa.Column("delivery_status", sa.String(16), nullable=True))
        batch.create_index("ix_outbox_provider_ref", ["provider_ref"])
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("sms_opted_out_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_user_account_phone", ["phone"])
    with op.batch_alter_table("article") as batch:
        batch.add_column(sa.Column("media_urls", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("article") as batch:
        batch.drop_column("media_urls")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_index("ix_user_account_phone")
        batch.drop_column("sms_opted_out_at")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_provider_ref")
        batch.drop_column("delivery_status")
        batch.drop_column("provider_ref")
    with op.batch_alter_table("inbound_message") as batch:
        batch.drop_index("ux_inbound_external_id")
        batch.drop_column("external_id")
