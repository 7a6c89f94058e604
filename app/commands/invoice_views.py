"""What `helpdesk invoices` prints and exports: a row of the list, the invoice as text, JSON or EDIFACT."""

from __future__ import annotations

import json
from decimal import Decimal

from helpdesk.gateway.billing.currencies import quantum
from helpdesk.gateway.billing.invoice_json import document_from_json
from helpdesk.gateway.billing.invoice_sending import interchange_bytes
from helpdesk.gateway.billing.invoice_text import invoice_json, invoice_text
from helpdesk.gateway.ground.errors import UserError
from helpdesk.store import invoices as q
from helpdesk.store.models import Outbox


def invoice_row(session, number: str):
    row = q.find_invoice(session.connection(), number)
    if row is None:
        raise UserError(f"unknown invoice {number!r}")
    return row


def invoice_summary(row) -> dict:
    def money(amount) -> str:  # stored with three decimals; shown with the currency's own
        return str(Decimal(amount).quantize(quantum(row.currency)))

    return {"number": row.number, "period": row.period, "organization": row.organization, "contract": row.contract,
            "status": row.status, "currency": row.currency, "line_total": money(row.line_total),
            "tax_total": money(row.tax_total), "invoice_total": money(row.invoice_total),
            "issue_date": row.issue_date.isoformat(), "due_date": row.due_date.isoformat(),
            "decided_by": row.decided_by, "reject_reason": row.reject_reason}


def _delivery(session, row) -> dict:
    if row.sent_outbox_id is None:
        return {"outbox_id": None, "delivery": None}
    mail = session.get(Outbox, row.sent_outbox_id)
    return {"outbox_id": mail.id, "delivery": mail.status}


def export_bytes(session, row, fmt: str) -> bytes:
    doc = document_from_json(row.document)
    if fmt == "edi":
        return interchange_bytes(doc)
    if fmt == "json":
        data = invoice_json(doc, {**invoice_summary(row), **_delivery(session, row)})
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    delivery = _delivery(session, row)
    sent = f", EDI mail outbox {delivery['outbox_id']} {delivery['delivery']}" if delivery["outbox_id"] else ""
    reason = f": {row.reject_reason}" if row.reject_reason else ""
    return invoice_text(doc, f"{row.status}{reason}{sent}").encode("utf-8")
