"""`helpdesk tickets cc ...`: who takes part in a ticket (and receives its answers), set by an admin.

The CLI and staff's `#cc add|remove` are the ways to add someone: To/Cc of unproven mail never are.
"""

from __future__ import annotations

import typer

from helpdesk.app.commands.console import ID, fail, print_json, session_scope
from helpdesk.gateway.staff_mailbox.mail_commands import parse_cc
from helpdesk.store import workflow as q
from helpdesk.store.models import Ticket
from helpdesk.store.tickets import TicketStore

app = typer.Typer(help="Participants of a ticket: the people CC'd on its answers.", no_args_is_help=True)


def _address(value: str) -> str:
    parsed = parse_cc(f"add {value}")
    if parsed is None or len(parsed[1]) > 320:
        fail(f"not an email address: {value!r}")
    return parsed[1]


def _ticket(session, number: int) -> TicketStore:
    if session.get(Ticket, number) is None:
        fail(f"no ticket {number}")
    return TicketStore(session)


@app.command("list")
def list_cmd(number: int = typer.Argument(..., **ID), as_json: bool = typer.Option(False, "--json")) -> None:
    """The ticket's participants (the requester among them)."""
    with session_scope(read_only=True) as session:
        participants = sorted(_ticket(session, number).participants(number))
    print_json(participants) if as_json else typer.echo("\n".join(participants) or "(none)")


@app.command("add")
def add(number: int = typer.Argument(..., **ID), address: str = typer.Argument(...)) -> None:
    """Add an address: it receives the ticket's answers and may continue the ticket."""
    address = _address(address)
    with session_scope() as session:
        store = _ticket(session, number)
        person = q.person_by_address(store.conn, address)
        if person is not None and person.is_staff:
            fail(f"{address} is staff; staff hear of tickets through their queues")
        if address in store.participants(number):
            fail(f"{address} already takes part in ticket {number}")
        store.add_participants(number, {address})
        store.record_event(number, "command", f"{address} added as a participant from the CLI")
    typer.echo(f"{address} added to ticket {number}")


@app.command("remove")
def remove(number: int = typer.Argument(..., **ID), address: str = typer.Argument(...)) -> None:
    """Remove an address: it no longer receives the answers nor may continue the ticket."""
    address = _address(address)
    with session_scope() as session:
        store = _ticket(session, number)
        if not store.remove_participant(number, address):
            fail(f"{address} is not a participant of ticket {number}")
        store.record_event(number, "command", f"{address} removed as a participant from the CLI")
    typer.echo(f"{address} removed from ticket {number}")
