"""`helpdesk queues ...`: queues and their technicians and dispatchers.

Queues are declared in rules.yaml (HELPDESK_RULES), the one list routing and `#queue` use; these
commands read it, make its queues exist in the database and manage their members there.
"""

from __future__ import annotations

import typer
from sqlmodel import Session

from helpdesk.app.commands.console import confirm, session_scope, settings, show
from helpdesk.gateway.accounts.queues import (
    add_queue,
    check_queue,
    ensure_queues,
    find_queue,
    list_queues,
    queue_members,
    set_membership,
)
from helpdesk.gateway.routing.rules import Rules, load_rules

app = typer.Typer(help="Queues (declared in rules.yaml) and their members.", no_args_is_help=True)
JSON = typer.Option(False, "--json", help="Print JSON.")
USER = "USER"  # any of the user's addresses, or the id


def _declared() -> Rules:
    """rules.yaml as the running service would read it: a file it would refuse is refused here too."""
    return load_rules(settings().rules)


def _synced(session: Session, rules: Rules) -> Session:
    """Queues declared in rules.yaml are usable before the service first starts (or reloads)."""
    ensure_queues(session, rules.queues)
    return session


@app.command("add")
def add(name: str = typer.Argument(..., metavar="NAME", help="kebab-case name, as under queues: in rules.yaml."),
        title: str = typer.Option("", "--title", metavar="TITLE", help="Title shown to people.")) -> None:
    """Queues are declared in rules.yaml: this says what to write there, or confirms it is declared."""
    check_queue(name, title)  # a malformed name is the first thing to hear of
    rules = _declared()
    with session_scope() as session:
        title = add_queue(session, name, title, rules.queues, rules.source)
    typer.echo(f"queue {name} ({title}) is declared in {rules.source} and exists; "
               f"add members with: helpdesk queues members {name} --add ADDRESS")


@app.command("list")
def list_cmd(as_json: bool = JSON) -> None:
    """All queues: members, watchers (available members, who hear of new tickets), and which nobody watches."""
    rules = _declared()
    with session_scope() as session:
        rows = list_queues(_synced(session, rules), rules.queues)
    show(rows, as_json, ["name", "title", "members", "watchers", "note"], f"Queues (declared in {rules.source})")


@app.command("members")
def members(queue: str = typer.Argument(..., metavar="QUEUE", help="Queue name, as in rules.yaml."),
            add: list[str] = typer.Option([], "--add", metavar=USER, help="Add this user (repeatable)."),
            remove: list[str] = typer.Option([], "--remove", metavar=USER, help="Remove this user (repeatable)."),
            available: list[str] = typer.Option([], "--available", metavar=USER,
                                                help="Mark this member available (repeatable)."),
            unavailable: list[str] = typer.Option([], "--unavailable", metavar=USER,
                                                  help="Mark this member unavailable (repeatable)."),
            yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before removing (for scripts)."),
            as_json: bool = JSON) -> None:
    """Show a queue's members, after adding, removing or marking (un)available ones. USER is an address or id."""
    if remove:
        confirm(f"Remove {', '.join(remove)} from {queue}?", yes)
    rules = _declared()
    with session_scope() as session:
        q = find_queue(_synced(session, rules), queue)
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
