"""The heading section of an INVOIC D.96A message: BGM, the dates, the contract (SG1), the parties
(SG2 with their VAT numbers in SG3), the currency (SG7) and the payment terms (SG8).

Lengths are the directory's (EDSD/EDCD D.96A): C080 party name 5 x an..35, C059 street 4 x an..35,
3164 city an..35, 3251 postcode an..9, 3207 country an..3, C506 1154 reference an..35.
"""

from __future__ import annotations

from datetime import date

from pydifact.segments import Segment

from helpdesk.gateway.billing.document import InvoiceDocument, Party
from helpdesk.gateway.billing.edifact_values import text, text_components

MESSAGE_FUNCTION_ORIGINAL = "9"  # 1225: original
DATE_FORMAT = "102"              # 2379: CCYYMMDD
PERIOD_FORMAT = "718"            # 2379: CCYYMMDD-CCYYMMDD
DOCUMENT_DATE = "137"            # 2005: document/message date/time
INVOICING_PERIOD = "263"         # 2005: invoicing period
NET_DUE_DATE = "13"              # 2005: terms net due date

# UNB partner qualifier (0007) -> NAD code list responsible agency (3055): a GLN is "14" in UNB
# and "9" (EAN) in NAD; a DUNS number "1" and "16"; anything else is mutually defined.
_NAD_AGENCIES = {"14": "9", "9": "9", "1": "16", "16": "16"}
MUTUALLY_DEFINED = "ZZZ"


def heading_segments(doc: InvoiceDocument) -> list[Segment]:
    segments = [
        Segment("BGM", [doc.document_type], text(doc.charset, doc.number, 35), MESSAGE_FUNCTION_ORIGINAL),
        Segment("DTM", [DOCUMENT_DATE, _day(doc.issue_date), DATE_FORMAT]),
        Segment("DTM", [INVOICING_PERIOD, f"{_day(doc.period_start)}-{_day(doc.period_end)}", PERIOD_FORMAT]),
    ]
    if doc.contract_number:
        segments.append(Segment("RFF", ["CT", text(doc.charset, doc.contract_number, 35)]))
    segments += party_segments(doc.charset, "SU", doc.supplier)
    segments += party_segments(doc.charset, "BY", doc.buyer)
    # CUX: 6347 "2" reference currency, 6343 "4" invoicing currency.
    segments.append(Segment("CUX", ["2", doc.currency, "4"]))
    segments += payment_terms(doc)
    return segments


def party_segments(charset: str, role: str, party: Party) -> list[Segment]:
    """NAD (SG2) and, when the party has a VAT number, its RFF+VA (SG3)."""
    elements: list = [
        role,
        [text(charset, party.edi_id, 35), "", nad_agency(party.edi_qualifier)],
        "",  # C058 unstructured address: we give the structured one
        text_components(charset, party.name, 35, 5) or [text(charset, party.edi_id, 35)],
        text_components(charset, party.street, 35, 4),
        text(charset, party.city, 35),
        "",  # 3229 country sub-entity
        text(charset, party.postcode, 9),
        text(charset, party.country, 3),
    ]
    segments = [Segment("NAD", *_without_trailing_empties(elements))]
    if party.vat_number:
        segments.append(Segment("RFF", ["VA", text(charset, party.vat_number, 35)]))
    return segments


def nad_agency(unb_qualifier: str) -> str:
    return _NAD_AGENCIES.get(unb_qualifier, MUTUALLY_DEFINED)


def payment_terms(doc: InvoiceDocument) -> list[Segment]:
    """PAT+1 (basic terms) due a number of days (D) after (3) the invoice date (5), with the due date."""
    return [
        Segment("PAT", "1", "", ["5", "3", "D", str(doc.payment_terms_days)]),
        Segment("DTM", [NET_DUE_DATE, _day(doc.due_date), DATE_FORMAT]),
    ]


def _day(day: date) -> str:
    return day.strftime("%Y%m%d")


def _without_trailing_empties(elements: list) -> list:
    while elements and elements[-1] in ("", []):
        elements.pop()
    return elements
