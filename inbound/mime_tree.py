"""Raw bytes to a tree of MIME parts with the stdlib's parser, nested at most MAX_DEPTH levels deep.

The stdlib parser recurses once per level of nesting (multipart in multipart, message/rfc822 in
message/rfc822), and so do its generator and our walker: mail nested thousands deep would end in
RecursionError and be quarantined. Here the parser stops splitting below MAX_DEPTH: such a part
keeps its headers and gets the rest of its bytes, unparsed, as its body (a "nested remainder"),
so everything above it is read as usual and nothing below it is lost.
"""

from __future__ import annotations

import re
from email.feedparser import BytesFeedParser
from email.message import Message
from email.policy import Compat32

MAX_DEPTH = 50  # levels of parts read below the top; deeper nesting is no mail a person wrote
_HEADER_END = re.compile(rb"\r?\n\r?\n|\r\r")
_HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")


class RawHeaders(Compat32):
    """compat32, but header values come back as the raw strings (8-bit bytes as surrogate escapes)
    instead of email.header.Header objects, so mail_headers.py decodes them its own, tolerant way."""

    def header_fetch_parse(self, name, value):
        return value


POLICY = RawHeaders()


def _repair_header_block(raw: bytes) -> bytes:
    """NUL bytes out of the header block (RFC 5322 forbids them; the stdlib ends the headers at one),
    and a line that is no header but sits between two headers made a continuation of the one
    before (a program that wrapped a long value without indenting), instead of ending the headers."""
    end = _HEADER_END.search(raw)
    if end is None:
        return raw.replace(b"\x00", b"")
    lines = raw[:end.start()].replace(b"\x00", b"").split(b"\n")
    for i in range(1, len(lines) - 1):
        if not _HEADER_LINE.match(lines[i]) and _HEADER_LINE.match(lines[i + 1]) and lines[i][:1] not in (b" ", b"\t"):
            lines[i] = b" " + lines[i]
    return b"\n".join(lines) + raw[end.start():]


class MimePart(Message):
    """A part as the parser made it; `nested_remainder` marks one too deep to be split further."""

    nested_remainder = False

    def get_content_type(self) -> str:
        # The parser decides by this whether to split a part; a remainder reads as opaque data, so the
        # rest is not parsed, while its own headers stay as they came (its .eml is what was received).
        return "application/octet-stream" if self.nested_remainder else super().get_content_type()


class _BoundedParser(BytesFeedParser):
    """The stdlib's parser, which recurses once per level, told to stop splitting below max_depth."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(_factory=MimePart, policy=POLICY)
        self._max_depth = max_depth

    def _new_message(self) -> None:
        # The parser's own hook as each part begins, before its headers are read (private, but the same
        # since Python 3.2; tests/test_deep_nesting.py fails should it change).
        super()._new_message()
        if len(self._msgstack) > self._max_depth + 1:  # the stack holds the part and every ancestor
            self._cur.nested_remainder = True


def parse_bytes(raw: bytes, max_depth: int = MAX_DEPTH) -> Message:
    """Parts nested up to max_depth levels below the top are split; each one below is a remainder."""
    parser = _BoundedParser(max_depth)
    parser.feed(_repair_header_block(raw))
    return parser.close()
