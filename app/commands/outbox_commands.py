"""`helpdesk outbox ...`: what the gateway sent or is trying to send, and re-queueing."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from helpdesk.app.commands.console import ID, fail, print_json, print_table, session_scope
from helpdesk.gateway.ground.clock import utcnow
from helpdesk.gateway.ground.statuses import OutboxStatus
from helpdesk.store.models import Outbox
from helpdesk.store.outbox import requeue, requeue_failed
from helpdesk.store.outbox_listing import outbox_page
from helpdesk.store.queries import delivery_attempts

app = typer.Typer(help="Outbound mail.", no_args_is_help=True)


def _whole_number(value: str, option: str, minimum: int) -> int:
    """Parsed here rather than by typer, so a bad value is one line like every other mistake."""
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum:
        fail(f"{option} must be a whole number of at least {minimum}, got {value!r}", 2)
    return number


def _utc_time(value: str, option: str) -> datetime:
    """An ISO 8601 date or date and time; without an offset it is UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be an ISO date or time (2026-12-01 or 2026-12-01T08:00), got {value!r}", 2)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@app.command("list")
def list_cmd(status: str = typer.Option(None, metavar="STATUS", help="Only queued, sending, sent, failed or bounced."),
             limit: str = typer.Option("50", metavar="N", help="Show at most N messages."),
             offset: str = typer.Option("0", metavar="N", help="Skip the N newest first."),
             as_json: bool = typer.Option(False, "--json")) -> None:
    """Outbound messages, newest first; says on stderr when there are more than shown."""
    if status and status not in tuple(OutboxStatus):
        fail(f"unknown status {status!r} (one of {', '.join(OutboxStatus)})", 2)
    limit_n, offset_n = _whole_number(limit, "--limit", 1), _whole_number(offset, "--offset", 0)
    with session_scope(read_only=True) as session:
        rows, total = outbox_page(session, status, limit_n, offset_n)
    if as_json:
        print_json(rows)
    else:
        print_table(rows, ["id", "ticket", "kind", "to", "status", "attempts", "created_at", "last_error"], "Outbox")
    if offset_n + len(rows) < total:  # on stderr, so --json output stays one document
        typer.echo(f"showing {len(rows)} of {total}; --offset {offset_n + len(rows)} for more", err=True)


@app.command("show")
def show(outbox_id: int = typer.Argument(..., metavar="ID", **ID),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """One outbound message: its state, when it is tried next, and every delivery attempt."""
    with session_scope(read_only=True) as session:
        row = session.get(Outbox, outbox_id)
        if row is None:
            fail(f"no outbox message {outbox_id}")
        attempts = delivery_attempts(session, outbox_id)
    if as_json:
        print_json(attempts)
        return
    typer.echo(f"outbox {row.id}: {row.kind} to {row.rcpt_to}, {row.status}, {row.attempts} attempt(s)")
    if row.status == OutboxStatus.QUEUED:  # waiting: the dispatcher sends it at this time
        due = row.next_attempt_at if row.next_attempt_at.tzinfo else row.next_attempt_at.replace(tzinfo=UTC)
        typer.echo(f"next attempt {due.astimezone(UTC).isoformat(timespec='seconds')}")
    print_table(attempts, ["at", "ok", "code", "detail"], f"Outbox {outbox_id}")


@app.command("retry")
def retry(outbox_id: int = typer.Argument(None, metavar="ID", show_default=False, help="The outbox message.", **ID),
          status: str = typer.Option(None, metavar="STATUS", help="failed: re-queue every failed message."),
          since: str = typer.Option(None, metavar="TIME",
                                    help="With --status failed: only mail queued at or after this UTC "
                                         "date or time (ISO 8601).")) -> None:
    """Send a failed (or waiting) message again now, with a fresh queue lifetime; or, with
    --status failed, every failed message."""
    if outbox_id is not None:
        if status or since:
            fail("give an outbox ID or --status failed, not both", 2)
        with session_scope() as session:
            requeue(session, outbox_id, utcnow())
        typer.echo(f"outbox message {outbox_id} queued")
        return
    if status != OutboxStatus.FAILED:
        fail("give an outbox ID, or --status failed to re-queue every failed message" if status is None
             else f"only failed messages are re-queued in bulk, not {status!r}", 2)
    since_at = _utc_time(since, "--since") if since else None
    with session_scope() as session:
        count = requeue_failed(session, utcnow(), since_at)
    typer.echo(f"{count} failed outbox message{'' if count == 1 else 's'} queued")
