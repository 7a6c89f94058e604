"""An InvoiceDocument as JSON and back: how an issued invoice is stored and exported."""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from datetime import date
from decimal import Decimal

from helpdesk.gateway.billing.document import InvoiceDocument, InvoiceLine, Party, TaxSummary

_DATES = {"issue_date", "period_start", "period_end", "due_date"}
_DECIMALS = {"quantity", "unit_price", "net_amount", "vat_rate", "taxable_amount", "tax_amount", "line_total",
             "taxable_total", "tax_total", "invoice_total"}


def _plain(value):
    # By hand rather than dataclasses.asdict, which deep-copies every value: a third of the cost
    # of storing an invoice in a period run.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value


def document_dict(doc: InvoiceDocument) -> dict:
    """Amounts as strings (exact decimals), dates as ISO 8601."""
    return _plain(doc)


def document_json(doc: InvoiceDocument) -> str:
    return json.dumps(document_dict(doc), ensure_ascii=False, sort_keys=True)


def _typed(cls, data: dict):
    values = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name in _DATES:
            value = date.fromisoformat(value)
        elif f.name in _DECIMALS:
            value = Decimal(value)
        values[f.name] = value
    return cls(**values)


def document_from_json(text: str) -> InvoiceDocument:
    data = json.loads(text)
    data["supplier"], data["buyer"] = _typed(Party, data["supplier"]), _typed(Party, data["buyer"])
    data["lines"] = tuple(_typed(InvoiceLine, line) for line in data["lines"])
    data["taxes"] = tuple(_typed(TaxSummary, tax) for tax in data["taxes"])
    data["notes"] = tuple(data.get("notes", ()))
    return _typed(InvoiceDocument, data)
