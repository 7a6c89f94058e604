"""The states a ticket, a stored inbound message and an outbox row can be in, and what became of a message.

StrEnums: each member is the string stored in the database and shown by the CLI.
"""

from __future__ import annotations

from enum import StrEnum


class TicketStatus(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"        # waiting for the client
    RESOLVED = "resolved"      # waiting for the client's confirmation
    CLOSED = "closed"


FINISHED_STATUSES = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})


class InboundStatus(StrEnum):
    PENDING = "pending"        # committed, not yet turned into ticket changes
    PROCESSED = "processed"
    DUPLICATE = "duplicate"    # same Message-ID as an article already stored
    QUARANTINED = "quarantined"
    DROPPED = "dropped"        # an admin decided a quarantined message needs nothing; raw bytes kept


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"        # claimed by a dispatcher (claimed_by) until claimed_until or its instance dies
    SENT = "sent"              # the relay accepted it (recorded right after its 250)
    FAILED = "failed"          # refused permanently, or not delivered within send_queue_lifetime_hours
    BOUNCED = "bounced"        # accepted by the relay, then reported undeliverable (a DSN came back)
    HELD = "held"              # an SMS over the recipient's hourly limit, waiting to be summarised
    SUMMARISED = "summarised"  # a held SMS told of in one summary SMS instead


class Disposition(StrEnum):
    """What processing made of a message (the disposition log and `inbound show` name it)."""

    CREATED = "created"
    APPENDED = "appended"
    REOPENED = "reopened"
    DUPLICATE = "duplicate"
    BOUNCE = "bounce"                    # a delivery report, recorded against the mail it reports
    CONFIRMED = "confirmed"              # the client agreed a resolved ticket may be closed
    STAFF_REPLY = "staff-reply"          # a technician's answer, mailed to the client
    STAFF_NOTE = "staff-note"            # staff mail kept internal
    COMMANDS_REFUSED = "commands-refused"
    STAFF_UNVERIFIED = "staff-unverified"  # mail naming a staff From without proof: kept internal, did nothing
    SMS_KEYWORD = "sms-keyword"          # STOP, START or HELP: the number's SMS opt-out, no ticket
    INVOICE_REPLY = "invoice-reply"      # a fin-admin's #approve / #reject (or a refused one); no ticket
