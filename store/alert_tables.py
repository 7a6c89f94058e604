"""Tables of alerts (who was told what, by which channel) and of the scheduler's job leases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, SmallInteger, Text
from sqlmodel import Field, SQLModel

from helpdesk.gateway.ground.clock import utcnow


class Alert(SQLModel, table=True):
    """Something people must hear of, with who started it and how loudly (standard, important, urgent)."""

    __table_args__ = (Index("ix_alert_created", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    object_id: int | None = Field(default=None, foreign_key="client_object.id", index=True)
    # external-client, external-service, internal-service, internal-client (gateway/alerts/levels.py)
    initiator: str = Field(max_length=24)
    level: str = Field(max_length=16)
    kind: str = Field(max_length=32)  # new-ticket, sla-warning, sla-breach, escalation, ...
    subject: str = Field(default="", max_length=998, sa_column_kwargs={"server_default": ""})
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default="", server_default=""))
    escalation_level: int | None = Field(default=None, sa_column=Column(SmallInteger))
    acknowledged_at: datetime | None = None
    acknowledged_by: int | None = Field(default=None, foreign_key="user_account.id")


class AlertDelivery(SQLModel, table=True):
    """One recipient of an alert on one channel: "web" (stored, shown after login), "email" or "sms";
    whether it was delivered is its outbox row's status."""

    __tablename__ = "alert_delivery"

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id", index=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    channel: str = Field(max_length=8)
    address: str = Field(default="", max_length=320, sa_column_kwargs={"server_default": ""})
    outbox_id: int | None = Field(default=None, foreign_key="outbox.id")
    # Why nothing was sent on this channel (no phone number, address blocked), else empty.
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default="", server_default=""))


class JobLease(SQLModel, table=True):
    """Which instance runs a scheduled job now: with several gateways on one database each job runs once."""

    __tablename__ = "job_lease"

    name: str = Field(primary_key=True, max_length=64)
    holder: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = None
    last_run_at: datetime | None = None
