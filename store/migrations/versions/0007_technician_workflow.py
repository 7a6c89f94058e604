"""The technicians' workflow: articles know their author, whether clients may see them and the
new text without quoted history; tickets remember when they were resolved; time spent and
satisfaction ratings are recorded (time feeds billing, ratings are kept per technician).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("article") as batch:
        batch.add_column(sa.Column("visibility", sa.String(length=16), nullable=False, server_default="public"))
        batch.add_column(sa.Column("author_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("new_text", sa.Text(), nullable=True))
        batch.create_foreign_key("fk_article_author", "user_account", ["author_id"], ["id"])
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_ticket_status_resolved", ["status", "resolved_at"])
    op.create_table(
        "time_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=False, index=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=False, index=True),
        sa.Column("minutes", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "satisfaction_rating",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("ticket_id", sa.Integer(), sa.ForeignKey("ticket.id"), nullable=False, index=True),
        sa.Column("technician_id", sa.Integer(), sa.ForeignKey("user_account.id"), nullable=True, index=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("satisfaction_rating")
    op.drop_table("time_entry")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_index("ix_ticket_status_resolved")
        batch.drop_column("resolved_at")
    with op.batch_alter_table("article") as batch:
        batch.drop_constraint("fk_article_author", type_="foreignkey")
        for column in ("new_text", "author_id", "visibility"):
            batch.drop_column(column)
