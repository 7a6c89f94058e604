"""An invoice as plain values: what the period run computes and every rendering (EDIFACT INVOIC,
JSON, text) reads. Amounts are Decimal, already rounded to the currency's minor unit per line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Party:
    """The supplier (the provider, NAD+SU) or the buyer (the client, NAD+BY)."""

    edi_id: str               # party identifier in UNB and NAD (e.g. a GLN)
    edi_qualifier: str        # UNB code-list qualifier: "14" GLN, "ZZZ" mutually defined, ...
    name: str                 # legal name
    street: str = ""
    city: str = ""
    postcode: str = ""
    country: str = ""         # ISO 3166-1 alpha-2
    vat_number: str = ""      # RFF+VA


@dataclass(frozen=True)
class InvoiceLine:
    number: int               # LIN line number, 1, 2, ...
    kind: str                 # fee, hours, ticket
    description: str          # IMD free text
    quantity: Decimal         # QTY+47
    unit: str                 # UN/ECE rec. 20: "MON" month, "HUR" hour, "C62" piece
    unit_price: Decimal       # PRI+AAA (net)
    net_amount: Decimal       # MOA+203, rounded half-up to the minor unit
    vat_rate: Decimal         # TAX+7+VAT+++:::rate
    tax_category: str         # S, Z, E, AE, ...


@dataclass(frozen=True)
class TaxSummary:
    vat_rate: Decimal
    tax_category: str
    taxable_amount: Decimal   # MOA+125
    tax_amount: Decimal       # MOA+124


@dataclass(frozen=True)
class InvoiceDocument:
    number: str               # BGM document number, from the gap-free sequence
    issue_date: date          # DTM+137
    period_start: date        # DTM+263 / 324, format 718
    period_end: date
    currency: str             # ISO 4217, CUX
    supplier: Party
    buyer: Party
    lines: tuple[InvoiceLine, ...]
    taxes: tuple[TaxSummary, ...]
    line_total: Decimal       # MOA+79
    taxable_total: Decimal    # MOA+125
    tax_total: Decimal        # MOA+176 (and 124)
    invoice_total: Decimal    # MOA+77
    payment_terms_days: int   # PAT+1 ... DTM+13 due date
    due_date: date
    contract_number: str = ""  # RFF+CT
    document_type: str = "380"  # 380 invoice, 381 credit note
    charset: str = "UNOC"       # UNB syntax identifier the partner agreed: UNOA..UNOY
    eancom: bool = False        # UNH association code EAN008 when the partner uses EANCOM
    control_reference: str = ""  # UNB/UNZ interchange control reference (<= 14 characters)
    notes: tuple[str, ...] = field(default_factory=tuple)
