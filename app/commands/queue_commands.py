"""`helpdesk queues ...`: queues and their technicians and dispatchers."""

from __future__ import annotations

import typer
from sqlmodel import Session

from helpdesk.app.commands.console import confirm, session_scope, settings, show
from helpdesk.gateway.accounts.queues import (
    add_queue,
    ensure_queues,
    find_queue,
    list_queues,
    queue_members,
    set_membership,
)
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.routing.rules import load_rules

app = typer.Typer(help="Queues and their members.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON.")


def _with_rules_queues(session: Session) -> Session:
    """Queues declared in rules.yaml are usable before the service first starts."""
    try:
        ensure_queues(session, load_rules(settings().rules).queues)
    except UserError:
        pass  # no readable rules file here: the queues in the database are all there is
    return session


@app.command("add")
def add(name: str = typer.Argument(..., help="kebab-case name, as used in rules.yaml."),
        title: str = typer.Option("", help="Title shown to people.")) -> None:
    """Add a queue (queues declared in rules.yaml are added by the service itself)."""
    with session_scope() as session:
        add_queue(session, name, title)
    typer.echo(f"queue {name} added")


@app.command("list")
def list_cmd(as_json: bool = JSON) -> None:
    """All queues with their number of members."""
    with session_scope() as session:
        rows = list_queues(_with_rules_queues(session))
    show(rows, as_json, ["name", "title", "members"], "Queues")


@app.command("members")
def members(queue: str,
            add: list[str] = typer.Option([], "--add", help="User to add (repeatable)."),
            remove: list[str] = typer.Option([], "--remove", help="User to remove (repeatable)."),
            available: list[str] = typer.Option([], "--available", help="Mark a member available."),
            unavailable: list[str] = typer.Option([], "--unavailable", help="Mark a member unavailable."),
            yes: bool = typer.Option(False, "--yes", "-y"), as_json: bool = JSON) -> None:
    """Show a queue's members, after adding, removing or marking (un)available ones."""
    if remove:
        confirm(f"Remove {', '.join(remove)} from {queue}?", yes)
    with session_scope() as session:
        q = find_queue(_with_rules_queues(session), queue)
        for user in add:
            set_membership(session, q, user, member=True)
        for user in remove:
            set_membership(session, q, user, member=False)
        for user in available:
            set_membership(session, q, user, available=True)
        for user in unavailable:
            set_membership(session, q, user, available=False)
        rows = queue_members(session, q)
    show(rows, as_json, ["user", "name", "email", "roles", "available"], f"Queue {queue}")
