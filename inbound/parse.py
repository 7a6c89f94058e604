"""Parse a stored raw message into an InboundMail; unreadable mail is quarantined.

Everything here is tolerant of real-world breakage (wrong charsets, broken MIME, NUL bytes,
hostile attachment names): a message is only quarantined when it names no sender at all, or
when something fails that nothing here foresaw. Every string handed on is valid Unicode
without NUL and fits the database columns it is stored in.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from collections.abc import Mapping

from helpdesk.gateway.ground.errors import Quarantine
from helpdesk.gateway.ground.message import InboundMail, ParsedAttachment
from helpdesk.inbound.charsets import clean_text
from helpdesk.inbound.mail_headers import addresses, extract_message_ids, first_address, header_text
from helpdesk.inbound.mime_parts import MAX_DEPTH, REMAINDER_NAME, FoundAttachment, parse_bytes, walk_message

__all__ = ["extract_message_ids", "parse_mail", "safe_filename", "synthesize_message_id"]

MAX_FILENAME = 150
MAX_SUBJECT = 998    # RFC 5322 line length; also the width of the subject columns
MAX_SENDER_NAME = 200  # width of the display-name column
_CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$")
_TRACE_HEADER = re.compile(rb"\A(?:(?:Received|Return-Path):[^\n]*\n(?:[ \t][^\n]*\n)*)+", re.IGNORECASE)


def safe_filename(name: str, index: int) -> str:
    """A name that is safe to write to disk or put in a header: the last path component only, no
    control characters, no leading dots, at most MAX_FILENAME characters with the extension kept."""
    name = unicodedata.normalize("NFC", re.split(r"[/\\]", name or "")[-1])  # macOS sends decomposed names
    # Control and format characters (newlines, NUL, U+202E that reverses "gpj.exe"), odd spaces, and the
    # characters Windows refuses or reads as a stream name (":").
    name = "".join(" " if unicodedata.category(c)[0] in "CZ" else "_" if c in '<>:"|?*' else c for c in name)
    name = " ".join(name.split()).lstrip(". ").rstrip(". ")  # Windows drops trailing dots and spaces anyway
    if len(name) > MAX_FILENAME:
        stem, dot, extension = name.rpartition(".")
        if not dot or not stem or len(extension) > 20:
            stem, extension = name, ""
        keep = MAX_FILENAME - len(extension) - (1 if extension else 0)
        name = stem[:keep].rstrip(". ") + (f".{extension}" if extension else "")
    return name or f"attachment-{index}"


def synthesize_message_id(raw: bytes) -> str:
    """A stable id for mail without Message-ID, so a re-delivery of it is still recognised.

    The trace headers on top (our own Received line among them) differ on every delivery,
    so they are left out of the hash."""
    content = _TRACE_HEADER.sub(b"", raw.replace(b"\r\n", b"\n"))
    return f"{hashlib.sha256(content).hexdigest()[:40]}@no-message-id.invalid"


def _keep_attachments(found: list[FoundAttachment], max_each: int, max_total: int) -> tuple[tuple, list[str]]:
    """Safe names and the size limits; what is not kept is named in a note (the raw message has it)."""
    kept: list[ParsedAttachment] = []
    notes: list[str] = []
    total = 0
    for index, item in enumerate(found, start=1):
        content_type = item.content_type if _CONTENT_TYPE.match(item.content_type) else "application/octet-stream"
        filename = safe_filename(item.name, index)
        if filename == f"attachment-{index}":  # unnamed: the type still says how to open it
            filename += mimetypes.guess_extension(content_type, strict=False) or (
                ".txt" if content_type.startswith("text/") else "")
        size = len(item.data)
        limit = max_each if size > max_each else max_total if total + size > max_total else None
        if limit is not None:
            notes.append(f"[attachment {filename} ({size} bytes) not kept: larger than the limit of {limit} bytes]")
            continue
        total += size
        kept.append(ParsedAttachment(filename, content_type, item.data))
    return tuple(kept), notes


class HeaderValues(Mapping):
    """Each header's first occurrence as text, by lower-cased name, decoded when first read: routing
    and hygiene read a handful of the twenty-odd headers a message has."""

    __slots__ = ("_raw", "_text")

    def __init__(self, raw: dict[str, str]):
        self._raw, self._text = raw, {}

    def __getitem__(self, name: str) -> str:
        if name not in self._text:
            self._text[name] = header_text(self._raw[name])
        return self._text[name]

    def __contains__(self, name: object) -> bool:  # without decoding the value, as Mapping's would
        return name in self._raw

    def __iter__(self):
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def __repr__(self) -> str:
        return f"HeaderValues({dict(self)!r})"


def _first_values(msg) -> dict[str, str]:
    """The raw value of each header's first occurrence by lower-cased name (what Message.get finds,
    without a scan of all headers per name)."""
    raw: dict[str, str] = {}
    for name, value in msg.items():
        raw.setdefault(name.lower(), value)
    return raw


def _decoded_names(raw: dict[str, str]) -> dict[str, str]:
    """The same keyed by the names as text (an 8-bit or encoded-word name is decoded)."""
    if all(name.isascii() and "=?" not in name for name in raw):
        return raw
    decoded: dict[str, str] = {}
    for name, value in raw.items():
        decoded.setdefault(header_text(name).lower(), value)
    return decoded


def _sender(first: dict[str, str], envelope_from: str | None) -> tuple[str, str]:
    found = first_address(first.get("from")) or first_address(first.get("sender"))
    if found is None and envelope_from:
        found = first_address(envelope_from)
    if found is None:
        raise Quarantine("no usable sender address in From, Sender or the envelope")
    name, address = found
    return address.lower(), name[:MAX_SENDER_NAME]


def _text(texts: list[str], notes: list[str]) -> str:
    text = clean_text("\n\n".join(t.strip("\r\n") for t in texts if t.strip()))
    return "\n\n".join(filter(None, [text.strip(), "\n".join(notes)]))


def _depth_notes(remainders: list[FoundAttachment]) -> tuple[str, ...]:
    if not remainders:
        return ()
    size = sum(len(r.data) for r in remainders)
    return (f"nested deeper than {MAX_DEPTH} levels: the rest ({len(remainders)} part(s), {size} bytes) "
            f"attached unread as {REMAINDER_NAME}",)


def parse_mail(raw: bytes, inbound_id: int, envelope_from: str | None, envelope_to: tuple[str, ...],
               source: str = "", *, max_attachment_bytes: int = 20 * 1024 * 1024,
               max_attachments_total: int = 50 * 1024 * 1024) -> InboundMail:
    try:
        msg = parse_bytes(raw)
        first = _first_values(msg)
        sender, sender_name = _sender(first, envelope_from)
        content = walk_message(msg)
        message_ids = extract_message_ids(first.get("message-id"))
        attachments, notes = _keep_attachments([*content.attachments, *content.remainders], max_attachment_bytes,
                                               max_attachments_total)
        return InboundMail(
            inbound_id=inbound_id,
            channel="email",
            envelope_from=envelope_from,
            envelope_to=envelope_to,
            sender=sender,
            sender_name=sender_name,
            recipients=addresses(first.get("to"), first.get("cc")),
            message_id=message_ids[0] if message_ids else synthesize_message_id(raw),
            message_id_synthesized=not message_ids,
            in_reply_to=extract_message_ids(first.get("in-reply-to")),
            references=extract_message_ids(first.get("references")),
            subject=header_text(first.get("subject") or "")[:MAX_SUBJECT],
            text=_text(content.texts, notes),
            headers=HeaderValues(_decoded_names(first)),
            attachments=attachments,
            source=source,
            auth_results=tuple(header_text(v) for v in msg.get_all("authentication-results") or ()),
            parse_notes=_depth_notes(content.remainders),
        )
    except Quarantine:
        raise
    except Exception as exc:  # whatever nothing above foresaw: keep the message aside, with the reason
        raise Quarantine(f"unparseable message: {type(exc).__name__}: {exc}"[:2000]) from exc
