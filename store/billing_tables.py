"""Tables of billing: invoices, the gap-free number counter per year and provider, and which
invoice billed a time entry (with the entry's note).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from helpdesk.gateway.ground.clock import utcnow

_MONEY = Numeric(16, 3)  # three decimals: the Gulf dinars have them (ISO 4217 minor unit 3)


class Invoice(SQLModel, table=True):
    """One contract's invoice for one billing period. `document` is the InvoiceDocument as JSON
    (gateway/billing/invoice_json.py), fixed at issue: every rendering (EDIFACT, text, JSON) and
    every resend reads it, so an invoice never changes when its contract does."""

    __table_args__ = (UniqueConstraint("contract_id", "period", name="ux_invoice_contract_period"),
                      Index("ix_invoice_period", "period"), Index("ix_invoice_status", "status"))

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, max_length=20)
    contract_id: int = Field(foreign_key="contract.id", index=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    period: str = Field(max_length=7)  # 2026-10 or 2026-Q4
    period_start: date
    period_end: date
    issue_date: date
    due_date: date
    currency: str = Field(max_length=3)
    line_total: Decimal = Field(sa_column=Column(_MONEY, nullable=False))
    tax_total: Decimal = Field(sa_column=Column(_MONEY, nullable=False))
    invoice_total: Decimal = Field(sa_column=Column(_MONEY, nullable=False))
    # Included minutes left unused at the period's end, taken into the next period when the
    # contract carries them over (0 otherwise).
    minutes_left: int = 0
    status: str = Field(max_length=20)  # awaiting-approval, approved, rejected
    document: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    decided_by: str | None = Field(default=None, max_length=320)  # address of who approved/rejected, or "cli"
    reject_reason: str | None = Field(default=None, sa_column=Column(Text))
    sent_outbox_id: int | None = None  # the latest EDI mail queued for it


class InvoiceCounter(SQLModel, table=True):
    """The last invoice number issued per year and provider; its row is locked by the transaction
    that issues the next number, so a rolled-back invoice gives its number back."""

    __tablename__ = "invoice_counter"

    year: int = Field(primary_key=True)
    provider: str = Field(primary_key=True, max_length=35)
    last_number: int = 0


class TimeEntryBilling(SQLModel, table=True):
    """A time entry's note and the invoice that billed it; an entry with an invoice is locked."""

    __tablename__ = "time_entry_billing"

    time_entry_id: int = Field(foreign_key="time_entry.id", primary_key=True)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default="", server_default=""))
    invoice_id: int | None = Field(default=None, foreign_key="invoice.id", index=True)
