"""Build the RFC 5322 bytes of an outbound mail from an intent and its rendered text.

Written out directly rather than through email.message.EmailMessage: the header registry
costs about 2 ms a message, more than everything else the pipeline does for it.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from datetime import datetime
from email.header import Header
from email.utils import encode_rfc2231, format_datetime, formataddr

from helpdesk.gateway.ground.outgoing import ComposedMail, OutboundIntent, RenderedMail

# Keep References bounded: long threads otherwise grow headers past what servers accept.
MAX_REFERENCES = 20
_MIME_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


def encode_subject(subject: str, tag: str) -> str:
    """RFC 2047 where needed, keeping an ASCII tag readable: '[HD#1] =?utf-8?q?...?='."""
    if subject.isascii() and len(subject) <= 900:
        return subject
    if subject.isascii():  # folded, or relays refuse the line (998 octets at most, RFC 5322 2.1.1)
        return Header(subject, "us-ascii", header_name="Subject").encode(linesep="\r\n")
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
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    display = str(Header(name, "utf-8").encode()) if not name.isascii() else f'"{quoted}"'
    return f"{display} <{address}>"


def _body(text: str) -> tuple[str, bytes]:
    data = text.replace("\r\n", "\n").encode("utf-8")
    if data.isascii():
        return "7bit", data.replace(b"\n", b"\r\n")
    # quoted-printable keeps the .eml files readable and is safe for relays without 8BITMIME
    encoded = binascii.b2a_qp(data, istext=True)
    return "quoted-printable", encoded.replace(b"\n", b"\r\n")


def _filename_param(name: str) -> str:
    if name.isascii() and name.isprintable() and '"' not in name and "\\" not in name:
        return f'filename="{name}"'
    return f"filename*={encode_rfc2231(name, 'utf-8')}"  # RFC 2231: non-ASCII names survive every client


def _safe_type(content_type: str) -> str:
    """Only "type/subtype" of what a sender declared: parameters or line breaks never reach our headers."""
    mime_type = content_type.split(";")[0].strip().lower()
    return mime_type if _MIME_TYPE.fullmatch(mime_type) else "application/octet-stream"


def _attachment_part(filename: str, content_type: str, data: bytes) -> bytes:
    encoded = base64.encodebytes(data).replace(b"\n", b"\r\n")
    head = (f"Content-Type: {_safe_type(content_type)}\r\n"
            f"Content-Disposition: attachment; {_filename_param(filename)}\r\n"
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


def compose_mail(intent: OutboundIntent, rendered: RenderedMail, *, tag: str, support_name: str,
                 support_address: str, message_id: str, now: datetime, reply_to: str | None = None,
                 rcpt_to: tuple[str, ...] | None = None) -> ComposedMail:
    """`message_id` (without brackets) comes from gateway.message_ids, signed. `reply_to` is the
    recipient's signed reply address (else the support address); `rcpt_to` the envelope
    recipients of this copy (else all of To and Cc): each person gets a copy with their own."""
    subject = rendered.subject if tag in rendered.subject else f"{tag} {rendered.subject}"
    headers = [
        ("From", format_address(intent.from_name or support_name, support_address)),
        ("Reply-To", reply_to or support_address),  # pressing Reply always comes back to the gateway
        ("To", format_address(intent.to_name, intent.to_address)),
    ]
    if intent.cc:
        headers.append(("Cc", ",\r\n ".join(format_address(name, address) for address, name in intent.cc)))
    headers += [("Subject", encode_subject(subject, tag)), ("Date", format_datetime(now)),
                ("Message-ID", f"<{message_id}>")]
    if intent.in_reply_to:
        headers.append(("In-Reply-To", f"<{intent.in_reply_to}>"))
        headers.append(("References", "\r\n ".join(f"<{r}>" for r in intent.references[-MAX_REFERENCES:])))
    if intent.auto_submitted:  # RFC 3834: so well-behaved autoresponders stay silent
        headers.append(("Auto-Submitted", intent.auto_submitted))
    content_headers, body = _content(rendered.body, intent)
    headers += [("X-Loop", support_address), ("MIME-Version", "1.0"), *content_headers]
    if intent.locale:
        headers.append(("Content-Language", intent.locale))
    # ASCII except for internationalized addresses (RFC 6532), which need an SMTPUTF8 relay.
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8")
    recipients = rcpt_to or (intent.to_address,) + tuple(address for address, _ in intent.cc)
    return ComposedMail(message_id, support_address, recipients, head + b"\r\n" + body)
