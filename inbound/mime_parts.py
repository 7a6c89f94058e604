"""Walk a message's MIME tree: the text its author wrote, and every other part as a found attachment.

The stdlib parser (not flanker's) does the splitting: flanker decodes the whole message with one
guessed charset before it finds the parts, which garbles mail whose parts use different charsets,
and it gives up on a multipart without its boundaries. The stdlib keeps each part's bytes and
records what was broken as defects; this module then recovers what it can (a boundary that is
not the declared one, uuencoded files inside text, format=flowed lines).

The walker, like the parser (mime_tree.py), goes at most MAX_DEPTH levels deep: a part below that
comes whole, unread, as the attachment nested-remainder.eml, and the text says so.
"""

from __future__ import annotations

import base64
import binascii
import io
import quopri
import re
from dataclasses import dataclass, field
from email.generator import BytesGenerator
from email.message import Message

from helpdesk.inbound.charsets import decode_bytes, raw_bytes
from helpdesk.inbound.html_text import html_charset, html_to_text
from helpdesk.inbound.mail_headers import header_text
from helpdesk.inbound.mime_tree import MAX_DEPTH, POLICY, parse_bytes

__all__ = ["MAX_DEPTH", "REMAINDER_NAME", "FoundAttachment", "MimeContent", "parse_bytes", "walk_message"]

REMAINDER_NAME = "nested-remainder.eml"
TOO_DEEP = f"[parts nested deeper than {MAX_DEPTH} levels are not shown; they are attached as {REMAINDER_NAME}]"
_BODY_TYPES = ("text/plain", "text/html")
_UUENCODED = re.compile(r"^begin [0-7]{3,4} ([^\n]+)\n(.*?)^end[ \t]*$\n?", re.MULTILINE | re.DOTALL)
_BOUNDARY_LINE = re.compile(rb"^--([^\s\"]{1,200}?)(?:--)?[ \t]*\r?\n(?=[A-Za-z][A-Za-z0-9-]*:)", re.MULTILINE)
_BASE64_LINE = re.compile(r"^[A-Za-z0-9+/]*={0,2}$")
_BASE64_TEXT = re.compile(r"[A-Za-z0-9+/\s]*=*\s*")
_SHOWN_HEADERS = ("From", "Date", "Subject", "To", "Cc")


@dataclass(frozen=True)
class FoundAttachment:
    name: str  # as the message gives it: not yet safe to use as a file name
    content_type: str
    data: bytes


@dataclass
class MimeContent:
    texts: list[str] = field(default_factory=list)
    attachments: list[FoundAttachment] = field(default_factory=list)
    # Parts below MAX_DEPTH, each whole as nested-remainder.eml; also from inside enclosed messages.
    remainders: list[FoundAttachment] = field(default_factory=list)


def _filename(part: Message) -> str:
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        value = part.get_param(param, header=header)
        if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded Latin-1 text)
            return decode_bytes(raw_bytes(value[2]), value[0])
        if value:
            return header_text(value)
    return ""


def _base64_payload(part: Message) -> bytes:
    """Base64 with lines of garbage in it (a scanner's or list's footer): the stdlib drops the foreign
    characters but decodes on, out of step for the rest of the part; here such lines are skipped."""
    payload = str(part.get_payload())
    if _BASE64_TEXT.fullmatch(payload):  # the usual case, and fast for large attachments
        return part.get_payload(decode=True) or b""
    lines = [line.strip() for line in payload.splitlines()]
    text = "".join(line for line in lines if _BASE64_LINE.match(line))
    text = text[: len(text) - 1 if len(text) % 4 == 1 else None]  # a dangling character cannot be decoded
    try:
        return base64.b64decode(text.rstrip("=") + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return part.get_payload(decode=True) or b""


def _param(part: Message, name: str) -> str:
    value = part.get_param(name)
    return str(value[2] if isinstance(value, tuple) else value or "")  # a tuple when RFC 2231-encoded


def _payload(part: Message) -> bytes:
    if (part.get("content-transfer-encoding") or "").strip().lower() == "base64":
        return _base64_payload(part)
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _is_attachment(part: Message, is_root: bool) -> bool:
    disposition = (part.get("content-disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment" or (not is_root and bool(_filename(part)))


def _unflow(text: str, delete_space: bool) -> str:
    """RFC 3676 format=flowed: a line ending in a space continues on the next one at the same quote depth."""
    out: list[str] = []
    pending: tuple[int, str] | None = None
    for raw_line in text.split("\n"):
        depth = len(raw_line) - len(raw_line.lstrip(">"))
        line = raw_line[depth:]
        line = line[1:] if line.startswith(" ") else line  # space-stuffing (RFC 3676 4.4)
        if pending is not None and pending[0] == depth:
            line = pending[1] + line
        elif pending is not None:
            out.append(">" * pending[0] + (" " if pending[0] else "") + pending[1])
        pending = None
        if line.endswith(" ") and line != "-- ":
            pending = (depth, line[:-1] if delete_space else line)
        else:
            out.append(">" * depth + (" " if depth else "") + line)
    if pending is not None:
        out.append(">" * pending[0] + (" " if pending[0] else "") + pending[1])
    return "\n".join(out)


def _uudecode(lines: str) -> bytes:
    data = bytearray()
    for line in lines.splitlines():
        if not line.strip() or line == "`":
            continue
        try:
            data += binascii.a2b_uu(line)
        except (binascii.Error, ValueError):  # trailing garbage some encoders add: cut to the declared length
            try:
                data += binascii.a2b_uu(line[:(((ord(line[0]) - 32) & 63) * 4 + 5) // 3])
            except (binascii.Error, ValueError):
                continue  # a broken line is lost here; the raw message still has it
    return bytes(data)


def _recover_multipart(part: Message, max_depth: int) -> Message | None:
    """A multipart whose declared boundary never appears: find the boundary actually used.
    Parsed again as a message of its own, it may only nest as deep as the part still may."""
    body = _payload(part)
    ctype = part.get_content_type()
    ctype = ctype if ctype.isascii() else "multipart/mixed"
    candidates = dict.fromkeys(match.group(1) for match in _BOUNDARY_LINE.finditer(body))
    for boundary in list(candidates)[:3]:  # each try parses the whole body again
        rebuilt = parse_bytes(f"Content-Type: {ctype}; boundary=\"".encode() + boundary + b'"\r\n\r\n' + body,
                              max_depth)
        if rebuilt.is_multipart() and rebuilt.get_payload():
            return rebuilt
    return None


def _reparsed(inner: Message, encoding: str, max_depth: int) -> Message:
    """An enclosed message that was itself base64 or quoted-printable encoded, decoded and parsed again."""
    encoded = _as_bytes(inner)
    try:
        decoded = base64.b64decode(encoded) if encoding == "base64" else quopri.decodestring(encoded)
        return parse_bytes(decoded, max_depth)
    except (binascii.Error, ValueError):
        return inner


def _as_bytes(msg: Message) -> bytes:
    out = io.BytesIO()
    try:
        BytesGenerator(out, mangle_from_=False, maxheaderlen=0).flatten(msg)
    except UnicodeEncodeError:  # the stdlib decodes a broken multipart's 8-bit text and cannot write it back
        return msg.as_string(policy=POLICY).encode("utf-8", "surrogateescape")
    except RecursionError:  # not expected below MAX_DEPTH levels; should it happen, the raw message has it
        return b""
    return out.getvalue()


class _Walker:
    def __init__(self, remainders: list[FoundAttachment] | None = None, enclosed: bool = False) -> None:
        self.content = MimeContent()
        # Inside an enclosed message only the text is used (the message is attached whole, once, by the
        # outermost walker); what was too deep to read is gathered there too, to be attached on its own.
        self.remainders = self.content.remainders if remainders is None else remainders
        self.enclosed = enclosed

    def visit(self, part: Message, depth: int, text_wanted: bool = True, is_root: bool = False) -> None:
        ctype = part.get_content_type()
        if depth > MAX_DEPTH or getattr(part, "nested_remainder", False):
            self._remainder(part)
            return
        if ctype.endswith("delivery-status") and part.is_multipart():
            blocks = b"\n".join(_as_bytes(block) for block in part.get_payload())
            self.content.attachments.append(FoundAttachment("delivery-status.txt", ctype, blocks))
        elif ctype.startswith("message/") and part.is_multipart():
            self._enclosed(part, depth, text_wanted)
        elif ctype == "multipart/alternative" and part.is_multipart():
            self._alternative(part, depth, text_wanted)
        elif part.is_multipart():
            for sub in part.get_payload():
                self.visit(sub, depth + 1, text_wanted)
        elif part.get_content_maintype() == "multipart":
            self._unsplit_multipart(part, depth, text_wanted)
        elif ctype in _BODY_TYPES and not _is_attachment(part, is_root):
            if text_wanted:
                self._body_text(part, ctype)
        else:
            self.content.attachments.append(FoundAttachment(_filename(part), ctype, _payload(part)))

    def _unsplit_multipart(self, part: Message, depth: int, text_wanted: bool) -> None:
        """A multipart the parser could not split: its declared boundary never appears."""
        if depth >= MAX_DEPTH:  # the parts it holds would be too deep to read
            self._remainder(part)
            return
        recovered = _recover_multipart(part, MAX_DEPTH - depth - 1)
        if recovered is not None:
            self.visit(recovered, depth + 1, text_wanted)
        elif text_wanted:  # no structure to be found: at least the text is not lost
            self.content.texts.append(decode_bytes(_payload(part), part.get_content_charset()))

    def _remainder(self, part: Message) -> None:
        """Too deep to read: the part whole, as received, and a line in the text saying where it went."""
        self.remainders.append(FoundAttachment(REMAINDER_NAME, "message/rfc822", _as_bytes(part)))
        if TOO_DEEP not in self.content.texts:
            self.content.texts.append(TOO_DEEP)

    def _body_text(self, part: Message, ctype: str) -> None:
        data = _payload(part)
        charset = part.get_content_charset()
        if ctype == "text/html":
            self.content.texts.append(html_to_text(decode_bytes(data, charset or html_charset(data))))
            return
        text = decode_bytes(data, charset).replace("\r\n", "\n").replace("\r", "\n")
        if _param(part, "format").lower() == "flowed":
            text = _unflow(text, _param(part, "delsp").lower() == "yes")
        uuencoded = list(_UUENCODED.finditer(text))
        for match in uuencoded:
            self.content.attachments.append(
                FoundAttachment(match.group(1).strip(), "application/octet-stream", _uudecode(match.group(2))))
        if uuencoded:
            text = re.sub(r"\n{3,}", "\n\n", _UUENCODED.sub("", text))
        self.content.texts.append(text)

    def _alternative(self, part: Message, depth: int, text_wanted: bool) -> None:
        """One rendering of the text (plain preferred, unless empty); the other renderings only
        give their attachments (an invitation's text/calendar, an HTML version's images)."""
        subparts = part.get_payload()
        chosen = next((s for s in subparts if s.get_content_type() == "text/plain" and _payload(s).strip()), None)
        chosen = chosen or next((s for s in subparts if s.get_content_type() == "text/html"), None)
        chosen = chosen or next((s for s in subparts if s.is_multipart()), None)
        for sub in subparts:
            if sub is chosen:
                self.visit(sub, depth + 1, text_wanted)
            elif sub.get_content_type() not in _BODY_TYPES:
                self.visit(sub, depth + 1, text_wanted=False)

    def _enclosed(self, part: Message, depth: int, text_wanted: bool) -> None:
        """A forwarded message: kept whole as a .eml attachment, its text shown after a header block."""
        if not part.get_payload():
            return
        inner = part.get_payload(0)
        encoding = (part.get("content-transfer-encoding") or "").strip().lower()
        if encoding in ("base64", "quoted-printable"):  # not allowed (RFC 2046 5.2.1), but it happens
            inner = _reparsed(inner, encoding, MAX_DEPTH - depth - 1)
        if not self.enclosed:
            self.content.attachments.append(FoundAttachment(_filename(part), "message/rfc822", _as_bytes(inner)))
        if not text_wanted:
            return
        nested = _Walker(self.remainders, enclosed=True)
        nested.visit(inner, depth + 1, is_root=True)
        lines = [f"{name}: {header_text(inner[name])}" for name in _SHOWN_HEADERS if inner.get(name)]
        body = "\n\n".join(t.strip() for t in nested.content.texts if t.strip())
        self.content.texts.append("\n".join(["---------- Attached message ----------", *lines, "", body]))


def walk_message(msg: Message) -> MimeContent:
    walker = _Walker()
    walker.visit(msg, 0, is_root=True)
    return walker.content
