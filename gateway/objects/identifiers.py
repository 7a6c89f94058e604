"""What an object's identifier, name, type, location and attributes may be, checked alike for the
CLI, the CSV import and mail (`[OBJ SRV-01]`).

An identifier is a serial or inventory number: 1-64 characters of letters, digits and `._/-`,
starting with a letter or digit, so the default subject tag (settings.object_tag_pattern) can
carry every identifier the CLI accepts. Identifiers are compared without case.
"""

from __future__ import annotations

import json
import re
from datetime import date

from helpdesk.gateway.accounts.names import check_line, column_length
from helpdesk.gateway.ground.errors import UserError
from helpdesk.store.object_tables import ClientObject, ObjectDocument

IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
DOCUMENT_KINDS = ("document", "inspection-report", "manual", "configuration")
SIDES = ("client", "technician")
_ATTRIBUTE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_identifier(value: str) -> str:
    """The identifier without surrounding spaces, or UserError saying what is wrong with it."""
    value = check_line(value, "the object identifier", None, missing="the object identifier is empty")
    if not IDENTIFIER.fullmatch(value):
        raise UserError(f"object identifier {value!r} is not valid: 1-64 letters, digits and . _ / -, "
                        "starting with a letter or digit")
    return value


def check_object_field(value: str, field: str) -> str:
    """A one-line name, type or location that fits its column of client_object."""
    return check_line(value, f"the object {field}", column_length(ClientObject, field))


def check_document_kind(value: str) -> str:
    kind = value.strip().lower()
    if kind not in DOCUMENT_KINDS:
        raise UserError(f"unknown document type {value!r}; use one of {', '.join(DOCUMENT_KINDS)}")
    return kind


def check_document_name(value: str) -> str:
    """A document's file name: already made safe (inbound/parse.safe_filename), it must still fit."""
    return check_line(value, "the document name", column_length(ObjectDocument, "filename"),
                      missing="the document name is empty")


def check_interval(days: int | None) -> int | None:
    if days is not None and not 1 <= days <= 36600:
        raise UserError(f"the inspection interval must be 1 to 36600 days, not {days}")
    return days


def parse_day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UserError(f"{field} {value!r} is not a date (YYYY-MM-DD)") from None


def parse_attributes(pairs: list[str], start: dict | None = None) -> dict:
    """`key=value` pairs onto `start`; an empty value removes the key."""
    attributes = dict(start or {})
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not _ATTRIBUTE_KEY.fullmatch(key):
            raise UserError(f"attribute {pair!r} is not key=value (key: letters, digits and . _ -)")
        value = check_line(value, f"attribute {key}", 1000)
        if value:
            attributes[key] = value
        else:
            attributes.pop(key, None)
    if len(json.dumps(attributes)) > 20000:
        raise UserError("the attributes are too long (at most 20,000 characters as JSON)")
    return attributes
