"""`helpdesk time ...`: technicians' time entries on tickets (locked once invoiced)."""

from __future__ import annotations

import typer

from helpdesk.app.commands.console import ID, session_scope, show
from helpdesk.gateway.accounts.contracts import parse_date
from helpdesk.gateway.accounts.directory import find_user
from helpdesk.gateway.billing.time_tracking import add_time, edit_time, entry_view, read_minutes
from helpdesk.gateway.ground.clock import utc_today
from helpdesk.store.time_entries import list_entries

app = typer.Typer(help="Time entries on tickets: add, list, edit (until invoiced).", no_args_is_help=True)
MINUTES = typer.Option(None, "--minutes", metavar="N", help="Minutes spent.")
DURATION = typer.Option(None, "--duration", metavar="1h30m", help="Time spent: 1h30m, 90m, 1.5h or 1:30.")
NOTE = typer.Option(None, "--note", metavar="TEXT", help="What the time was spent on.")


@app.command("add")
def add(ticket: int = typer.Argument(..., metavar="TICKET", **ID),
        user: str = typer.Option(..., "--user", metavar="EMAIL", help="The technician who did the work."),
        minutes: int = MINUTES, duration: str = DURATION,
        date: str = typer.Option(None, "--date", metavar="DATE", help="Day of the work (default today), YYYY-MM-DD."),
        note: str = NOTE) -> None:
    """Record time spent on a ticket."""
    spent = read_minutes(minutes, duration, required=True)
    with session_scope() as session:
        entry_id = add_time(session, ticket, user, spent, date or utc_today().isoformat(), note)
    typer.echo(f"time entry {entry_id}: {spent} min on ticket {ticket}")


@app.command("list")
def list_cmd(ticket: int = typer.Option(None, "--ticket", metavar="TICKET", help="Only this ticket's entries.", **ID),
             user: str = typer.Option(None, "--user", metavar="EMAIL", help="Only this technician's entries."),
             since: str = typer.Option(None, "--from", metavar="DATE", help="From this day, YYYY-MM-DD."),
             until: str = typer.Option(None, "--to", metavar="DATE", help="Up to this day, inclusive."),
             uninvoiced: bool = typer.Option(False, "--uninvoiced", help="Only entries no invoice billed yet."),
             as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Time entries, oldest first."""
    first = parse_date(since, "--from") if since else None
    last = parse_date(until, "--to") if until else None
    with session_scope(read_only=True) as session:
        user_id = find_user(session, user).id if user else None
        rows = [entry_view(r) for r in list_entries(session.connection(), ticket=ticket, user_id=user_id,
                                                    since=first, until=last, uninvoiced=uninvoiced)]
    show(rows, as_json, ["id", "date", "ticket", "user", "minutes", "invoice", "note"], "Time entries")


@app.command("edit")
def edit(entry_id: int = typer.Argument(..., metavar="ID", **ID), minutes: int = MINUTES, duration: str = DURATION,
         date: str = typer.Option(None, "--date", metavar="DATE", help="Day of the work, YYYY-MM-DD."),
         note: str = NOTE) -> None:
    """Change a time entry, until an invoice billed it."""
    spent = read_minutes(minutes, duration, required=False)
    with session_scope() as session:
        edit_time(session, entry_id, spent, date, note)
    typer.echo(f"time entry {entry_id} updated")
