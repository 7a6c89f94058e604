"""Routing: tickets record category, tags, alert level, assignment strategy and assignee (a user);
queues remember whom round-robin assignment chose last.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("category", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("tags", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("alert_level", sa.String(length=16), nullable=False, server_default="standard"))
        batch.add_column(sa.Column("assignment", sa.String(length=16), nullable=False, server_default="dispatcher"))
        batch.add_column(sa.Column("assignee_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_ticket_assignee", "user_account", ["assignee_id"], ["id"])
        batch.create_index("ix_ticket_assignee_id", ["assignee_id"])
        batch.drop_column("assignee")  # was free text and never set; assignees are users now
    with op.batch_alter_table("queue") as batch:
        batch.add_column(sa.Column("rr_last_user_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("queue") as batch:
        batch.drop_column("rr_last_user_id")
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("assignee", sa.String(length=320), nullable=True))
        batch.drop_index("ix_ticket_assignee_id")
        batch.drop_constraint("fk_ticket_assignee", type_="foreignkey")
        for column in ("assignee_id", "assignment", "alert_level", "tags", "category"):
            batch.drop_column(column)
