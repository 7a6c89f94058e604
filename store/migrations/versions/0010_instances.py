"""Outbox claims tied to live instances: every running gateway has an `instance` row with a
heartbeat, and an outbox claim names its instance (`claimed_by`), so the claims of a killed
gateway are taken over within seconds instead of after the lease. `queued_at` starts the
delivery window after which an undelivered mail is given up (an MTA's queue lifetime), so
`outbox retry` can give a failed mail a fresh window.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "instance",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_autoincrement=True,  # a dead instance's id is never reused (it would inherit its claims)
    )
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE outbox SET queued_at = created_at")
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("queued_at", existing_type=sa.DateTime(timezone=True), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("queued_at")
        batch.drop_column("claimed_by")
    op.drop_table("instance")
