"""Build the RFC 5322 bytes of an outbound mail from an intent and its rendered text.

Written out directly rather than through email.message.EmailMessage: the header registry
costs about 2 ms a message, more than everything else the pipeline does for it.
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from datetime import datetime
from email.header import Header
from email.utils import format_datetime, formataddr

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


def encode_subject(subject: str, tag: str) -> str:
    """RFC 2047 where needed, keeping an ASCII tag readable: '[HD#1] =?utf-8?q?...?='."""
    if subject.isascii():
        return subject
    header = Header(header_name="Subject")
    if subject.startswith(tag):
        header.append(tag, "us-ascii")
        subject = subject[len(tag):].lstrip()
    header.append(subject, "utf-8")
    return header.encode(linesep="\r\n")


def format_address(name: str, address: str) -> str:
    """A From/To value; an internationalized address (RFC 6532) is written as UTF-8 as it is."""
    if address.isascii():
        return formataddr((name, address), charset="utf-8")
    if not name:
        return address
    display = str(Header(name, "utf-8").encode()) if not name.isascii() else f'"{name}"'
    return f"{display} <{address}>"


def _body(text: str) -> tuple[str, bytes]:
    data = text.replace("\r\n", "\n").encode("utf-8")
    if data.isascii():
        return "7bit", data.replace(b"\n", b"\r\n")
    # quoted-printable keeps the .eml files readable and is safe for relays without 8BITMIME
    encoded = binascii.b2a_qp(data, istext=True)
    return "quoted-printable", encoded.replace(b"\n", b"\r\n")


def compose_mail(intent: OutboundIntent, rendered: RenderedMail, *, tag: str, support_name: str,
                 support_address: str, message_id: str, now: datetime) -> ComposedMail:
    """`message_id` (without brackets) comes from gateway.message_ids, signed."""
    subject = rendered.subject if tag in rendered.subject else f"{tag} {rendered.subject}"
    encoding, body = _body(rendered.body)
    headers = [
        ("From", format_address(support_name, support_address)),
        ("Reply-To", support_address),
        ("To", format_address(intent.to_name, intent.to_address)),
        ("Subject", encode_subject(subject, tag)),
        ("Date", format_datetime(now)),
        ("Message-ID", f"<{message_id}>"),
    ]
    if intent.in_reply_to:
        headers.append(("In-Reply-To", f"<{intent.in_reply_to}>"))
        headers.append(("References", "\r\n ".join(f"<{r}>" for r in intent.references[-MAX_REFERENCES:])))
    headers += [
        # RFC 3834: mark our automatic replies so well-behaved autoresponders stay silent.
        ("Auto-Submitted", "auto-replied"),
        ("X-Loop", support_address),
        ("MIME-Version", "1.0"),
        ("Content-Type", 'text/plain; charset="utf-8"'),
        ("Content-Transfer-Encoding", encoding),
    ]
    if intent.locale:
        headers.append(("Content-Language", intent.locale))
    # ASCII except for internationalized addresses (RFC 6532), which need an SMTPUTF8 relay.
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8")
    return ComposedMail(message_id, support_address, (intent.to_address,), head + b"\r\n" + body)
