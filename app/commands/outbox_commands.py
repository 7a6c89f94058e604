"""`helpdesk outbox ...`: what the gateway sent or is trying to send, and re-queueing."""

from __future__ import annotations

import typer

from helpdesk.app.commands.console import ID, fail, print_json, print_table, session_scope
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.statuses import OutboxStatus
from helpdesk.store.outbox import requeue
from helpdesk.store.queries import delivery_attempts, list_outbox

app = typer.Typer(help="Outbound mail.", no_args_is_help=True)


@app.command("list")
def list_cmd(status: str = typer.Option(None, help="queued, sending, sent or failed."),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Outbound messages, newest first."""
    if status and status not in tuple(OutboxStatus):
        fail(f"unknown status {status!r} (one of {', '.join(OutboxStatus)})")
    with session_scope() as session:
        rows = list_outbox(session, status)
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["id", "ticket", "kind", "to", "status", "attempts", "last_error"], "Outbox")


@app.command("show")
def show(outbox_id: int = typer.Argument(..., metavar="ID", **ID),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """Every delivery attempt of one outbound message."""
    with session_scope() as session:
        attempts = delivery_attempts(session, outbox_id)
    print_json(attempts) if as_json else print_table(attempts, ["at", "ok", "code", "detail"], f"Outbox {outbox_id}")


@app.command("retry")
def retry(outbox_id: int = typer.Argument(..., metavar="ID", **ID)) -> None:
    """Send a failed (or waiting) message again now, with a fresh attempt budget."""
    with session_scope() as session:
        requeue(session, outbox_id, utcnow())
    typer.echo(f"outbox message {outbox_id} queued")
