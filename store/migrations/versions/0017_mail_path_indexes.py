"""Indexes of the mail path: pending inbound messages by sender (several processing workers on
PostgreSQL keep each sender's messages in order: store/inbound_messages.py PENDING_CLAIM), and
user roles by role (the few admins or staff among 100,000 clients were found by probing every
user: 20 ms for each ticket in a queue nobody watches).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.create_index("ix_inbound_pending_sender", "inbound_message", ["envelope_from", "id"],
                    postgresql_where=_PENDING, sqlite_where=_PENDING)
    op.create_index("ix_user_role_role", "user_role", ["role", "user_id"])


def downgrade() -> None:
    op.drop_index("ix_user_role_role", "user_role")
    op.drop_index("ix_inbound_pending_sender", "inbound_message")
