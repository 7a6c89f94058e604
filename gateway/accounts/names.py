"""What a name or short text typed by an admin may contain, checked the same way at every entry.

Names end up in mail headers (a technician's name on From, a contact's on To) and in database
columns of a fixed width. So a name is one line of valid Unicode text: no control characters
(C0 with CR, LF, TAB and NUL; DEL; C1 with NEL U+0085), no line or paragraph separator
(U+2028, U+2029), no lone surrogate (what undecodable bytes of a command line become). And it
fits its column, checked here rather than by the database: SQLite stores a 5,000-character
name that PostgreSQL refuses, and both must refuse it alike, with one line naming the field.
The CLI, the CSV import and the queues of rules.yaml all come through here; names taken from
mail are cleaned instead of refused (inbound/charsets.clean_line), since mail is never lost.
"""

from __future__ import annotations

import re
import unicodedata

from helpdesk.gateway.ground.errors import UserError

_NOT_IN_A_LINE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# Multi-line text (contract notes) keeps its line breaks and tabs; NUL and the rest stay out
# (PostgreSQL refuses NUL in text, SQLite would keep it).
_NOT_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SHORT_NAMES = {"\r": "CR", "\n": "LF", "\t": "TAB", "\x00": "NUL", "\x7f": "DEL", "\x85": "NEL"}


def column_length(table: type, column: str) -> int | None:
    """The declared width of a column of a store table (None: unbounded text)."""
    return getattr(table.__table__.c[column].type, "length", None)


def describe_character(char: str) -> str:
    """'CR (U+000D)', 'LINE SEPARATOR (U+2028)': what an admin can look for in their input."""
    code = f"U+{ord(char):04X}"
    if "\ud800" <= char <= "\udfff":
        return f"a byte that is not UTF-8 ({code})"
    name = _SHORT_NAMES.get(char) or unicodedata.name(char, "") or "control character"
    return f"{name} ({code})"


def line_problem(value: str, max_length: int | None) -> str | None:
    """Why `value` cannot be a one-line name of at most `max_length` characters; None if it can."""
    found = _NOT_IN_A_LINE.search(value)
    if found:
        return (f"contains {describe_character(found.group())} at character {found.start() + 1}; "
                "it must be one line of text without control characters")
    if max_length is not None and len(value) > max_length:
        return f"is {len(value)} characters long; at most {max_length} fit"
    return None


def check_line(value: str, field: str, max_length: int | None, *, missing: str | None = None) -> str:
    """`value` without surrounding spaces, or UserError naming `field` and the problem.
    `missing` is the error for an empty value; without it, empty is allowed."""
    problem = line_problem(value, None)
    if problem:
        raise UserError(f"{field} {problem}")
    value = value.strip()
    if missing and not value:
        raise UserError(missing)
    problem = line_problem(value, max_length)
    if problem:
        raise UserError(f"{field} {problem}")
    return value


def check_text(value: str, field: str, max_length: int | None = None) -> str:
    """Multi-line text (notes): line breaks and tabs are fine, other control characters are not."""
    found = _NOT_IN_TEXT.search(value)
    if found:
        raise UserError(f"{field} contains {describe_character(found.group())} at character {found.start() + 1}")
    if max_length is not None and len(value) > max_length:
        raise UserError(f"{field} is {len(value)} characters long; at most {max_length} fit")
    return value
