"""The gateway's tables as SQLModel classes; the schema itself is owned by Alembic migrations.

Times are timezone-aware UTC everywhere, produced by `utcnow()` (SQLModel stores them as UTC).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Index, LargeBinary, SmallInteger, Text, false, text
from sqlmodel import Field, SQLModel

from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.statuses import InboundStatus, OutboxStatus, TicketStatus
from helpdesk.store import billing_tables, object_tables  # noqa: F401  (registers the tables)
from helpdesk.store.alert_tables import Alert, AlertDelivery, JobLease  # noqa: F401  (registers the tables)


class Ticket(SQLModel, table=True):
    # AUTOINCREMENT on SQLite: a number is never handed out twice, even after a delete.
    __table_args__ = (Index("ix_ticket_status", "status"), Index("ix_ticket_status_resolved", "status", "resolved_at"),
                      Index("ix_ticket_sla_next", "sla_next_at"),
                      Index("ix_ticket_resolution_due", "resolution_due_at"), {"sqlite_autoincrement": True})

    id: int | None = Field(default=None, primary_key=True)
    subject: str = Field(default="", max_length=998)
    status: str = Field(default=TicketStatus.NEW, max_length=16)
    priority: str = Field(default="normal", max_length=16)
    queue: str = Field(default="general", max_length=64)
    requester_id: int = Field(foreign_key="user_account.id", index=True)
    assignee_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    rule: str | None = Field(default=None, max_length=200)  # the routing rule(s) that decided
    category: str | None = Field(default=None, max_length=64)
    tags: str = Field(default="", sa_column=Column(Text, nullable=False, default="", server_default=""))
    alert_level: str = Field(default="standard", max_length=16)
    assignment: str = Field(default="dispatcher", max_length=16)  # the strategy routing chose
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None
    resolved_at: datetime | None = None  # starts the wait for the client's confirmation
    # The SLA clock (gateway/sla/clock.py): durations used and paused up to sla_since, and its state
    # since then; the due times and the scheduler's next look are derived from it on every change.
    sla_profile: str | None = Field(default=None, max_length=64)
    sla_state: str = Field(default="none", max_length=8, sa_column_kwargs={"server_default": "none"})
    sla_since: datetime | None = None
    sla_used_s: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    sla_paused_s: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    first_response_at: datetime | None = None
    first_response_used_s: int | None = None
    resolution_used_s: int | None = None
    first_response_target_s: int | None = None
    resolution_target_s: int | None = None
    first_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    sla_warned: int = Field(default=0, sa_column=Column(SmallInteger, nullable=False, server_default="0"))
    sla_breached: int = Field(default=0, sa_column=Column(SmallInteger, nullable=False, server_default="0"))
    escalation_level: int = Field(default=0, sa_column=Column(SmallInteger, nullable=False, server_default="0"))
    escalated_at: datetime | None = None
    escalation_acked: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    sla_next_at: datetime | None = None
    # The client's object the ticket is about, and whether it is an incident or a problem (a common
    # cause of incidents, which point at it with problem_id).
    object_id: int | None = Field(default=None, foreign_key="client_object.id", index=True)
    kind: str = Field(default="incident", max_length=16, sa_column_kwargs={"server_default": "incident"})
    problem_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)

    @property
    def number(self) -> int:
        # The number is the database-issued key (sequence / AUTOINCREMENT): never max()+1.
        return self.id


class InboundMessage(SQLModel, table=True):
    """A raw message exactly as received, committed before the sender gets its 250."""

    __tablename__ = "inbound_message"
    __table_args__ = (Index("ix_inbound_status", "status"), Index("ux_inbound_external_id", "external_id", unique=True),
                      # a sender's pending messages, for the processor's in-order claim (store/inbound_messages.py)
                      Index("ix_inbound_pending_sender", "envelope_from", "id",
                            postgresql_where=text("status = 'pending'"), sqlite_where=text("status = 'pending'")))

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = Field(default_factory=utcnow)
    channel: str = Field(default="email", max_length=16)
    source: str = Field(default="smtp", max_length=16)
    envelope_from: str | None = Field(default=None, max_length=320)  # "" = null sender <>
    envelope_to: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default=InboundStatus.PENDING, max_length=16)
    reason: str | None = Field(default=None, sa_column=Column(Text))
    attempts: int = 0
    processed_at: datetime | None = None
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    # What each stage decided and why (gateway/trace.py), for `helpdesk inbound show`.
    processing_log: str | None = Field(default=None, sa_column=Column(Text))
    # When raw was emptied by the retention purge (store/retention.py); None: raw is as received.
    raw_purged_at: datetime | None = None
    # The provider's id of an SMS (Twilio's MessageSid): the same SMS delivered twice is stored once.
    external_id: str | None = Field(default=None, max_length=64)


class Article(SQLModel, table=True):
    """One message of a ticket's conversation, in either direction."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    inbound_id: int | None = Field(default=None, foreign_key="inbound_message.id")
    direction: str = Field(max_length=8)  # "in" or "out"
    channel: str = Field(default="email", max_length=16)
    sender: str = Field(default="", max_length=320)
    subject: str = Field(default="", max_length=998)
    # Unique: the same message delivered twice is stored once.
    message_id: str = Field(unique=True, max_length=998)
    text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # The author's new part without quoted history and signature (what notifications show).
    new_text: str | None = Field(default=None, sa_column=Column(Text))
    # "public" (the client sees it) or "internal" (a note for staff only).
    visibility: str = Field(default="public", max_length=16)
    author_id: int | None = Field(default=None, foreign_key="user_account.id")  # staff who wrote it; None: client
    media_urls: str | None = Field(default=None, sa_column=Column(Text))  # JSON list of an MMS's media URLs
    created_at: datetime = Field(default_factory=utcnow)


class Blob(SQLModel, table=True):
    """An attachment's content, stored once however many messages carry it."""

    sha256: str = Field(primary_key=True, max_length=64)
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Attachment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    article_id: int = Field(foreign_key="article.id", index=True)
    filename: str = Field(default="", max_length=255)  # made safe by inbound/parse.py
    content_type: str = Field(default="application/octet-stream", max_length=255)
    size: int = 0
    sha256: str | None = Field(default=None, foreign_key="blob.sha256", index=True, max_length=64)
    data: bytes | None = Field(default=None, sa_column=Column(LargeBinary))  # only rows from before blobs


class ThreadRef(SQLModel, table=True):
    """Every Message-ID the gateway sent or received for a ticket, for In-Reply-To threading."""

    __tablename__ = "thread_ref"

    message_id: str = Field(primary_key=True, max_length=998)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)


class TicketParticipant(SQLModel, table=True):
    """An address that took part in a ticket: it wrote to it or was CC'd."""

    __tablename__ = "ticket_participant"

    ticket_id: int = Field(foreign_key="ticket.id", primary_key=True)
    address: str = Field(primary_key=True, max_length=320)


class TicketEvent(SQLModel, table=True):
    """What happened to a ticket and why (created, appended, reopened, closed, reply suppressed)."""

    __tablename__ = "ticket_event"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    kind: str = Field(max_length=32)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Outbox(SQLModel, table=True):
    """A fully rendered outbound message, written in the transaction of the change that caused it."""

    # ix_outbox_claim: a dispatcher's claim walks it in the order rows fell due (store/outbox.py).
    __table_args__ = (Index("ix_outbox_claim", "status", "channel", "next_attempt_at", "id"),
                      Index("ix_outbox_rcpt_created", "rcpt_to", "created_at"),
                      Index("ix_outbox_provider_ref", "provider_ref"))

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    kind: str = Field(max_length=32)
    mail_from: str = Field(max_length=320)
    rcpt_to: str = Field(sa_column=Column(Text, nullable=False))  # comma-separated
    message_id: str = Field(max_length=998, index=True)
    raw: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    status: str = Field(default=OutboxStatus.QUEUED, max_length=16)
    attempts: int = 0
    # Start of the current delivery window (created_at, or the last `outbox retry`): the mail is
    # given up send_queue_lifetime_hours after it.
    queued_at: datetime = Field(default_factory=utcnow)
    next_attempt_at: datetime = Field(default_factory=utcnow)
    claimed_until: datetime | None = None
    # The instance whose dispatcher holds the claim; no foreign key, because a dead instance's
    # row is deleted and its claims must then read as abandoned.
    claimed_by: int | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    sent_at: datetime | None = None
    # "email" (raw is the RFC 5322 message) or "sms" (rcpt_to a number in E.164, raw the UTF-8 text).
    channel: str = Field(default="email", max_length=8, sa_column_kwargs={"server_default": "email"})
    provider_ref: str | None = Field(default=None, max_length=64)  # the SMS provider's id (Twilio SM...)
    # The SMS provider's last word from its status callback: delivered, undelivered or failed.
    delivery_status: str | None = Field(default=None, max_length=16)


class Instance(SQLModel, table=True):
    """A running gateway: claims on outbox rows hold only while its heartbeat is fresh."""

    # AUTOINCREMENT on SQLite: the id of a dead instance is never handed to a new one, which
    # would inherit its claims.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(default=None, primary_key=True)
    host: str = Field(max_length=255)
    pid: int
    started_at: datetime = Field(default_factory=utcnow)
    heartbeat_at: datetime = Field(default_factory=utcnow)


class DeliveryAttempt(SQLModel, table=True):
    """One try at handing an outbox row to the relay, with what the relay answered."""

    __tablename__ = "delivery_attempt"

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="outbox.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    ok: bool = False
    code: int | None = None
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class ImapMailbox(SQLModel, table=True):
    """Progress and lease of one IMAP mailbox: which UIDs are stored, and which instance reads it."""

    __tablename__ = "imap_mailbox"

    name: str = Field(primary_key=True, max_length=64)
    uidvalidity: int | None = Field(default=None, sa_column=Column(BigInteger))
    last_uid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    lease_holder: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = None


class TimeEntry(SQLModel, table=True):
    """Time a technician spent on a ticket (`#time 1h30m`), billed against the contract."""

    __tablename__ = "time_entry"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    minutes: int
    at: datetime = Field(default_factory=utcnow)


class SatisfactionRating(SQLModel, table=True):
    """The requester's 1-5 rating given with the close confirmation, kept against the technician."""

    __tablename__ = "satisfaction_rating"

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    technician_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    score: int
    at: datetime = Field(default_factory=utcnow)
