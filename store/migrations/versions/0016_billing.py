"""Billing: contract billing fields completed, invoices with their lines, a gap-free number
sequence per year and provider, time entries locked by the invoice that billed them.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01
"""

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
