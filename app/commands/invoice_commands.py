"""`helpdesk invoices ...`: the period run, approval, EDIFACT export and resending."""

from __future__ import annotations

from pathlib import Path

import typer

from helpdesk.app.commands.console import fail, print_json, session_scope, settings, show
from helpdesk.app.commands.invoice_views import export_bytes, invoice_row, invoice_summary
from helpdesk.app.wiring import make_pipeline_context
from helpdesk.gateway.accounts.directory import find_org
from helpdesk.gateway.billing.approval import approve_invoice, reject_invoice
from helpdesk.gateway.billing.approval_mail import may_decide
from helpdesk.gateway.billing.invoice_json import document_from_json
from helpdesk.gateway.billing.invoice_sending import send_invoice
from helpdesk.gateway.billing.invoice_status import InvoiceStatus
from helpdesk.gateway.billing.period_run import run_period
from helpdesk.gateway.billing.periods import parse_period
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.routing.rules import load_rules
from helpdesk.store import invoices as q
from helpdesk.store.db import make_engine
from helpdesk.store.invoice_people import user_by_address

app = typer.Typer(help="Invoices: run a billing period, approve, export (EDIFACT, JSON, text), resend.",
                  no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON.")
NUMBER = typer.Argument(..., metavar="NUMBER", help="The invoice number, e.g. 2026-000123.")
FORMATS = ("edi", "json", "text")


def _context(s):
    return make_pipeline_context(s, lambda: load_rules(s.rules))


@app.command("run")
def run(period: str = typer.Option(..., "--period", metavar="PERIOD", help="2026-10 (monthly) or 2026-Q4."),
        dry_run: bool = typer.Option(False, "--dry-run", help="Compute and show, store and send nothing."),
        as_json: bool = JSON) -> None:
    """Invoice every contract active in the period that has no invoice for it yet."""
    chosen, s = parse_period(period), settings()
    engine = make_engine(s.database_url, s.db_busy_timeout_ms)
    try:
        report = run_period(engine, _context(s), chosen, utcnow(), dry_run=dry_run)
    finally:
        engine.dispose()
    if as_json:
        print_json({"period": report.period, "created": report.created, "awaiting_approval": report.awaiting_approval,
                    "failed": [{"contract": c, "reason": r} for c, r in report.failed], "planned": report.planned})
    elif dry_run:
        show(report.planned, False, ["contract", "currency", "line_total", "tax_total", "invoice_total"],
             f"Dry run {report.period}: nothing stored")
    else:
        typer.echo(f"period {report.period}: {len(report.created)} invoice(s) issued, "
                   f"{report.awaiting_approval} awaiting approval, {len(report.failed)} failed")
        for contract, reason in report.failed:
            typer.echo(f"  contract {contract}: {reason}", err=True)
    if report.failed:
        raise typer.Exit(1)


@app.command("list")
def list_cmd(period: str = typer.Option(None, "--period", metavar="PERIOD", help="Only this period, e.g. 2026-10."),
             org: str = typer.Option(None, "--org", metavar="ORG", help="Organization (name or id)."),
             status: str = typer.Option(None, "--status", metavar="STATUS",
                                        help=", ".join(s.value for s in InvoiceStatus)),
             as_json: bool = JSON) -> None:
    """Invoices, by number."""
    if status and status not in {s.value for s in InvoiceStatus}:
        fail(f"unknown status {status!r} (one of {', '.join(s.value for s in InvoiceStatus)})")
    key = parse_period(period).key if period else None
    with session_scope(read_only=True) as session:
        org_id = find_org(session, org).id if org else None
        rows = [invoice_summary(r) for r in q.list_invoices(session.connection(), key, org_id, status)]
    show(rows, as_json, ["number", "period", "organization", "contract", "status", "invoice_total", "currency"],
         "Invoices")


@app.command("show")
def show_cmd(number: str = NUMBER, as_json: bool = JSON) -> None:
    """One invoice: its lines, VAT and totals (and its state)."""
    with session_scope(read_only=True) as session:
        row = invoice_row(session, number)
        data = export_bytes(session, row, "json" if as_json else "text")
    typer.echo(data.decode("utf-8"), nl=False)


@app.command("export")
def export(number: str = NUMBER, output: Path = typer.Option(..., "-o", "--output", metavar="FILE",
                                                                   help="Where to write it."),
           fmt: str = typer.Option("edi", "--format", metavar="FORMAT", help="edi (EDIFACT), json or text.")) -> None:
    """Write the invoice to a file: the EDIFACT interchange, JSON or text."""
    if fmt not in FORMATS:
        fail(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    with session_scope(read_only=True) as session:
        data = export_bytes(session, invoice_row(session, number), fmt)
    try:
        output.write_bytes(data)
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror}")
    typer.echo(f"invoice {number} written to {output} ({fmt}, {len(data)} bytes)")


def _actor(session, number: str, by: str | None) -> str:
    """Who decides: `--by` must be a fin-admin of the invoice's organization or a provider admin."""
    if not by:
        return "cli"
    known = user_by_address(session.connection(), by.strip())
    row = invoice_row(session, number)
    if known is None or not may_decide(known, row.organization_id):
        raise UserError(f"{by} is neither a fin-admin of {row.organization} nor a provider admin")
    return by.strip().lower()


@app.command("approve")
def approve(number: str = NUMBER, by: str = typer.Option(None, "--by", metavar="EMAIL",
                                                         help="Who approved (a fin-admin or an admin).")) -> None:
    """Approve an invoice awaiting approval: its EDI mail is queued."""
    s = settings()
    with session_scope(s) as session:
        outbox_id = approve_invoice(session, _context(s), number, _actor(session, number, by), utcnow())
    typer.echo(f"invoice {number} approved; EDI mail queued as outbox {outbox_id}")


@app.command("reject")
def reject(number: str = NUMBER, reason: str = typer.Option(..., "--reason", metavar="TEXT",
                                                            help="Why, for the provider's admins."),
           by: str = typer.Option(None, "--by", metavar="EMAIL",
                                  help="The fin-admin or admin rejecting it.")) -> None:
    """Reject an invoice awaiting approval; the provider's admins are told why."""
    s = settings()
    with session_scope(s) as session:
        told = reject_invoice(session, _context(s), number, _actor(session, number, by), reason, utcnow())
    typer.echo(f"invoice {number} rejected; {told} admin(s) told")


@app.command("resend")
def resend(number: str = NUMBER) -> None:
    """Queue the EDI mail of an approved invoice again (after a bounce, or for a new EDI address)."""
    s = settings()
    with session_scope(s) as session:
        row = invoice_row(session, number)
        if row.status != InvoiceStatus.APPROVED:
            raise UserError(f"invoice {number} is {row.status}: only an approved invoice is sent")
        outbox_id = send_invoice(session, _context(s), row.id, document_from_json(row.document), row.contract_id,
                                 utcnow())
    typer.echo(f"invoice {number}: EDI mail queued again as outbox {outbox_id}")
