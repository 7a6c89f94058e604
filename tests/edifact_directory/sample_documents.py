"""Invoice documents for the EDIFACT tests, computed here as the period run computes them: each
line's net amount is quantity x price rounded half-up to the currency's minor unit, the tax per
(rate, category) is the rate applied to that group's net sum, rounded half-up, and the totals are
the sums. (The run itself belongs to the billing code; these tests need documents without it.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from helpdesk.gateway.billing.document import InvoiceDocument, InvoiceLine, Party, TaxSummary

MINOR_UNITS = {"EUR": 2, "PLN": 2, "CZK": 2, "JPY": 0, "KWD": 3}


@dataclass(frozen=True)
class LineSpec:
    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal = Decimal("23")
    unit: str = "HUR"
    kind: str = "hours"


SUPPLIER = Party("5901234123457", "14", "Serwis Pomocy Technicznej sp. z o.o.", "ul. Piotrkowska 104",
                 "Łódź", "90-926", "PL", "PL7251234567")
BUYER = Party("CLIENT-0042", "ZZZ", "Dvořák a syn, s.r.o.", "Náměstí Míru 15", "Brno", "60200", "CZ",
              "CZ25596641")


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNITS[currency])


def make_document(lines: list[LineSpec], *, currency: str = "EUR", charset: str = "UNOC",
                  supplier: Party = SUPPLIER, buyer: Party = BUYER, **overrides) -> InvoiceDocument:
    q = quantum(currency)
    invoice_lines = tuple(
        InvoiceLine(
            number=index, kind=spec.kind, description=spec.description, quantity=spec.quantity,
            unit=spec.unit, unit_price=spec.unit_price,
            net_amount=(spec.quantity * spec.unit_price).quantize(q, rounding=ROUND_HALF_UP),
            vat_rate=spec.vat_rate, tax_category="S" if spec.vat_rate else "Z",
        )
        for index, spec in enumerate(lines, start=1)
    )
    taxes = tax_summaries(invoice_lines, q)
    line_total = sum((line.net_amount for line in invoice_lines), Decimal(0))
    tax_total = sum((tax.tax_amount for tax in taxes), Decimal(0))
    issue = overrides.pop("issue_date", date(2026, 11, 1))
    values = dict(
        number="FV/2026/000123", issue_date=issue, period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31), currency=currency, supplier=supplier, buyer=buyer,
        lines=invoice_lines, taxes=taxes, line_total=line_total, taxable_total=line_total,
        tax_total=tax_total, invoice_total=line_total + tax_total, payment_terms_days=14,
        due_date=issue + timedelta(days=14), contract_number="K-2026-17", charset=charset,
        control_reference="INV000123",
    )
    values.update(overrides)
    return InvoiceDocument(**values)


def tax_summaries(lines: tuple[InvoiceLine, ...], q: Decimal) -> tuple[TaxSummary, ...]:
    groups: dict[tuple[Decimal, str], Decimal] = {}
    for line in lines:
        key = (line.vat_rate, line.tax_category)
        groups[key] = groups.get(key, Decimal(0)) + line.net_amount
    return tuple(
        TaxSummary(rate, category, taxable, (taxable * rate / 100).quantize(q, rounding=ROUND_HALF_UP))
        for (rate, category), taxable in sorted(groups.items())
    )
