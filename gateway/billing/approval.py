"""Approving or rejecting an invoice that awaits approval, by CLI or by a fin-admin's mail.

Approval queues the EDI mail in the same transaction; rejection tells the provider's admins. The
invoice row is locked first, so two answers at once decide it only once.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from helpdesk.gateway.accounts.names import check_text
from helpdesk.gateway.billing.invoice_json import document_from_json
from helpdesk.gateway.billing.invoice_mail import queue_rejection_notices
from helpdesk.gateway.billing.invoice_sending import send_invoice
from helpdesk.gateway.billing.invoice_status import InvoiceStatus
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.store import invoices as q
from helpdesk.store.invoice_people import provider_admins

# The reason is stored and mailed to the admins: a paragraph, not a document. Checked like a note, so
# a control character (a NUL, which PostgreSQL's text refuses mid-transaction) is one clear line.
REASON_MAX = 2000


def awaiting_invoice(session: Session, number: str):
    """The invoice row, locked; UserError when unknown or not awaiting approval."""
    row = q.find_invoice(session.connection(), number, lock=True)
    if row is None:
        raise UserError(f"unknown invoice {number!r}")
    if row.status != InvoiceStatus.AWAITING_APPROVAL:
        raise UserError(f"invoice {number} is {row.status}, not awaiting approval")
    return row


def approve_invoice(session: Session, ctx: PipelineContext, number: str, by: str, now: datetime) -> int:
    """Approve and queue the EDI mail; returns its outbox id."""
    row = awaiting_invoice(session, number)
    q.decide_invoice(session.connection(), row.id, InvoiceStatus.APPROVED, by, now)
    return send_invoice(session, ctx, row.id, document_from_json(row.document), row.contract_id, now)


def reject_invoice(session: Session, ctx: PipelineContext, number: str, by: str, reason: str, now: datetime) -> int:
    """Reject with the reason and tell the provider's admins; returns how many were told."""
    reason = check_text((reason or "").strip(), "the rejection reason", REASON_MAX)
    if not reason:
        raise UserError("a rejection needs a reason")
    row = awaiting_invoice(session, number)
    q.decide_invoice(session.connection(), row.id, InvoiceStatus.REJECTED, by, now, reason)
    admins = provider_admins(session.connection())
    return queue_rejection_notices(session, ctx, document_from_json(row.document), admins, by, reason, now)
