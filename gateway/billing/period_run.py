"""The period run: one invoice per contract active in the period, each in a transaction of its own.

For every contract billed by the period's kind (monthly for `2026-10`, quarterly for `2026-Q4`)
that runs at least one day in it and has no invoice for it yet: compute the invoice, take the next
gap-free number, store it, lock the time entries it billed, and queue its mail (the EDI mail when
no approval is needed, else the approval requests) -- all in that one transaction. A contract that
fails is reported and rolled back with its number; the others go on, and a rerun fills it in.
Running a period again creates nothing new (unique contract and period).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from helpdesk.gateway.billing.invoice_build import Draft, draft_invoice, invoice_document
from helpdesk.gateway.billing.invoice_json import document_json
from helpdesk.gateway.billing.invoice_mail import queue_approval_requests
from helpdesk.gateway.billing.invoice_sending import queue_edi_mail
from helpdesk.gateway.billing.invoice_status import InvoiceStatus
from helpdesk.gateway.billing.periods import Period, periods_due
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.pipeline.context import PipelineContext
from helpdesk.store import invoices as q
from helpdesk.store.db import new_session, read_session
from helpdesk.store.invoice_numbers import next_invoice_number
from helpdesk.store.invoice_people import approvers

log = logging.getLogger("helpdesk.billing")
STATISTICS_EVERY = 500  # invoices between two ANALYZE of the invoice tables (PostgreSQL), and once after 50


@dataclass
class RunReport:
    period: str
    created: list[str] = field(default_factory=list)        # invoice numbers
    awaiting_approval: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (contract number, reason)
    planned: list[dict] = field(default_factory=list)       # a dry run's invoices, not stored


class _AlreadyInvoiced(Exception):
    """Another run invoiced the contract meanwhile: give the number back (roll back)."""


def _issue(session: Session, ctx: PipelineContext, draft: Draft, period: Period, now: datetime) -> tuple[str, str]:
    conn, s = session.connection(), ctx.settings
    number = next_invoice_number(conn, now.year, s.provider_edi_id)
    doc = invoice_document(draft, number, period, now.date(), s)
    status = InvoiceStatus.AWAITING_APPROVAL if draft.contract.requires_approval else InvoiceStatus.APPROVED
    # The EDI mail first, so the invoice is written once with its outbox id (one statement less each).
    outbox_id = queue_edi_mail(session, ctx, doc, draft.contract, now) if status == InvoiceStatus.APPROVED else None
    a = draft.amounts
    invoice_id = q.insert_invoice(conn, {
        "number": number, "contract_id": draft.contract.id, "organization_id": draft.contract.organization_id,
        "period": period.key, "period_start": period.start, "period_end": period.end, "issue_date": doc.issue_date,
        "due_date": doc.due_date, "currency": doc.currency, "line_total": a.line_total, "tax_total": a.tax_total,
        "invoice_total": a.invoice_total, "minutes_left": a.minutes_left, "status": status,
        "document": document_json(doc), "created_at": now, "decided_at": None, "decided_by": None,
        "reject_reason": None, "sent_outbox_id": outbox_id})
    if invoice_id is None:  # another run invoiced it meanwhile (it held the number's lock, so it has committed)
        raise _AlreadyInvoiced
    q.lock_entries(conn, draft.entry_ids, invoice_id)
    if status == InvoiceStatus.AWAITING_APPROVAL:
        # The organization's fin-admins decide; without any, the provider's admins are asked.
        people, generations = approvers(conn, draft.contract.organization_id)
        queue_approval_requests(session, ctx, doc, people, generations, draft.contract.org_locale, now)
    return number, status


def _one_contract(engine, ctx: PipelineContext, contract, period: Period, now: datetime,
                  report: RunReport, dry_run: bool) -> None:
    """`contract`: its row as read when the run started. Whether another run invoiced it meanwhile
    is checked under the number's lock (_issue)."""
    with new_session(engine) as session, session.begin():
        draft = draft_invoice(session.connection(), contract, period)
        if dry_run:
            a = draft.amounts
            report.planned.append({"contract": contract.number, "currency": contract.currency,
                                   "line_total": str(a.line_total), "tax_total": str(a.tax_total),
                                   "invoice_total": str(a.invoice_total), "lines": len(a.lines)})
            session.rollback()
            return
        number, status = _issue(session, ctx, draft, period, now)
    report.created.append(number)
    report.awaiting_approval += status == InvoiceStatus.AWAITING_APPROVAL


def run_period(engine, ctx: PipelineContext, period: Period, now: datetime, *, dry_run: bool = False) -> RunReport:
    if period.end >= now.date():  # its time entries and tickets are not all in yet
        raise UserError(f"period {period.key} has not ended yet (it ends on {period.end.isoformat()})")
    report = RunReport(period.key)
    with read_session(engine) as session:
        contracts = q.contracts_to_invoice(session.connection(), period.kind, period.start, period.end, period.key)
    for done, contract in enumerate(contracts, start=1):
        if done == 50 or done % STATISTICS_EVERY == 0:
            q.refresh_statistics(engine)
        try:
            _one_contract(engine, ctx, contract, period, now, report, dry_run)
        except _AlreadyInvoiced:
            continue
        except (UserError, SQLAlchemyError, ValueError, LookupError) as exc:
            log.warning("invoice for contract %s, period %s not issued: %s", contract.number, period.key, exc)
            report.failed.append((contract.number, str(exc).splitlines()[0] if str(exc) else type(exc).__name__))
    log.info("period %s: %d invoice(s) issued, %d awaiting approval, %d failed", period.key, len(report.created),
             report.awaiting_approval, len(report.failed))
    return report


def run_due_period(engine, ctx: PipelineContext, now: datetime) -> int:
    """The scheduler's job: invoice the periods that ended before today's run hour (the previous month,
    and the previous quarter). Cheap when they are done: only contracts without an invoice are looked at.
    Returns how many invoices were issued."""
    return sum(len(run_period(engine, ctx, period, now).created)
               for period in periods_due(now, ctx.settings.invoice_run_hour))
