"""Build the RFC 5322 bytes of an outbound mail from an intent and its rendered text.

Written out directly rather than through email.message.EmailMessage: the header registry
costs about 2 ms a message, more than everything else the pipeline does for it. Every value
goes through outbound/header_values.py, which refuses CR, LF and NUL and folds long values.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from datetime import datetime
from email.utils import format_datetime

from helpdesk.gateway.ground.outgoing import ComposedMail, OutboundIntent, RenderedMail
from helpdesk.outbound.header_values import encode_subject, filename_param, format_address, refuse_breaks

# Keep References bounded: long threads otherwise grow headers past what servers accept.
MAX_REFERENCES = 20
# A Message-ID cannot be folded: a longer one (a sender may use up to 998 characters) is left out of
# In-Reply-To and References rather than making a line of over 998 octets.
MAX_ID_IN_HEADER = 998 - len("In-Reply-To: <>")
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


def _body(text: str) -> tuple[str, bytes]:
    data = text.replace("\r\n", "\n").encode("utf-8")
    if data.isascii():
        return "7bit", data.replace(b"\n", b"\r\n")
    # quoted-printable keeps the .eml files readable and is safe for relays without 8BITMIME
    encoded = binascii.b2a_qp(data, istext=True)
    return "quoted-printable", encoded.replace(b"\n", b"\r\n")


def _safe_type(content_type: str) -> str:
    """Only "type/subtype" of what a sender declared: parameters or line breaks never reach our headers."""
    mime_type = content_type.split(";")[0].strip().lower()
    return mime_type if _MIME_TYPE.fullmatch(mime_type) else "application/octet-stream"


def _attachment_part(filename: str, content_type: str, data: bytes) -> bytes:
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    head = (f"Content-Type: {_safe_type(content_type)}\r\n"
            f"Content-Disposition: attachment;\r\n {filename_param(filename)}\r\n"
            "Content-Transfer-Encoding: base64\r\n\r\n")
    return head.encode("ascii") + encoded


def _content(body_text: str, intent: OutboundIntent) -> tuple[list[tuple[str, str]], bytes]:
    """MIME headers and body: plain text alone, or multipart/mixed when attachments go along."""
    encoding, body = _body(body_text)
    text_headers = [("Content-Type", 'text/plain; charset="utf-8"'), ("Content-Transfer-Encoding", encoding)]
    if not intent.attachments:
        return text_headers, body
    boundary = f"=_hd_{secrets.token_hex(12)}"
    text_part = "".join(f"{n}: {v}\r\n" for n, v in text_headers).encode("ascii") + b"\r\n" + body
    parts = [text_part] + [_attachment_part(a.filename, a.content_type, a.data) for a in intent.attachments]
    sep = f"\r\n--{boundary}\r\n".encode("ascii")
    payload = sep.lstrip(b"\r\n") + sep.join(parts) + f"\r\n--{boundary}--\r\n".encode("ascii")
    return [("Content-Type", f'multipart/mixed; boundary="{boundary}"')], payload


def _address_headers(intent: OutboundIntent, support_name: str, support_address: str,
                     reply_to: str | None) -> list[tuple[str, str]]:
    headers = [
        ("From", format_address(intent.from_name or support_name, support_address, "From")),
        # pressing Reply always comes back to the gateway
        ("Reply-To", refuse_breaks("Reply-To", reply_to or support_address)),
        ("To", format_address(intent.to_name, intent.to_address, "To")),
    ]
    if intent.cc:  # one address a line; each but the last is followed by its comma
        last = len(intent.cc) - 1
        headers.append(("Cc", ",\r\n ".join(
            format_address(name, address, "Cc", used=len("Cc: ") if i == 0 else 1, reserve=int(i < last))
            for i, (address, name) in enumerate(intent.cc))))
    return headers


def _thread_headers(intent: OutboundIntent) -> list[tuple[str, str]]:
    """In-Reply-To and References, so the client's mail program shows our mail in its thread."""
    if not intent.in_reply_to:
        return []
    references = [refuse_breaks("References", r) for r in intent.references[-MAX_REFERENCES:]
                  if len(r) <= MAX_ID_IN_HEADER]
    headers = []
    if len(refuse_breaks("In-Reply-To", intent.in_reply_to)) <= MAX_ID_IN_HEADER:
        headers.append(("In-Reply-To", f"<{intent.in_reply_to}>"))
    if references:
        headers.append(("References", "\r\n ".join(f"<{r}>" for r in references)))
    return headers


def compose_mail(intent: OutboundIntent, rendered: RenderedMail, *, tag: str, support_name: str,
                 support_address: str, message_id: str, now: datetime, reply_to: str | None = None,
                 rcpt_to: tuple[str, ...] | None = None) -> ComposedMail:
    """`message_id` (without brackets) comes from gateway.message_ids, signed. `reply_to` is the
    recipient's signed reply address (else the support address); `rcpt_to` the envelope
    recipients of this copy (else all of To and Cc): each person gets a copy with their own.
    Raises HeaderInjection when any value would carry CR, LF or NUL into the head."""
    subject = rendered.subject if tag in rendered.subject else f"{tag} {rendered.subject}"
    headers = _address_headers(intent, support_name, support_address, reply_to)
    headers += [("Subject", encode_subject(subject, tag)), ("Date", format_datetime(now)),
                ("Message-ID", f"<{refuse_breaks('Message-ID', message_id)}>"), *_thread_headers(intent)]
    if intent.auto_submitted:  # RFC 3834: so well-behaved autoresponders stay silent
        headers.append(("Auto-Submitted", refuse_breaks("Auto-Submitted", intent.auto_submitted)))
    content_headers, body = _content(rendered.body, intent)
    headers += [("X-Loop", support_address), ("MIME-Version", "1.0"), *content_headers]
    if intent.locale:
        headers.append(("Content-Language", refuse_breaks("Content-Language", intent.locale)))
    # ASCII except for internationalized addresses (RFC 6532), which need an SMTPUTF8 relay.
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8")
    recipients = rcpt_to or (intent.to_address,) + tuple(address for address, _ in intent.cc)
    return ComposedMail(message_id, support_address, recipients, head + b"\r\n" + body)
