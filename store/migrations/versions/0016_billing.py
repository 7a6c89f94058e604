"""Billing: contract billing fields completed, invoices, a gap-free number counter per year and
provider, time entries' notes and the invoice that billed (and locked) them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""
import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_TZ = sa.DateTime(timezone=True)
_MONEY = sa.Numeric(16, 3)
_CONTRACT_COLUMNS = (
    ("tax_category", sa.String(3), "S"),
    ("carry_over_minutes", sa.Boolean, sa.false()),
    ("ticket_prices", sa.Text, "{}"),
    ("buyer_edi_qualifier", sa.String(4), "ZZZ"),
    ("buyer_vat_number", sa.String(35), ""),
    ("buyer_legal_name", sa.String(200), ""),
    ("buyer_street", sa.String(200), ""),
    ("buyer_city", sa.String(100), ""),
    ("buyer_postcode", sa.String(17), ""),
    ("buyer_country", sa.String(2), ""),
    ("edi_charset", sa.String(4), "UNOC"),
    ("eancom", sa.Boolean, sa.false()),
    ("requires_approval", sa.Boolean, sa.false()),
)


def upgrade() -> None:
    with op.batch_alter_table("contract") as batch:
        for name, type_, default in _CONTRACT_COLUMNS:
            batch.add_column(sa.Column(name, type_, nullable=False, server_default=default))
        batch.add_column(sa.Column("edi_address", sa.String(320), nullable=True))
    op.create_table(
        "invoice",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("number", sa.String(20), nullable=False, unique=True),
        sa.Column("contract_id", sa.Integer, sa.ForeignKey("contract.id"), nullable=False),
        sa.Column("organization_id", sa.Integer, sa.ForeignKey("organization.id"), nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("issue_date", sa.Date, nullable=False),
        sa.Column("due_date", sa.Date, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("line_total", _MONEY, nullable=False),
        sa.Column("tax_total", _MONEY, nullable=False),
        sa.Column("invoice_total", _MONEY, nullable=False),
        sa.Column("minutes_left", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("created_at", _TZ, nullable=False),
        sa.Column("decided_at", _TZ, nullable=True),
        sa.Column("decided_by", sa.String(320), nullable=True),
        sa.Column("reject_reason", sa.Text, nullable=True),
        sa.Column("sent_outbox_id", sa.Integer, nullable=True),
        sa.UniqueConstraint("contract_id", "period", name="ux_invoice_contract_period"),
    )
    op.create_index("ix_invoice_contract_id", "invoice", ["contract_id"])
    op.create_index("ix_invoice_organization_id", "invoice", ["organization_id"])
    op.create_index("ix_invoice_period", "invoice", ["period"])
    op.create_index("ix_invoice_status", "invoice", ["status"])
    op.create_table(
        "invoice_counter",
        sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("provider", sa.String(35), primary_key=True),
        sa.Column("last_number", sa.Integer, nullable=False),
    )
    op.create_table(
        "time_entry_billing",
        sa.Column("time_entry_id", sa.Integer, sa.ForeignKey("time_entry.id"), primary_key=True,
                  autoincrement=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("invoice_id", sa.Integer, sa.ForeignKey("invoice.id"), nullable=True),
    )
    op.create_index("ix_time_entry_billing_invoice_id", "time_entry_billing", ["invoice_id"])


def downgrade() -> None:
    op.drop_table("time_entry_billing")
    op.drop_table("invoice_counter")
    op.drop_table("invoice")
    with op.batch_alter_table("contract") as batch:
        batch.drop_column("edi_address")
        for name, _, _ in reversed(_CONTRACT_COLUMNS):
            batch.drop_column(name)
