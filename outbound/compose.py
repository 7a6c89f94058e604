"""Build the RFC 5322 bytes of an outbound mail from an intent and its rendered text."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from gateway.notify import OutboundIntent
from outbound.render import RenderedMail

# Keep References bounded: long threads otherwise grow headers past what servers accept.
MAX_REFERENCES = 20


@dataclass(frozen=True)
class ComposedMail:
    message_id: str   # without angle brackets
    mail_from: str    # envelope sender
    rcpt_to: tuple[str, ...]
    raw: bytes


def new_message_id(ticket_number: int, domain: str) -> str:
    return f"hd{ticket_number}.{secrets.token_hex(8)}@{domain}"


def _address(display_name: str, email: str) -> Address:
    local, _, domain = email.rpartition("@")
    return Address(display_name=display_name or "", username=local, domain=domain)


def compose_mail(intent: OutboundIntent, rendered: RenderedMail, *, tag: str, support_name: str,
                 support_address: str, domain: str, now: datetime) -> ComposedMail:
    message_id = new_message_id(intent.ticket_number, domain)
    subject = rendered.subject if tag in rendered.subject else f"{tag} {rendered.subject}"
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = _address(support_name, support_address)
    msg["Reply-To"] = support_address
    msg["To"] = _address(intent.to_name, intent.to_address)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{message_id}>"
    if intent.in_reply_to:
        msg["In-Reply-To"] = f"<{intent.in_reply_to}>"
        msg["References"] = " ".join(f"<{r}>" for r in intent.references[-MAX_REFERENCES:])
    # RFC 3834: mark our automatic replies so well-behaved autoresponders stay silent.
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Loop"] = support_address
    if intent.locale:
        msg["Content-Language"] = intent.locale
    msg.set_content(rendered.body, charset="utf-8")
    return ComposedMail(message_id, support_address, (intent.to_address,), msg.as_bytes())
