"""`helpdesk tickets ...`: list, show and close tickets."""

from __future__ import annotations

import typer
from sqlalchemy import select
from sqlmodel import Session

from helpdesk.app.commands import list_paging as paging
from helpdesk.app.commands import participant_commands
from helpdesk.app.commands.console import ID, fail, print_json, print_table, session_scope
from helpdesk.gateway.accounts.directory import find_org, find_user
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.statuses import TicketStatus
from helpdesk.gateway.routing.rule_actions import PRIORITIES
from helpdesk.store.account_tables import Queue
from helpdesk.store.models import Ticket, TicketEvent
from helpdesk.store.queries import TicketFilter, ticket_detail, ticket_page

app = typer.Typer(help="Tickets.", no_args_is_help=True)
app.add_typer(participant_commands.app, name="cc")


def _one_of(value: str | None, option: str, allowed) -> str | None:
    if value is not None and value not in tuple(allowed):
        paging.bad_value(option, f"unknown {option[2:]} {value!r} (one of {', '.join(allowed)})")
    return value


def _found(option: str, find, session: Session, ref: str | None) -> int | None:
    """The id of the user or organization named; an unknown one is an error naming the option."""
    if ref is None:
        return None
    try:
        return find(session, ref).id
    except UserError as exc:
        paging.bad_value(option, str(exc))


def _known_queue(session: Session, name: str | None) -> str | None:
    # A queue dropped from rules.yaml may still be on old tickets: either place makes it known.
    if name is not None and session.get(Queue, name) is None and session.execute(
            select(Ticket.id).where(Ticket.queue == name).limit(1)).first() is None:
        paging.bad_value("--queue", f"unknown queue {name!r}")
    return name


@app.command("list")
def list_cmd(queue: str = typer.Option(None, "--queue", metavar="QUEUE", help="Only tickets in this queue."),
             assignee: str = typer.Option(None, "--assignee", metavar="ADDRESS", help="Only tickets assigned to them."),
             requester: str = typer.Option(None, "--requester", metavar="ADDRESS", help="Only tickets they opened."),
             org: str = typer.Option(None, "--org", metavar="NAME", help="Only its people's tickets."),
             priority: str = typer.Option(None, "--priority", metavar="LEVEL",
                                           help=f"Only this priority ({', '.join(PRIORITIES)})."),
             status: str = typer.Option(None, "--status", metavar="STATUS", help="Only tickets in this status."),
             since: str = paging.SINCE, until: str = paging.UNTIL, limit: str = paging.LIMIT,
             offset: str = paging.OFFSET,
             as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table.")) -> None:
    """Tickets, newest first, a page at a time (stderr says when there are more)."""
    page, window = paging.read_page(limit, offset), paging.read_window(since, until)
    _one_of(status, "--status", TicketStatus)
    _one_of(priority, "--priority", PRIORITIES)
    with session_scope(read_only=True) as session:
        wanted = TicketFilter(
            queue=_known_queue(session, queue), assignee_id=_found("--assignee", find_user, session, assignee),
            requester_id=_found("--requester", find_user, session, requester),
            organization_id=_found("--org", find_org, session, org), priority=priority, status=status,
            since=window.since, until=window.until)
        rows, total = ticket_page(session, wanted, page.limit, page.offset)
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["number", "created_at", "status", "priority", "queue", "requester", "assignee",
                           "subject"], "Tickets")
    paging.tell_if_cut(page, len(rows), total, "tickets")


def _print_detail(t: dict) -> None:
    typer.echo(f"Ticket {t['number']}: {t['subject']}")
    typer.echo(f"  status {t['status']}, priority {t['priority']}, queue {t['queue']} (rule {t['rule']})")
    typer.echo(f"  requester {t['requester_name']} <{t['requester']}>, assignee {t['assignee'] or '-'}")
    typer.echo(f"  participants {', '.join(t['participants']) or '-'}")
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
    with session_scope(read_only=True) as session:
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
