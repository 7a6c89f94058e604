"""Signed reply addresses: each user has a reply-token generation, part of every token signed
for them; `helpdesk users revoke-replies` raises it, so every token issued before stops
verifying at once (a leaked token is revoked without rotating the whole secret).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("reply_generation", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("reply_generation")
