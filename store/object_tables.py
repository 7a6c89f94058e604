"""Tables of clients' objects (servers, routers, machines): their people, documents, inspections
and the reminders sent for them, and the faults their monitoring systems report.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Integer, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from helpdesk.gateway.ground.clock import utcnow


class ClientObject(SQLModel, table=True):
    """A thing a client owns and the provider looks after; its identifier is unique per organization."""

    __tablename__ = "client_object"
    __table_args__ = (UniqueConstraint("organization_id", "identifier", name="ux_client_object_identifier"),
                      Index("ix_client_object_next_inspection", "next_inspection_on"),
                      # without case, as identifiers are compared (store/objects.find_object)
                      Index("ux_client_object_identifier_lower", text("lower(identifier)"), "organization_id",
                            unique=True))

    id: int | None = Field(default=None, primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    identifier: str = Field(max_length=64)  # serial or inventory number, as written in [OBJ ...]
    name: str = Field(default="", max_length=200)
    kind: str = Field(default="", max_length=64)  # server, router, machine, software, ...
    location: str = Field(default="", max_length=200)
    # Must run 24/7: its tickets are timed on a 24/7 calendar and its alerts are at least urgent.
    critical: bool = False
    inspection_interval_days: int | None = None
    next_inspection_on: date | None = None
    attributes: str = Field(default="{}", sa_column=Column(Text, nullable=False, default="{}", server_default="{}"))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ObjectPerson(SQLModel, table=True):
    """Someone responsible for an object: on the client's side ("client") or the provider's ("technician")."""

    __tablename__ = "object_person"

    object_id: int = Field(foreign_key="client_object.id", primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, index=True)
    side: str = Field(max_length=16)


class ObjectDocument(SQLModel, table=True):
    """A document kept for an object; its content is a blob, stored once by its SHA-256."""

    __tablename__ = "object_document"

    id: int | None = Field(default=None, primary_key=True)
    object_id: int = Field(foreign_key="client_object.id", index=True)
    sha256: str = Field(foreign_key="blob.sha256", max_length=64)
    filename: str = Field(max_length=255)
    content_type: str = Field(default="application/octet-stream", max_length=255)
    size: int
    kind: str = Field(default="document", max_length=32)  # document, inspection-report, manual, configuration
    added_by: int | None = Field(default=None, foreign_key="user_account.id")
    added_at: datetime = Field(default_factory=utcnow)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")  # the mail that brought it, if any


class ObjectInspection(SQLModel, table=True):
    __tablename__ = "object_inspection"

    id: int | None = Field(default=None, primary_key=True)
    object_id: int = Field(foreign_key="client_object.id", index=True)
    inspected_on: date
    document_id: int | None = Field(default=None, foreign_key="object_document.id")
    recorded_by: int | None = Field(default=None, foreign_key="user_account.id")
    recorded_at: datetime = Field(default_factory=utcnow)
    next_due_on: date | None = None  # the date it moved the next inspection to


class InspectionReminder(SQLModel, table=True):
    """One reminder step sent for one due date: the key makes each step go once, across restarts and
    instances (the sender inserts first and only the winner of the insert sends)."""

    __tablename__ = "inspection_reminder"

    object_id: int = Field(foreign_key="client_object.id", primary_key=True)
    due_on: date = Field(primary_key=True)
    step: str = Field(primary_key=True, max_length=16)  # "30", "7", ..., "overdue"
    sent_at: datetime = Field(default_factory=utcnow)
    alert_id: int | None = Field(default=None, foreign_key="alert.id")


class ObjectEvent(SQLModel, table=True):
    """What happened to an object that has no row of its own elsewhere: an announcement of planned
    work, an edit, a linked ticket. The object's history merges these with its tickets, alerts,
    inspections and documents."""

    __tablename__ = "object_event"
    __table_args__ = (Index("ix_object_event_object_at", "object_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    object_id: int = Field(foreign_key="client_object.id")
    at: datetime = Field(default_factory=utcnow)
    kind: str = Field(max_length=32)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default="", server_default=""))
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    alert_id: int | None = Field(default=None, foreign_key="alert.id")
    user_id: int | None = Field(default=None, foreign_key="user_account.id")


class Fault(SQLModel, table=True):
    """A problem a monitoring system reports, by its fingerprint (object + problem key): while its
    ticket is open, repeats are counted here instead of making tickets. One row per fingerprint,
    locked by whoever counts on it, so two instances never open two tickets for one storm."""

    __tablename__ = "fault"

    fingerprint: str = Field(primary_key=True, max_length=255)
    object_id: int | None = Field(default=None, foreign_key="client_object.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    state: str = Field(default="failing", max_length=16)  # failing, recovered
    occurrences: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    recoveries: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))
    first_seen: datetime = Field(default_factory=utcnow)
    last_seen: datetime = Field(default_factory=utcnow)
    recovered_at: datetime | None = None
