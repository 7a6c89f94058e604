"""An invoice as an EDIFACT interchange: one INVOIC D.96A message between UNB and UNZ, built with
pydifact and encoded in the character set the partner agreed (doc.charset).

    build_segments(doc, now=...)     the segments UNB..UNZ (UNA is the serializer's; see below)
    build_interchange(doc, now=...)  the octets to send: UNA, the segments, in the UNB charset
    describe_segments(segments)      one segment a line, for people (`invoices show --format edi`)

UNA is always written, with "." as the decimal mark (pydifact's default is ","), "?" as the release
character, and, in syntax version 4 (UNOW/UNOY), "*" as the repetition separator, which is then
escaped in text like the other service characters.
"""

from __future__ import annotations

from datetime import datetime

from pydifact.segments import Segment
from pydifact.serializer import Serializer

from helpdesk.gateway.billing.document import InvoiceDocument
from helpdesk.gateway.billing.edi_charsets import encode_for
from helpdesk.gateway.billing.edifact_envelope import (
    interchange_header,
    interchange_trailer,
    message_header,
    message_trailer,
    syntax_version,
)
from helpdesk.gateway.billing.edifact_heading import heading_segments
from helpdesk.gateway.billing.edifact_lines import line_segments, summary_segments
from helpdesk.gateway.billing.edifact_values import service_characters

__all__ = ["build_interchange", "build_segments", "describe_segments", "encode_for"]


def build_segments(doc: InvoiceDocument, *, now: datetime) -> list[Segment]:
    """UNB, UNH, the INVOIC body, UNT (counting UNH..UNT), UNZ (one message).

    ValueError when the document lacks what the directory makes mandatory (a party identifier,
    the invoice number): an interchange the partner must reject is not built at all."""
    _check_mandatory(doc)
    body = heading_segments(doc)
    for line in doc.lines:
        body += line_segments(doc, line)
    body += summary_segments(doc)
    segments = [
        interchange_header(doc, now),
        message_header(doc),
        *body,
        message_trailer(doc, len(body)),
        interchange_trailer(doc, 1),
    ]
    return [_as_read(segment) for segment in segments]


def build_interchange(doc: InvoiceDocument, *, now: datetime) -> bytes:
    """The interchange as octets in doc.charset, UNA first."""
    characters = service_characters(syntax_version(doc))
    written = Serializer(characters).serialize(build_segments(doc, now=now), with_una_header=True)
    # Every text was fitted to the charset while the segments were built; encode_for only turns
    # the characters into octets here (and would spell anything left over rather than fail).
    return encode_for(doc.charset, written)


def describe_segments(segments: list[Segment]) -> str:
    """The segments one a line, escaped as in the interchange, UNA first."""
    version = _version_of(segments)
    characters = service_characters(version)
    serializer = Serializer(characters)
    lines = [characters.service_string_advice]
    lines += [serializer.serialize([segment], with_una_header=False) for segment in segments if segment.tag != "UNA"]
    return "\n".join(lines) + "\n"


def _check_mandatory(doc: InvoiceDocument) -> None:
    missing = [
        what for what, value in (
            ("the invoice number (BGM 1004)", doc.number),
            ("the supplier's EDI party identifier (UNB S002, NAD C082)", doc.supplier.edi_id),
            ("the buyer's EDI party identifier (UNB S003, NAD C082)", doc.buyer.edi_id),
        )
        if not value.strip()
    ]
    if missing:
        raise ValueError(f"invoice {doc.number!r} cannot be written as EDIFACT: it lacks {' and '.join(missing)}")


def _as_read(segment: Segment) -> Segment:
    """The segment as a parser reads it back: trailing empty components dropped (as the serializer
    drops them) and a composite of one component a plain value, so built and parsed compare equal."""
    elements = []
    for element in segment.elements:
        if isinstance(element, list):
            element = list(element)
            while element and element[-1] == "":
                element.pop()
            element = element[0] if len(element) == 1 else (element or "")
        elements.append(element)
    return Segment(segment.tag, *elements)


def _version_of(segments: list[Segment]) -> int:
    for segment in segments:
        if segment.tag == "UNB" and isinstance(segment.elements[0], list):
            return int(segment.elements[0][1])
    return 3
