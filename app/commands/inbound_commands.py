"""`helpdesk inbound ...`: pipe delivery from an MTA, and a look at stored or quarantined mail."""

from __future__ import annotations

import sys
from email.parser import BytesHeaderParser
from email.policy import compat32

import typer

from helpdesk.app.commands import list_paging as paging
from helpdesk.app.commands.console import (
    ID,
    confirm,
    fail,
    print_json,
    print_table,
    session_scope,
    settings,
)
from helpdesk.app.commands.console import show as show_record
from helpdesk.gateway.ground.statuses import InboundStatus
from helpdesk.inbound.pipe import deliver_from_pipe
from helpdesk.store.db import make_engine
from helpdesk.store.inbound_messages import RawMessageCommitter
from helpdesk.store.models import InboundMessage
from helpdesk.store.queries import inbound_page

app = typer.Typer(help="Mail intake: pipe delivery and stored messages.", no_args_is_help=True)


@app.command("pipe")
def pipe(sender: str = typer.Option(None, "--sender", "-f", metavar="ADDRESS",
                                    help="Envelope sender (Postfix ${sender})."),
         recipient: list[str] = typer.Option([], "--recipient", "-r", metavar="ADDRESS",
                                             help="Envelope recipient (repeatable); one SMTP would refuse is "
                                                  "refused (exit 67)."),
         more: list[str] = typer.Argument(None, metavar="RECIPIENT",
                                          help="Further recipients (Postfix expands ${recipient} to several).")
         ) -> None:
    """Store one RFC 5322 message from stdin; exit 0 once committed, 75 to make the MTA retry."""
    s = settings()
    engines = []

    def open_store() -> RawMessageCommitter:
        # No migration here: an MTA runs this per message; `helpdesk db upgrade` or serve do it.
        engines.append(make_engine(s.database_url, s.db_busy_timeout_ms))
        return RawMessageCommitter(engines[0], s.db_busy_timeout_ms)

    result = deliver_from_pipe(sys.stdin.buffer, sender, [*recipient, *(more or [])], s.max_message_bytes,
                               open_store, s.accepted_addresses)
    for engine in engines:
        engine.dispose()
    if result.exit_code:
        fail(result.message, result.exit_code)
    typer.echo(result.message)


def _print_inbound(status: str | None, since: str | None, until: str | None, limit: str, offset: str,
                   as_json: bool, noun: str) -> None:
    page, window = paging.read_page(limit, offset), paging.read_window(since, until)
    if status is not None and status not in tuple(InboundStatus):
        paging.bad_value("--status", f"unknown status {status!r} (one of {', '.join(InboundStatus)})")
    with session_scope(read_only=True) as session:
        rows, total = inbound_page(session, status, window.since, window.until, page.limit, page.offset)
    print_json(rows) if as_json else print_table(rows, ["id", "received_at", "source", "from", "status",
                                                       "ticket", "reason"], "Inbound messages")
    paging.tell_if_cut(page, len(rows), total, noun)


@app.command("list")
def list_inbound(status: str = typer.Option(None, metavar="STATUS",
                                            help="Only pending, processed, duplicate, quarantined or dropped."),
                 since: str = paging.SINCE, until: str = paging.UNTIL, limit: str = paging.LIMIT,
                 offset: str = paging.OFFSET, as_json: bool = typer.Option(False, "--json")) -> None:
    """Stored inbound messages, newest first, a page at a time (stderr says when there are more)."""
    _print_inbound(status, since, until, limit, offset, as_json, "messages")


@app.command("retry")
def retry(message_id: int = typer.Argument(..., metavar="ID", **ID)) -> None:
    """Put a quarantined message back in line for processing (after fixing what stopped it)."""
    with session_scope() as session:
        row = _quarantined(session, message_id)
        row.status, row.attempts, row.reason = InboundStatus.PENDING, 0, None
    typer.echo(f"inbound message {message_id} queued for processing")


def _quarantined(session, message_id: int) -> InboundMessage:
    row = session.get(InboundMessage, message_id)
    if row is None:
        fail(f"no inbound message {message_id}")
    if row.status != InboundStatus.QUARANTINED:
        fail(f"inbound message {message_id} is {row.status}, not quarantined")
    return row


@app.command("show")
def show(message_id: int = typer.Argument(..., metavar="ID", **ID),
         raw: bool = typer.Option(False, "--raw", help="Print the message exactly as received."),
         as_json: bool = typer.Option(False, "--json")) -> None:
    """One stored message: how it came, what became of it and why."""
    with session_scope(read_only=True) as session:
        row = session.get(InboundMessage, message_id)
        if row is None:
            fail(f"no inbound message {message_id}")
    if raw:
        sys.stdout.buffer.write(row.raw)
        return
    headers = BytesHeaderParser(policy=compat32).parsebytes(row.raw)
    data = {"id": row.id, "received_at": row.received_at.isoformat(), "source": row.source,
            "channel": row.channel, "envelope_from": row.envelope_from, "envelope_to": row.envelope_to,
            "from": headers.get("From"), "subject": headers.get("Subject"), "message_id": headers.get("Message-ID"),
            "size": len(row.raw), "status": row.status, "reason": row.reason, "attempts": row.attempts,
            "processed_at": row.processed_at.isoformat() if row.processed_at else None, "ticket": row.ticket_id,
            "processing_log": (row.processing_log or "").splitlines()}
    if as_json:
        print_json(data)
        return
    log_lines = data.pop("processing_log")
    show_record(data, False)
    if log_lines:
        typer.echo("processing log:")
        for line in log_lines:
            typer.echo(f"  {line}")


@app.command("drop")
def drop(message_id: int = typer.Argument(..., metavar="ID", **ID), yes: bool = typer.Option(False, "--yes", "-y")):
    """Mark a quarantined message as needing nothing (it stays stored, with who decided it)."""
    confirm(f"Drop quarantined message {message_id}? It will not become a ticket.", yes)
    with session_scope() as session:
        row = _quarantined(session, message_id)
        row.status, row.reason = InboundStatus.DROPPED, f"dropped by an admin; was: {row.reason}"
    typer.echo(f"inbound message {message_id} dropped (still stored)")


# `helpdesk inbound quarantine ...`: the same commands, limited to what is waiting in quarantine.
quarantine = typer.Typer(help="Quarantined messages: list, show, retry after a fix, or drop.",
                         no_args_is_help=True)
app.add_typer(quarantine, name="quarantine")


@quarantine.command("list")
def quarantine_list(since: str = paging.SINCE, until: str = paging.UNTIL, limit: str = paging.LIMIT,
                    offset: str = paging.OFFSET, as_json: bool = typer.Option(False, "--json")) -> None:
    """Quarantined messages with the reason, newest first."""
    _print_inbound(InboundStatus.QUARANTINED, since, until, limit, offset, as_json, "quarantined messages")


quarantine.command("show")(show)
quarantine.command("retry")(retry)
quarantine.command("drop")(drop)
