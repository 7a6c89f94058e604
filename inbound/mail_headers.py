"""Header values as text: RFC 2047 encoded words (also broken ones), raw 8-bit bytes, addresses, Message-IDs."""

from __future__ import annotations

import base64
import binascii
import functools
import logging
import re
from email.utils import getaddresses

from helpdesk.inbound.charsets import clean_line, decode_bytes, raw_bytes

# flanker builds its address parsers with ply at import time and logs every unreachable grammar
# symbol at WARNING through Python's last-resort handler: silence that one logger.
logging.getLogger("flanker.addresslib._parser.parser").setLevel(logging.ERROR)

from flanker.addresslib import address  # noqa: E402

# Its lexer logs every odd character of an address header at WARNING (and sets its own level on
# import, hence after it); the stdlib takes over when flanker fails, so that is not worth a line.
logging.getLogger("flanker.addresslib._parser.lexer").setLevel(logging.ERROR)

# RFC 2047 encoded word; tolerant: a missing "?=" at the end of the value, RFC 2231 "*lang" suffix.
_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)(?:\?=|(?=\s)|$)")
_BETWEEN_WORDS = re.compile(r"\s+")
_MSGID = re.compile(r"<([^<>\s\x00-\x1f\x7f]+)>")
_BARE_MSGID = re.compile(r"^[^<>\s\x00-\x1f\x7f]+@[^<>\s\x00-\x1f\x7f]+$")
MAX_ADDRESS = 320   # RFC 5321 4.5.3.1: 64 + 1 + 255; also the width of the address columns
MAX_MESSAGE_ID = 998  # RFC 5322 line length; also the width of the Message-ID columns
MAX_REFERENCES = 100


def _decode_word_bytes(encoding: str, text: str) -> bytes | None:
    if encoding in "qQ":
        return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]),
                      text.replace("_", " ").encode("ascii", "replace"))
    cleaned = re.sub(r"[^A-Za-z0-9+/]", "", text)
    cleaned = cleaned[: len(cleaned) - len(cleaned) % 4 if len(cleaned) % 4 == 1 else None]
    try:  # a missing padding is common; a single dangling character is dropped above
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except (binascii.Error, ValueError):
        return None


def _decode_words(value: str) -> str:
    """Decode every encoded word. Adjacent words of one charset are joined before decoding, because
    some mail programs split a multi-byte character between two words."""
    pieces: list[tuple[str | None, bytes | str]] = []  # (charset, bytes) of words, (None, text) between
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position:match.start()]
        # Whitespace between two encoded words is not part of the text (RFC 2047 6.2).
        if between and not (between.isspace() and pieces and pieces[-1][0] is not None):
            pieces.append((None, between))
        charset, data = match.group(1).lower(), _decode_word_bytes(match.group(2), match.group(3))
        if data is None:  # undecodable: keep the word as it came
            pieces.append((None, match.group(0)))
        elif pieces and pieces[-1][0] == charset:
            pieces[-1] = (charset, pieces[-1][1] + data)
        else:
            pieces.append((charset, data))
        position = match.end()
    pieces.append((None, value[position:]))
    return "".join(text if charset is None else decode_bytes(text, charset) for charset, text in pieces)


def unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])|\r(?=[ \t])", "", value).replace("\r", " ").replace("\n", " ")


def header_text(value: str) -> str:
    """A raw header value (8-bit bytes arrive as surrogate escapes) as the text its author wrote."""
    value = unfold(value)
    if not value.isascii():  # raw 8-bit (RFC 6532 UTF-8, or a legacy charset nobody declared)
        value = decode_bytes(raw_bytes(value))
    return clean_line(_decode_words(value) if "=?" in value else value)


_ENCODED_RUN = re.compile(rf"{_ENCODED_WORD.pattern}(?:\s+{_ENCODED_WORD.pattern})*")


def _quote_encoded_words(value: str) -> str:
    """Encoded words only belong in display names; as quoted strings they can hold "," or "<" safely."""
    def quoted(match: re.Match) -> str:
        text = _decode_words(match.group(0)).replace("\\", "\\\\").replace('"', '\\"')
        return f'"{text}"'
    return _ENCODED_RUN.sub(quoted, value)


def _parsed_addresses(value: str) -> tuple[tuple[str, str], ...]:
    # The same To and From values come again and again (every client writes to the support
    # address; a monitoring system or a mass mailing's auto-replies repeat their From), and flanker's
    # parser is the costliest part of parsing a plain mail. Only header-sized values are kept.
    return _parsed_addresses_remembered(value) if len(value) <= _REMEMBERED_LENGTH else _parse_addresses(value)


_REMEMBERED_LENGTH = 998  # RFC 5322's line limit


# The shape nearly every From and To has: one plain ASCII address, bare or in <>, with an optional
# display name of plain words or in quotes. flanker's parser (a ply grammar) takes ~0.3 ms to say
# what this says in microseconds; tests/test_mail_headers.py checks the two agree on all of it.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_ADDRESS = rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+"
_PLAIN_MAILBOX = re.compile(
    rf" ?(?:(?P<bare>{_PLAIN_ADDRESS})"
    r"|(?:(?P<words>[A-Za-z0-9]+(?:[ .-][A-Za-z0-9]+)*)"
    r"|\"(?P<quoted>[A-Za-z0-9][A-Za-z0-9,.-]*(?: [A-Za-z0-9,.-]+)*)\")?"
    rf" ?<(?P<inside>{_PLAIN_ADDRESS})>) ?")


def _plain_mailbox(value: str) -> tuple[tuple[str, str], ...] | None:
    """The one (name, address) of a plain value; None for anything else (flanker reads that)."""
    match = _PLAIN_MAILBOX.fullmatch(value)
    if match is None or "xn--" in value.lower():  # flanker shows an IDNA domain in Unicode
        return None
    local, _, domain = (match["bare"] or match["inside"]).rpartition("@")
    if len(local) > 64 or len(domain) > 253:  # RFC 5321's limits, which flanker enforces
        return None
    return ((match["words"] or match["quoted"] or "", f"{local}@{domain.lower()}"),)


def _parse_addresses(value: str) -> tuple[tuple[str, str], ...]:
    """(display name, address) pairs: flanker first, the stdlib for what flanker refuses."""
    if len(value) <= MAX_ADDRESS and (plain := _plain_mailbox(value)) is not None:
        return plain
    return _parse_with_flanker(value)


def _parse_with_flanker(value: str) -> tuple[tuple[str, str], ...]:
    value = unfold(value)
    if not value.isascii():
        value = decode_bytes(raw_bytes(value))
    value = clean_line(_quote_encoded_words(value) if "=?" in value else value)
    found = [(a.display_name or "", a.address) for a in address.parse_list(value) if hasattr(a, "address")]
    if not found:  # e.g. a missing ">", an unquoted "." or "@" in the name
        found = [(name, addr) for name, addr in getaddresses([value]) if "@" in addr]
    found = [(clean_line(name), clean_line(addr)) for name, addr in found]
    return tuple((name, addr) for name, addr in found if 0 < len(addr) <= MAX_ADDRESS and " " not in addr)


_parsed_addresses_remembered = functools.lru_cache(maxsize=4096)(_parse_addresses)


def first_address(value: str | None) -> tuple[str, str] | None:
    """(display name, address) of the first usable address in a From/Sender value."""
    found = _parsed_addresses(value) if value else []
    return found[0] if found else None


def addresses(*values: str | None) -> tuple[str, ...]:
    found = [addr.lower() for value in values if value for _name, addr in _parsed_addresses(value)]
    return tuple(dict.fromkeys(found))


def extract_message_ids(value: str | None) -> tuple[str, ...]:
    """All <id> tokens of an In-Reply-To/References header, in order, without brackets; a lone bare
    id@host (some mail programs leave out the brackets) counts too. Over-long ids are dropped."""
    value = header_text(value or "")
    found = _MSGID.findall(value) or ([value] if _BARE_MSGID.match(value) else [])
    found = [m for m in found if len(m) <= MAX_MESSAGE_ID]
    if len(found) > MAX_REFERENCES:  # keep the thread's root and the most recent ancestors
        found = found[:1] + found[-(MAX_REFERENCES - 1):]
    return tuple(found)
