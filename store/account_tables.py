"""Tables of the people side: organizations and their mail domains, users with addresses and roles,
queues with their members, and service contracts.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, Index, Numeric, Text, false, literal_column
from sqlmodel import Field, SQLModel

from helpdesk.gateway.ground.clock import utcnow


class Organization(SQLModel, table=True):
    """A client company; its people are recognised by the mail domains it owns."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    default_locale: str = Field(default="en", max_length=16)
    timezone: str = Field(default="UTC", max_length=64)
    # Whether one contact of the organization may continue a colleague's ticket by mail.
    colleagues_may_continue: bool = True
    created_at: datetime = Field(default_factory=utcnow)


class OrgDomain(SQLModel, table=True):
    __tablename__ = "org_domain"

    domain: str = Field(primary_key=True, max_length=253)
    organization_id: int = Field(foreign_key="organization.id", index=True)


class User(SQLModel, table=True):
    """A person: a client's contact (with an organization) or the provider's staff (without)."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    display_name: str = Field(default="", max_length=200)
    locale: str | None = Field(default=None, max_length=16)
    organization_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    phone: str | None = Field(default=None, max_length=32, index=True)  # E.164
    sms_opted_out_at: datetime | None = None  # STOP: no SMS of any kind until START
    active: bool = True
    password_hash: str | None = Field(default=None, max_length=255)  # argon2id; never printed
    created_at: datetime = Field(default_factory=utcnow)
    # Part of every reply token signed for this user; raising it revokes them all.
    reply_generation: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class UserEmail(SQLModel, table=True):
    """Every address a user writes from; an address belongs to exactly one user."""

    __tablename__ = "user_email"

    address: str = Field(primary_key=True, max_length=320)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    is_primary: bool = False
    # After a permanent bounce no automatic mail goes here until then (or until mail comes from it).
    blocked_until: datetime | None = None
    block_reason: str | None = Field(default=None, sa_column=Column(Text))


class UserRole(SQLModel, table=True):
    __tablename__ = "user_role"
    # By role: the few staff among many clients (see role_in); migration 0017.
    __table_args__ = (Index("ix_user_role_role", "role", "user_id"),)

    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    role: str = Field(primary_key=True, max_length=32)


def role_in(*roles: str):
    """`user_role.role IN ('a', 'b')` with the names written into the SQL, not bound: PostgreSQL's
    generic plan for a prepared statement cannot see that a bound role is rare (a few staff among
    100,000 clients) and walks every user_role row, 100 ms a call instead of 0.2 ms."""
    from helpdesk.gateway.ground.roles import ALL_ROLES  # the names are ours, never user input
    assert set(roles) <= set(ALL_ROLES), roles
    return UserRole.__table__.c.role.in_([literal_column(f"'{role}'") for role in roles])


class Queue(SQLModel, table=True):
    name: str = Field(primary_key=True, max_length=64)
    title: str = Field(default="", max_length=200)
    rr_last_user_id: int | None = None  # whom round-robin assignment chose last


class QueueMember(SQLModel, table=True):
    """A technician or dispatcher in a queue; `available` is off during holidays or sick leave."""

    __tablename__ = "queue_member"

    queue: str = Field(foreign_key="queue.name", primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True)
    available: bool = True


class Contract(SQLModel, table=True):
    """A service contract of an organization; the billing fields feed the invoicing."""

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    number: str = Field(unique=True, max_length=64)
    starts_on: date
    ends_on: date | None = None
    billing_period: str = Field(default="monthly", max_length=16)
    sla_profile: str = Field(default="standard", max_length=64)
    guarantor_id: int | None = Field(default=None, foreign_key="user_account.id")
    currency: str = Field(default="EUR", max_length=3)
    monthly_fee: Decimal = Field(default=Decimal("0"), sa_column=Column(Numeric(12, 2), nullable=False))
    hourly_rate: Decimal = Field(default=Decimal("0"), sa_column=Column(Numeric(12, 2), nullable=False))
    included_minutes: int = 0
    vat_rate: Decimal = Field(default=Decimal("0"), sa_column=Column(Numeric(5, 2), nullable=False))
    payment_terms_days: int = 14
    # The buyer's identifier in EDIFACT INVOIC (e.g. its GLN); filled in for EDI invoicing.
    buyer_edi_id: str | None = Field(default=None, max_length=35)
    notes: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    # Billing (gateway/billing/): monthly_fee is the fee per billing period (per quarter for a
    # quarterly contract; the name predates quarterly billing). VAT category as UN/CEFACT 5305.
    tax_category: str = Field(default="S", max_length=3, sa_column_kwargs={"server_default": "S"})
    carry_over_minutes: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # {"high": "25.00", ...}: a price per ticket created in the period, by priority; {} for none.
    ticket_prices: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}", server_default="{}"))
    buyer_edi_qualifier: str = Field(default="ZZZ", max_length=4, sa_column_kwargs={"server_default": "ZZZ"})
    buyer_vat_number: str = Field(default="", max_length=35, sa_column_kwargs={"server_default": ""})
    buyer_legal_name: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    buyer_street: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    buyer_city: str = Field(default="", max_length=100, sa_column_kwargs={"server_default": ""})
    buyer_postcode: str = Field(default="", max_length=17, sa_column_kwargs={"server_default": ""})
    buyer_country: str = Field(default="", max_length=2, sa_column_kwargs={"server_default": ""})
    edi_address: str | None = Field(default=None, max_length=320)  # the client's EDI inbox (mail)
    edi_charset: str = Field(default="UNOC", max_length=4, sa_column_kwargs={"server_default": "UNOC"})
    eancom: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    # The organization's fin-admin (or a provider admin) approves each invoice before it is sent.
    requires_approval: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
