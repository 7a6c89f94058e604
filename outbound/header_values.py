"""Header values of outbound mail: refused when they would break the head, folded when they are long.

A value that is short printable ASCII is written as it is (the common case, and cheap). A long
one is folded before a space; one that is not ASCII, holds a control character, looks like an
encoded word or has a word too long to fold is written as RFC 2047 encoded words, which are
split at characters so that every line stays within 78 octets (RFC 5322 2.1.1: 998 is the
limit, 78 the recommendation). The only line breaks in a head are the folds made here: a value
carrying CR, LF or NUL itself raises HeaderInjection, whatever its source.
"""

from __future__ import annotations

import base64
import re
from urllib.parse import quote

from helpdesk.gateway.ground.errors import HeaderInjection

MAX_LINE = 78
# RFC 2047 2: an encoded word is at most 75 characters; "=?utf-8?b?" + "?=" leave 63 for base64,
# that is 15 groups of 4 characters, each carrying 3 octets.
_WORD_OVERHEAD = len("=?utf-8?b??=")
_MAX_WORD_OCTETS = 45
_PLAIN = re.compile(r"[ -~]*")  # printable ASCII
_BREAKS = re.compile(r"[\r\n\x00]")
_FOLD_POINT = re.compile(r"(?<=.) (?=[^ ])")  # before the last space of a run, never at the start
# A display name of atoms (RFC 5322 3.2.3) with single spaces needs no quotes, and folds exactly.
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


def refuse_breaks(field: str, value: str) -> str:
    """`value` as it is, or HeaderInjection when it would end its header line early."""
    if _BREAKS.search(value):
        raise HeaderInjection(f"{field} would carry a line break or NUL: {value!r:.120}")
    return value


def is_plain(value: str) -> bool:
    """Printable ASCII a reader takes literally ("=?" would be read as the start of an encoded word)."""
    return _PLAIN.fullmatch(value) is not None and "=?" not in value


def _last_line_width(value: str, used: int) -> int:
    _first, fold, last = value.rpartition("\r\n")
    return len(last.encode()) if fold else used + len(value.encode())


def fold_plain(value: str, used: int) -> str | None:
    """Plain text folded before single spaces so that every line fits MAX_LINE (`used` octets of the
    first line are taken); unfolding gives back exactly `value`. None when a word is too long."""
    if used + len(value) <= MAX_LINE:
        return value
    lines, width = [""], used
    start = 0
    for point in [m.start() for m in _FOLD_POINT.finditer(value)] + [len(value)]:
        chunk, start = value[start:point], point
        if width + len(chunk) > MAX_LINE and lines[-1]:
            lines.append("")
            width = 0
        lines[-1] += chunk
        width += len(chunk)
        if width > MAX_LINE:
            return None
    return "\r\n".join(lines)


def encoded_words(text: str, used: int) -> str:
    """`text` as UTF-8 'B' encoded words, split between characters, one per line after the first."""
    words: list[bytes] = []
    room = min((MAX_LINE - used - _WORD_OVERHEAD) // 4 * 3, _MAX_WORD_OCTETS)
    prefix = ""
    if room < 4:  # not even one character fits after what is on the line: start on the next
        prefix, room = "\r\n ", _MAX_WORD_OCTETS
    chunk = b""
    for char in text:
        octets = char.encode("utf-8")
        if len(chunk) + len(octets) > room:
            words.append(chunk)
            chunk, room = b"", _MAX_WORD_OCTETS
        chunk += octets
    words.append(chunk)
    return prefix + "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words)


def encode_subject(subject: str, tag: str) -> str:
    """Plain when it can be; else encoded words after an ASCII tag kept readable: '[HD#1] =?utf-8?b?...?='."""
    refuse_breaks("Subject", subject)
    used = len("Subject: ")
    if is_plain(subject) and not subject.startswith(" "):  # a reader drops leading spaces
        folded = fold_plain(subject, used)
        if folded is not None:
            return folded
    readable = f"{tag} " if tag and is_plain(tag) and subject.startswith(f"{tag} ") else ""
    rest = subject[len(readable):]
    return readable + encoded_words(rest, used + len(readable)) if rest else readable


def display_name(name: str, used: int) -> str:
    """A display name as atoms, a quoted string, or encoded words (which keep every character)."""
    if is_plain(name):
        if _ATOMS.fullmatch(name):
            folded = fold_plain(name, used)
            if folded is not None:
                return folded
        else:
            quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
            if used + len(quoted) <= MAX_LINE:
                return quoted
    return encoded_words(name, used)


def format_address(name: str, address: str, field: str = "To", used: int | None = None, reserve: int = 0) -> str:
    """A From/To/Cc value; `used` octets of its first line are taken (by default by "To: "), `reserve`
    octets of its last are kept free (for a comma). An internationalized address (RFC 6532) is
    written as UTF-8 as it is; it cannot be folded, so it gets a line of its own when needed."""
    refuse_breaks(field, address)
    refuse_breaks(f"{field} display name", name)
    if not name:
        return address
    used = len(field) + 2 if used is None else used
    display = display_name(name, used)
    fits = _last_line_width(display, used) + len(address.encode()) + 3 + reserve <= MAX_LINE
    return f"{display} <{address}>" if fits else f"{display}\r\n <{address}>"


def filename_param(name: str) -> str:
    """The filename parameter of Content-Disposition; a long or non-ASCII one in RFC 2231 pieces
    (filename*0*=..., filename*1*=...) of at most 60 characters, so no line passes MAX_LINE."""
    if name.isascii() and name.isprintable() and '"' not in name and "\\" not in name and len(name) <= 60:
        return f'filename="{name}"'
    encoded = "utf-8''" + quote(name, safe="", encoding="utf-8", errors="replace")
    if len(encoded) <= 60:
        return f"filename*={encoded}"
    pieces, piece = [], ""
    for token in re.findall(r"%[0-9A-F]{2}|[^%]", encoded):  # never cut a %XX escape
        if len(piece) + len(token) > 60:
            pieces.append(piece)
            piece = ""
        piece += token
    pieces.append(piece)
    return ";\r\n ".join(f"filename*{i}*={p}" for i, p in enumerate(pieces))
