"""Send an issued invoice: its EDIFACT interchange built from the stored document and queued to the
contract's EDI address, in the caller's transaction (the approval's, the run's or a resend's)."""

from __future__ import annotations

from datetime import datetime, time, timezone

from sqlmodel import Session

from helpdesk.gateway.billing.document import InvoiceDocument
from helpdesk.gateway.billing.edifact import build_interchange
from helpdesk.gateway.billing.invoice_mail import queue_invoice_mail
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.store import invoices as q


def interchange_bytes(doc: InvoiceDocument) -> bytes:
    """Rebuilt from the stored document with the issue date as UNB's preparation time, so the file
    mailed, resent and exported is the same every time."""
    return build_interchange(doc, now=datetime.combine(doc.issue_date, time(), tzinfo=timezone.utc))


def queue_edi_mail(session: Session, ctx: PipelineContext, doc: InvoiceDocument, contract, now: datetime) -> int:
    """Queue the EDI mail; returns its outbox id. `contract` is its row of
    store/invoices.contract_for_invoice. UserError when the contract has no EDI address."""
    if not contract.edi_address:
        raise UserError(f"contract {contract.number} has no EDI delivery address (contracts edit "
                        f"{contract.number} --edi-address ...)")
    return queue_invoice_mail(session, ctx, doc, interchange_bytes(doc), contract.edi_address, contract.org_locale,
                              now)


def send_invoice(session: Session, ctx: PipelineContext, invoice_id: int, doc: InvoiceDocument,
                 contract_id: int, now: datetime) -> int:
    """Queue the EDI mail of a stored invoice and remember it on the invoice; returns the outbox id."""
    contract = q.contract_for_invoice(session.connection(), contract_id)
    outbox_id = queue_edi_mail(session, ctx, doc, contract, now)
    q.record_sent(session.connection(), invoice_id, outbox_id)
    return outbox_id
