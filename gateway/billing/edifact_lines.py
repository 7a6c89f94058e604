"""The detail and summary sections of an INVOIC D.96A message: one SG25 per invoice line, then
UNS, CNT, the totals (SG48) and the tax per rate (SG50).

The order follows the D.96A message structure, which puts CNT right after UNS and before the SG48
totals. Group numbers are the directory's: MOA of a line is SG26, PRI SG28, TAX SG33.
"""

from __future__ import annotations

from pydifact.segments import Segment

from helpdesk.gateway.billing.document import InvoiceDocument, InvoiceLine
from helpdesk.gateway.billing.edifact_values import amount, price, quantity, text, text_components

LINE_AMOUNT = "203"        # 5025: line item amount
LINE_TOTAL = "79"          # 5025: total line items amount
TAXABLE_AMOUNT = "125"     # 5025: taxable amount
TAX_AMOUNT = "124"         # 5025: tax amount
TAX_TOTAL = "176"          # 5025: message total duty/tax/fee amount
INVOICE_TOTAL = "77"       # 5025: invoice amount
INVOICED_QUANTITY = "47"   # 6063: invoiced quantity
NET_PRICE = "AAA"          # 5125: calculation net
TAX_FUNCTION = "7"         # 5283: tax
LINE_COUNT = "2"           # 6069: number of line items in message
DETAIL_END = "S"           # 0081: detail/summary section separation


def line_segments(doc: InvoiceDocument, line: InvoiceLine) -> list[Segment]:
    description = text_components(doc.charset, line.description, 35, 2) or [line.kind]
    return [
        Segment("LIN", str(line.number)),
        # IMD+F: free-form description in C273's two 7008 components (an..35 each).
        Segment("IMD", "F", "", ["", "", "", *description]),
        Segment("QTY", [INVOICED_QUANTITY, quantity(line.quantity), text(doc.charset, line.unit, 3)]),
        Segment("MOA", [LINE_AMOUNT, amount(line.net_amount, doc.currency)]),
        Segment("PRI", [NET_PRICE, price(line.unit_price, doc.currency)]),
        tax_segment(doc.charset, line.vat_rate, line.tax_category),
    ]


def summary_segments(doc: InvoiceDocument) -> list[Segment]:
    segments = [
        Segment("UNS", DETAIL_END),
        Segment("CNT", [LINE_COUNT, str(len(doc.lines))]),
    ]
    for qualifier, value in (
        (LINE_TOTAL, doc.line_total),
        (TAXABLE_AMOUNT, doc.taxable_total),
        (TAX_TOTAL, doc.tax_total),
        (INVOICE_TOTAL, doc.invoice_total),
    ):
        segments.append(Segment("MOA", [qualifier, amount(value, doc.currency)]))
    for tax in doc.taxes:
        segments += [
            tax_segment(doc.charset, tax.vat_rate, tax.tax_category),
            Segment("MOA", [TAXABLE_AMOUNT, amount(tax.taxable_amount, doc.currency)]),
            Segment("MOA", [TAX_AMOUNT, amount(tax.tax_amount, doc.currency)]),
        ]
    return segments


def tax_segment(charset: str, rate, category: str) -> Segment:
    """TAX+7+VAT+++:::<rate>+<category>: the rate in C243's 5278 (an..17), the category in 5305."""
    return Segment("TAX", TAX_FUNCTION, ["VAT"], "", "", ["", "", "", quantity(rate)], text(charset, category, 3))
