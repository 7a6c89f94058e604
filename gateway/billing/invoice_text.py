"""An invoice for people: plain text (`invoices show`, `export --format text`) and JSON."""

from __future__ import annotations

from helpdesk.gateway.billing.document import InvoiceDocument, Party
from helpdesk.gateway.billing.invoice_json import document_dict


def invoice_json(doc: InvoiceDocument, status: dict) -> dict:
    """The document (amounts as exact decimal strings) with the invoice's state beside it."""
    return {**status, "document": document_dict(doc)}


def _party(title: str, party: Party) -> list[str]:
    place = " ".join(filter(None, (party.postcode, party.city)))
    lines = [f"{title}: {party.name}"] + [f"    {v}" for v in (party.street, place, party.country) if v]
    if party.vat_number:
        lines.append(f"    VAT {party.vat_number}")
    if party.edi_id:
        lines.append(f"    EDI {party.edi_id} ({party.edi_qualifier})")
    return lines


def invoice_text(doc: InvoiceDocument, status: str = "") -> str:
    money = doc.currency
    out = [f"Invoice {doc.number}" + (f" ({status})" if status else ""),
           f"Issued {doc.issue_date.isoformat()}, period {doc.period_start.isoformat()} to "
           f"{doc.period_end.isoformat()}, due {doc.due_date.isoformat()} ({doc.payment_terms_days} days)",
           f"Contract {doc.contract_number}", "", *_party("From", doc.supplier), *_party("To", doc.buyer), ""]
    width = max([len(line.description) for line in doc.lines] + [20])
    for line in doc.lines:
        out.append(f"{line.number:>3}  {line.description:<{width}}  {line.quantity:>9} {line.unit:<3} x "
                   f"{line.unit_price:>10}  {line.net_amount:>12} {money}")
    out.append("")
    out.append(f"     {'Net total':<{width}}  {'':>27}  {doc.line_total:>12} {money}")
    for tax in doc.taxes:
        label = f"VAT {tax.vat_rate}% ({tax.tax_category}) on {tax.taxable_amount}"
        out.append(f"     {label:<{width + 29}}  {tax.tax_amount:>12} {money}")
    out.append(f"     {'Total':<{width}}  {'':>27}  {doc.invoice_total:>12} {money}")
    return "\n".join(out) + "\n"
