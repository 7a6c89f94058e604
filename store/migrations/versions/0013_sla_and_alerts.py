"""SLA clocks on tickets, alerts with their deliveries, SMS rows in the outbox, job leases.

The clock is kept as durations (working seconds used, wall seconds paused) plus the moment of the
last change, not as a due date computed once: a change of priority or profile keeps what was used
and paused. The due times and the next moment the scheduler must look (`sla_next_at`) are stored
so a query finds what is due without computing calendars per row. Tickets from before this
revision have no clock (`sla_state` 'none') until their next change.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_TS = sa.DateTime(timezone=True)
_TICKET_COLUMNS = [
    sa.Column("sla_profile", sa.String(64), nullable=True),
    sa.Column("sla_state", sa.String(8), nullable=False, server_default="none"),
    sa.Column("sla_since", _TS, nullable=True),
    sa.Column("sla_used_s", sa.Integer, nullable=False, server_default="0"),
    sa.Column("sla_paused_s", sa.Integer, nullable=False, server_default="0"),
    sa.Column("first_response_at", _TS, nullable=True),
    sa.Column("first_response_used_s", sa.Integer, nullable=True),
    sa.Column("resolution_used_s", sa.Integer, nullable=True),
    sa.Column("first_response_target_s", sa.Integer, nullable=True),
    sa.Column("resolution_target_s", sa.Integer, nullable=True),
    sa.Column("first_response_due_at", _TS, nullable=True),
    sa.Column("resolution_due_at", _TS, nullable=True),
    sa.Column("sla_warned", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("sla_breached", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("escalation_level", sa.SmallInteger, nullable=False, server_default="0"),
    sa.Column("escalated_at", _TS, nullable=True),
    sa.Column("escalation_acked", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("sla_next_at", _TS, nullable=True),
]


def upgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        for column in _TICKET_COLUMNS:
            batch.add_column(column)
        batch.create_index("ix_ticket_sla_next", ["sla_next_at"])
        batch.create_index("ix_ticket_resolution_due", ["resolution_due_at"])
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("channel", sa.String(8), nullable=False, server_default="email"))
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("ticket.id"), nullable=True, index=True),
        sa.Column("initiator", sa.String(24), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(998), nullable=False, server_default=""),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("escalation_level", sa.SmallInteger, nullable=True),
        sa.Column("acknowledged_at", _TS, nullable=True),
        sa.Column("acknowledged_by", sa.Integer, sa.ForeignKey("user_account.id"), nullable=True),
    )
    op.create_index("ix_alert_created", "alert", ["created_at"])
    op.create_table(
        "alert_delivery",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alert.id"), nullable=False, index=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("user_account.id"), nullable=True, index=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("address", sa.String(320), nullable=False, server_default=""),
        sa.Column("outbox_id", sa.Integer, sa.ForeignKey("outbox.id"), nullable=True),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "job_lease",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(128), nullable=True),
        sa.Column("lease_until", _TS, nullable=True),
        sa.Column("last_run_at", _TS, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("job_lease")
    op.drop_table("alert_delivery")
    op.drop_index("ix_alert_created", table_name="alert")
    op.drop_table("alert")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("channel")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_index("ix_ticket_resolution_due")
        batch.drop_index("ix_ticket_sla_next")
        for column in reversed(_TICKET_COLUMNS):
            batch.drop_column(column.name)
