"""`helpdesk inbound ...`: pipe delivery from an MTA, and a look at stored or quarantined mail."""

from __future__ import annotations

import os
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
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.settings import Settings
from helpdesk.gateway.ground.statuses import InboundStatus
from helpdesk.inbound.pipe import EX_TEMPFAIL, deliver_from_pipe
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
    s = _pipe_settings()
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


def _pipe_settings() -> Settings:
    """The settings, or exit 75: any other code makes Postfix bounce the client's mail (dsn=5.3.0)
    for what is our mistake, a bad setting or an env file it cannot read, not the client's."""
    try:
        return settings()
    except UserError as exc:
        fail(f"temporary failure, message not stored: {exc}", EX_TEMPFAIL)
    except Exception as exc:  # an env file that cannot be read or decoded
        where = os.environ.get("HELPDESK_ENV_FILE", "helpdesk.env")
        fail(f"temporary failure, message not stored: cannot read the env file {where}: {exc}", EX_TEMPFAIL)


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


@app.command("purge")
def purge(older_than_days: str = typer.Option(None, "--older-than-days", metavar="N", show_default=False,
                                              help="Tickets closed more than N days ago (0: every closed ticket); "
                                                   "default HELPDESK_RAW_RETENTION_DAYS."),
          dry_run: bool = typer.Option(False, "--dry-run", help="List what would be purged; change nothing."),
          yes: bool = typer.Option(False, "--yes", "-y")) -> None:
    """Empty the raw copies of handled messages of tickets closed more than N days ago (the
    ticket's text and attachments stay); what the scheduled retention job does every day."""
    from helpdesk.gateway.ground.clock import utcnow
    from helpdesk.store.retention import find_purgeable, purge_raw, retention_cutoff

    s = settings()
    days = _retention_days(older_than_days, s.raw_retention_days)
    now = utcnow()
    cutoff = retention_cutoff(now, days)
    engine = make_engine(s.database_url, s.db_busy_timeout_ms)
    try:
        with engine.execution_options(read_only=True).begin() as conn:
            found = find_purgeable(conn, cutoff)
        what = (f"{len(found)} message{'' if len(found) == 1 else 's'} ({sum(c.size for c in found)} bytes) of "
                f"{len({c.ticket for c in found})} ticket(s) closed before {cutoff.isoformat(timespec='seconds')}")
        if not found:
            typer.echo(f"nothing to purge: no handled message of a ticket closed before {cutoff.isoformat()}")
            return
        if dry_run:
            print_table([{"id": c.inbound_id, "ticket": c.ticket, "closed_at": c.closed_at.isoformat(
                timespec="seconds"), "size": c.size} for c in found], ["id", "ticket", "closed_at", "size"],
                "Raw copies to purge")
            typer.echo(f"would purge the raw copies of {what}")
            return
        confirm(f"Purge the raw copies of {what}? They cannot be restored (except from a backup).", yes)
        done = purge_raw(engine, cutoff, now)
    finally:
        engine.dispose()
    typer.echo(f"purged the raw copies of {done.messages} message{'' if done.messages == 1 else 's'} "
               f"({done.bytes} bytes)")


def _retention_days(given: str | None, configured: int) -> int:
    if given is None:
        if configured <= 0:
            fail("give --older-than-days N (HELPDESK_RAW_RETENTION_DAYS is 0: raw copies are kept)", 2)
        return configured
    if not given.isdigit() or int(given) > 100_000:
        fail(f"--older-than-days must be a whole number of days (0 or more), got {given!r}", 2)
    return int(given)
