"""Ticket participants: every address that took part in a ticket (senders and CC'd addresses),
so that only they, the requester, colleagues where allowed, and staff may continue it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_participant",
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", "address"),
    )
    op.execute("INSERT INTO ticket_participant (ticket_id, address) "
               "SELECT DISTINCT ticket_id, sender FROM article WHERE direction = 'in' AND sender <> ''")


def downgrade() -> None:
    op.drop_table("ticket_participant")
