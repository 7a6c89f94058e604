"""Parse a stored raw message with flanker into an InboundMail; unreadable mail is quarantined."""

from __future__ import annotations

import hashlib
import logging
import re

from gateway.errors import Quarantine
from gateway.message import InboundMail, ParsedAttachment
from inbound.html_text import html_to_text

# flanker builds its address parsers with ply at import time and logs every unreachable
# grammar symbol at WARNING through Python's last-resort handler: silence that one logger.
logging.getLogger("flanker.addresslib._parser.parser").setLevel(logging.ERROR)

from flanker import mime  # noqa: E402
from flanker.addresslib import address  # noqa: E402

_MSGID = re.compile(r"<([^<>\s]+)>")


def extract_message_ids(value: str | None) -> tuple[str, ...]:
    """All <id> tokens of an In-Reply-To/References header, in order, without brackets."""
    return tuple(_MSGID.findall(value or ""))


def _first_address(value: str | None):
    if not value:
        return None
    parsed = address.parse_list(value)
    return parsed[0] if len(parsed) else None


def _addresses(*values: str | None) -> tuple[str, ...]:
    found: list[str] = []
    for value in values:
        if value:
            found.extend(a.address.lower() for a in address.parse_list(value) if hasattr(a, "address"))
    return tuple(dict.fromkeys(found))


def _body_and_attachments(msg) -> tuple[str, tuple[ParsedAttachment, ...]]:
    plain: str | None = None
    html: str | None = None
    attachments: list[ParsedAttachment] = []
    for part in msg.walk(with_self=True):
        ctype = part.content_type
        if ctype.is_multipart() or ctype.is_message_container():
            continue
        if part.is_attachment() or not ctype.main == "text":
            body = part.body
            data = body if isinstance(body, bytes) else str(body).encode("utf-8")
            name = part.detected_file_name or f"attachment-{len(attachments) + 1}"
            attachments.append(ParsedAttachment(name, str(ctype), data))
        elif ctype.sub == "plain" and plain is None:
            plain = part.body
        elif ctype.sub == "html" and html is None:
            html = part.body
    text = plain if plain is not None else html_to_text(html) if html is not None else ""
    return text.replace("\r\n", "\n").strip(), tuple(attachments)


_TRACE_HEADER = re.compile(rb"\A(?:(?:Received|Return-Path):[^\n]*\n(?:[ \t][^\n]*\n)*)+", re.IGNORECASE)


def synthesize_message_id(raw: bytes) -> str:
    """A stable id for mail without Message-ID, so a re-delivery of it is still recognised.

    The trace headers on top (our own Received line among them) differ on every delivery,
    so they are left out of the hash."""
    content = _TRACE_HEADER.sub(b"", raw.replace(b"\r\n", b"\n"))
    return f"{hashlib.sha256(content).hexdigest()[:40]}@no-message-id.invalid"


def parse_mail(raw: bytes, inbound_id: int, envelope_from: str | None, envelope_to: tuple[str, ...],
               source: str = "") -> InboundMail:
    try:
        msg = mime.from_string(raw)
        headers: dict[str, str] = {}
        for name, value in msg.headers.items():
            headers.setdefault(name.lower(), str(value))  # the first occurrence counts
        sender = _first_address(headers.get("from")) or _first_address(headers.get("sender"))
        if sender is None and envelope_from:
            sender = _first_address(envelope_from)
        if sender is None or not getattr(sender, "address", None):
            raise Quarantine("no usable sender address in From, Sender or the envelope")
        text, attachments = _body_and_attachments(msg)
        subject = msg.subject or ""
    except Quarantine:
        raise
    except Exception as exc:  # flanker raises many kinds on broken MIME; keep the message
        raise Quarantine(f"unparseable message: {type(exc).__name__}: {exc}") from exc
    return InboundMail(
        inbound_id=inbound_id,
        channel="email",
        envelope_from=envelope_from,
        envelope_to=envelope_to,
        sender=sender.address.lower(),
        sender_name=sender.display_name or "",
        recipients=_addresses(headers.get("to"), headers.get("cc")),
        message_id=next(iter(extract_message_ids(headers.get("message-id"))), None)
        or synthesize_message_id(raw),
        in_reply_to=extract_message_ids(headers.get("in-reply-to")),
        references=extract_message_ids(headers.get("references")),
        subject=" ".join(subject.split()),
        text=text,
        headers=headers,
        attachments=attachments,
        source=source,
    )
