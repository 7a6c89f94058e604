"""Clients' objects: their people, documents, inspections and reminders, machine-reported faults;
tickets and alerts about an object, incidents linked to a problem.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "client_object",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("organization_id", sa.Integer, sa.ForeignKey("organization.id"), nullable=False),
        sa.Column("identifier", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("critical", sa.Boolean, nullable=False),
        sa.Column("inspection_interval_days", sa.Integer, nullable=True),
        sa.Column("next_inspection_on", sa.Date, nullable=True),
        sa.Column("attributes", sa.Text, nullable=False, server_default="{}"),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("updated_at", _TZ, nullable=False),
        sa.UniqueConstraint("organization_id", "identifier", name="ux_client_object_identifier"),
    )
    op.create_index("ix_client_object_organization_id", "client_object", ["organization_id"])
    op.create_index("ix_client_object_next_inspection", "client_object", ["next_inspection_on"])
    op.create_table(
        "object_person",
        sa.Column("object_id", sa.Integer, sa.ForeignKey("client_object.id"), primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("user_account.id"), primary_key=True),
        sa.Column("side", sa.String(16), nullable=False),
    )
    op.create_index("ix_object_person_user_id", "object_person", ["user_id"])
    op.create_table(
        "object_document",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("object_id", sa.Integer, sa.ForeignKey("client_object.id"), nullable=False),
        sa.Column("sha256", sa.String(64), sa.ForeignKey("blob.sha256"), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("added_by", sa.Integer, sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("added_at", _TZ, nullable=False),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("ticket.id"), nullable=True),
    )
    op.create_index("ix_object_document_object_id", "object_document", ["object_id"])
    op.create_table(
        "object_inspection",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("object_id", sa.Integer, sa.ForeignKey("client_object.id"), nullable=False),
        sa.Column("inspected_on", sa.Date, nullable=False),
        sa.Column("document_id", sa.Integer, sa.ForeignKey("object_document.id"), nullable=True),
        sa.Column("recorded_by", sa.Integer, sa.ForeignKey("user_account.id"), nullable=True),
        sa.Column("recorded_at", _TZ, nullable=False),
        sa.Column("next_due_on", sa.Date, nullable=True),
    )
    op.create_index("ix_object_inspection_object_id", "object_inspection", ["object_id"])
    op.create_table(
        "inspection_reminder",
        sa.Column("object_id", sa.Integer, sa.ForeignKey("client_object.id"), primary_key=True),
        sa.Column("due_on", sa.Date, primary_key=True),
        sa.Column("step", sa.String(16), primary_key=True),
        sa.Column("sent_at", _TZ, nullable=False),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alert.id"), nullable=True),
    )
    op.create_table(
        "object_event",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("object_id", sa.Integer, sa.ForeignKey("client_object.id"), nullable=False),
        sa.Column("at", _TZ, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False, server_default=""),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("ticket.id"), nullable=True),
        sa.Column("alert_id", sa.Integer, sa.ForeignKey("alert.id"), nullable=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("user_account.id"), nullable=True),
    )
    op.create_index("ix_object_event_object_at", "object_event", ["object_id", "at"])
    op.create_table(
        "fault",
        sa.Column("fingerprint", sa.String(255), primary_key=True),
        sa.Column("object_id", sa.Integer, sa.ForeignKey("client_object.id"), nullable=True),
        sa.Column("ticket_id", sa.Integer, sa.ForeignKey("ticket.id"), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("occurrences", sa.Integer, nullable=False, server_default="0"),
        sa.Column("recoveries", sa.Integer, nullable=False, server_default="0"),
        sa.Column("first_seen", _TZ, nullable=False),
        sa.Column("last_seen", _TZ, nullable=False),
        sa.Column("recovered_at", _TZ, nullable=True),
    )
    op.create_index("ix_fault_object_id", "fault", ["object_id"])
    op.create_index("ix_fault_ticket_id", "fault", ["ticket_id"])
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("object_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="incident"))
        batch.add_column(sa.Column("problem_id", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_ticket_object_id", "client_object", ["object_id"], ["id"])
        batch.create_foreign_key("fk_ticket_problem_id", "ticket", ["problem_id"], ["id"])
        batch.create_index("ix_ticket_object_id", ["object_id"])
        batch.create_index("ix_ticket_problem_id", ["problem_id"])
    with op.batch_alter_table("alert") as batch:
        batch.add_column(sa.Column("object_id", sa.Integer, nullable=True))
        batch.create_foreign_key("fk_alert_object_id", "client_object", ["object_id"], ["id"])
        batch.create_index("ix_alert_object_id", ["object_id"])
    # Identifiers are compared without case (SRV-01 is srv-01): unique so, and found by lower() in one look.
    # Made last: SQLite's batch copies above reflect client_object, and cannot reflect an expression index.
    op.create_index("ux_client_object_identifier_lower", "client_object",
                    [sa.text("lower(identifier)"), "organization_id"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.drop_index("ix_alert_object_id")
        batch.drop_constraint("fk_alert_object_id", type_="foreignkey")
        batch.drop_column("object_id")
    with op.batch_alter_table("ticket") as batch:
        batch.drop_index("ix_ticket_problem_id")
        batch.drop_index("ix_ticket_object_id")
        batch.drop_constraint("fk_ticket_problem_id", type_="foreignkey")
        batch.drop_constraint("fk_ticket_object_id", type_="foreignkey")
        batch.drop_column("problem_id")
        batch.drop_column("kind")
        batch.drop_column("object_id")
    for table in ("fault", "object_event", "inspection_reminder", "object_inspection", "object_document",
                  "object_person", "client_object"):
        op.drop_table(table)
