"""`helpdesk tickets ...`: list, show and close tickets."""

from __future__ import annotations

import typer

from helpdesk.app.commands.console import ID, fail, print_json, print_table, session_scope
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.statuses import TicketStatus
from helpdesk.store.models import Ticket, TicketEvent
from helpdesk.store.queries import list_tickets, ticket_detail

app = typer.Typer(help="Tickets.", no_args_is_help=True)


@app.command("list")
def list_cmd(status: str = typer.Option(None, help="Only tickets in this status."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Tickets, newest first."""
    if status and status not in tuple(TicketStatus):
        fail(f"unknown status {status!r} (one of {', '.join(TicketStatus)})")
    with session_scope() as session:
        rows = list_tickets(session, status)
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["number", "status", "priority", "queue", "requester", "subject"], "Tickets")


def _print_detail(t: dict) -> None:
    typer.echo(f"Ticket {t['number']}: {t['subject']}")
    typer.echo(f"  status {t['status']}, priority {t['priority']}, queue {t['queue']} (rule {t['rule']})")
    typer.echo(f"  requester {t['requester_name']} <{t['requester']}>, assignee {t['assignee'] or '-'}")
    if t["time_spent_minutes"] or t["ratings"]:
        typer.echo(f"  time spent {t['time_spent_minutes']} min, ratings {t['ratings'] or '-'}")
    for e in t["events"]:
        typer.echo(f"  {e['at']}  {e['kind']}: {e['detail']}")
    for a in t["articles"]:
        arrow = "<-" if a["direction"] == "in" else "->"
        extra = f", {a['attachments']} attachment(s)" if a["attachments"] else ""
        extra += ", internal note (staff only)" if a["visibility"] == "internal" else ""
        typer.echo(f"\n{arrow} {a['created_at']} {a['channel']} {a['sender']}{extra}\n{a['text']}")
    for o in t["outbox"]:
        typer.echo(f"\n  outbox {o['id']}: {o['kind']} to {o['to']}: {o['status']}")


@app.command("show")
def show(number: int = typer.Argument(..., **ID), as_json: bool = typer.Option(False, "--json")) -> None:
    """One ticket with its conversation, events and outbound mail."""
    with session_scope() as session:
        detail = ticket_detail(session, number)
    if detail is None:
        fail(f"no ticket {number}")
    print_json(detail) if as_json else _print_detail(detail)


@app.command("close")
def close(number: int = typer.Argument(..., **ID)) -> None:
    """Close a ticket (a later reply from the client reopens it)."""
    with session_scope() as session:
        ticket = session.get(Ticket, number)
        if ticket is None:
            fail(f"no ticket {number}")
        if ticket.status == TicketStatus.CLOSED:
            fail(f"ticket {number} is already closed")
        ticket.status, ticket.closed_at, ticket.updated_at = TicketStatus.CLOSED, utcnow(), utcnow()
        session.add(TicketEvent(ticket_id=number, kind="closed", detail="closed from the CLI"))
    typer.echo(f"ticket {number} closed")
