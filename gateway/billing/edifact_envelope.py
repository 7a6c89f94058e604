"""The service segments around an INVOIC message (ISO 9735): UNB/UNZ for the interchange, UNH/UNT
for the message, with the counts and references that tie them together.
"""

from __future__ import annotations

import re
from datetime import datetime

from pydifact.segments import Segment

from helpdesk.gateway.billing.document import InvoiceDocument, Party
from helpdesk.gateway.billing.edi_charsets import SYNTAX_VERSIONS, check_charset
from helpdesk.gateway.billing.edifact_values import text

MESSAGE_TYPE = ["INVOIC", "D", "96A", "UN"]
EANCOM_ASSOCIATION = "EAN008"  # EANCOM 1997 INVOIC, the subset built on D.96A
CONTROL_REFERENCE_LENGTH = 14  # 0020 and 0062 are an..14


def syntax_version(doc: InvoiceDocument) -> int:
    """3 for the ISO 8859 sets and the ASCII levels, 4 for UNOW/UNOY (defined only in v4)."""
    return SYNTAX_VERSIONS[check_charset(doc.charset)]


def control_reference(doc: InvoiceDocument) -> str:
    """The interchange control reference: the document's own, else the letters and digits of the
    invoice number (its last 14, which hold the sequence number), so a re-built interchange of the
    same invoice carries the same reference and a partner sees it as a repeat."""
    reference = doc.control_reference or re.sub(r"[^0-9A-Za-z]", "", doc.number)[-CONTROL_REFERENCE_LENGTH:]
    reference = text(doc.charset, reference, CONTROL_REFERENCE_LENGTH)
    if not reference:
        raise ValueError(f"invoice {doc.number!r} has no control reference and no letters or digits")
    return reference


def interchange_header(doc: InvoiceDocument, now: datetime) -> Segment:
    version = syntax_version(doc)
    # v3 writes the date YYMMDD (0017 n6), v4 CCYYMMDD (n8); the time is HHMM in both.
    day = now.strftime("%Y%m%d" if version >= 4 else "%y%m%d")
    return Segment(
        "UNB",
        [doc.charset, str(version)],
        _party_address(doc.charset, doc.supplier),
        _party_address(doc.charset, doc.buyer),
        [day, now.strftime("%H%M")],
        control_reference(doc),
    )


def message_header(doc: InvoiceDocument) -> Segment:
    identifier = MESSAGE_TYPE + ([EANCOM_ASSOCIATION] if doc.eancom else [])
    return Segment("UNH", control_reference(doc), identifier)


def message_trailer(doc: InvoiceDocument, body_count: int) -> Segment:
    """UNT: the number of segments in the message, UNH and UNT included."""
    return Segment("UNT", str(body_count + 2), control_reference(doc))


def interchange_trailer(doc: InvoiceDocument, message_count: int) -> Segment:
    return Segment("UNZ", str(message_count), control_reference(doc))


def _party_address(charset: str, party: Party) -> list[str]:
    # S002/S003: identification an..35, code qualifier an..4.
    address = [text(charset, party.edi_id, 35)]
    if party.edi_qualifier:
        address.append(text(charset, party.edi_qualifier, 4))
    return address
