"""Outbound mail as it passes from the deciding code to the outbox and from the outbox to the relay."""

from __future__ import annotations

from dataclasses import dataclass, field

from helpdesk.gateway.ground.message import ParsedAttachment


@dataclass(frozen=True)
class OutboundIntent:
    """A mail the pipeline decided to send; rendered, composed and queued in the same transaction."""

    kind: str                 # also the template name: "acknowledgement", "reopened"
    ticket_number: int
    to_address: str
    to_name: str
    locale: str | None
    in_reply_to: str | None   # Message-ID we answer, for the client's threading
    references: tuple[str, ...] = ()
    context: dict = field(default_factory=dict)
    cc: tuple[tuple[str, str], ...] = ()        # (address, name) of further recipients
    from_name: str | None = None                # display name on From; the support name when None
    attachments: tuple[ParsedAttachment, ...] = ()
    # RFC 3834 marking: "auto-replied" (answers to a sender, limited per hour), "auto-generated"
    # (notifications to staff), None for mail a person wrote (a technician's reply).
    auto_submitted: str | None = "auto-replied"
    # "sms": to_address is a number (E.164) and the rendered body is the text (gateway/pipeline/sms_out.py).
    channel: str = "email"
    sms_note: str = ""  # for an SMS cut to its segment limit: what is appended ("full answer by mail")


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    body: str


@dataclass(frozen=True)
class ComposedMail:
    message_id: str   # without angle brackets
    mail_from: str    # envelope sender
    rcpt_to: tuple[str, ...]
    raw: bytes


@dataclass(frozen=True)
class ClaimedMail:
    """An outbox row a dispatcher holds the lease on."""

    id: int
    mail_from: str
    rcpt_to: tuple[str, ...]
    raw: bytes
    attempts: int


@dataclass(frozen=True)
class SendResult:
    outbox_id: int
    ok: bool
    permanent: bool = False
    code: int | None = None
    detail: str = ""
    # Refused for good at RCPT (550 5.1.1 from the relay): handled like a permanent DSN for them.
    refused_recipients: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeliveryPolicy:
    """The part of the settings the dispatcher needs: retries, give-up, leases and instance liveness."""

    retry_base_seconds: float
    retry_max_seconds: float
    claim_lease_seconds: float
    # A mail not delivered this long after it was queued is given up (an MTA's maximal queue lifetime).
    queue_lifetime_seconds: float
    # A claim whose instance has not written a heartbeat for this long is taken over.
    instance_stale_seconds: float
