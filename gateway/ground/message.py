"""Plain data passed between pipeline stages; no database, no protocol."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class BounceReport:
    recipient: str            # the failed final recipient, lower-cased ("" if unknown)
    action: str               # "failed", "delayed", "delivered", "relayed", "expanded"
    status: str               # e.g. "5.1.1" ("" if none)
    diagnostic: str           # Diagnostic-Code text, one line, capped at MAX_DIAGNOSTIC characters
    original_message_id: str | None   # Message-ID of the returned message, without <>, if present
    permanent: bool           # action failed and status class 5
    # The Original-Recipient (RFC 3464 2.3.1) when it differs from `recipient` (an alias or forward
    # rewrote the address we sent to), else "": a report may name our recipient only there.
    original_recipient: str = ""


@dataclass(frozen=True)
class RawInbound:
    """A message as received, before anything is parsed: what intake commits."""

    raw: bytes
    envelope_from: str | None
    envelope_to: tuple[str, ...]
    source: str = "smtp"
    channel: str = "email"


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class InboundMail:
    """A received message reduced to what the helpdesk decides on (an SMS becomes one too)."""

    inbound_id: int
    channel: str                  # "email" (later "sms")
    envelope_from: str | None     # "" for the null sender <>, None when unknown (pipe)
    envelope_to: tuple[str, ...]
    sender: str                   # From address, lower-cased
    sender_name: str
    recipients: tuple[str, ...]   # To + Cc addresses
    message_id: str               # without angle brackets; synthesized when missing
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names, first value
    attachments: tuple[ParsedAttachment, ...] = ()
    source: str = ""              # "smtp", "pipe", "imap:<mailbox>"
    # The author's new part of `text`: quoted history and signature removed (gateway/quoting.py).
    new_text: str = ""
    # Every Authentication-Results header (RFC 8601), topmost (added last, nearest us) first.
    auth_results: tuple[str, ...] = ()
    bounce: BounceReport | None = None  # set when the message is a delivery status notification
    # What parsing could not read and where it went (parts nested too deep), for the processing log.
    parse_notes: tuple[str, ...] = ()
    # The mail came without a Message-ID and the parser made `message_id` up: no answer may refer to it.
    message_id_synthesized: bool = False
