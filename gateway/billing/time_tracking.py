"""Technicians' time on tickets from the CLI: validated, and locked once an invoice billed it."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from helpdesk.gateway.accounts.contracts import parse_date
from helpdesk.gateway.accounts.directory import find_user, user_roles
from helpdesk.gateway.accounts.names import check_text
from helpdesk.gateway.ground.errors import UserError
from helpdesk.gateway.ground.roles import STAFF_ROLES
from helpdesk.gateway.staff_mailbox.mail_commands import MAX_MINUTES, parse_duration
from helpdesk.store import time_entries as q

NOTE_MAX = 2000


def read_minutes(minutes: int | None, duration: str | None, *, required: bool) -> int | None:
    if minutes is not None and duration is not None:
        raise UserError("give --minutes or --duration, not both")
    if duration is not None:
        if (parsed := parse_duration(duration)) is None:
            raise UserError(f"duration must be like 1h30m, 90m, 1.5h or 1:30 (at most {MAX_MINUTES} minutes), "
                            f"got {duration!r}")
        return parsed
    if minutes is None:
        if required:
            raise UserError("give the time spent with --minutes N or --duration 1h30m")
        return None
    if not 0 < minutes <= MAX_MINUTES:
        raise UserError(f"minutes must be from 1 to {MAX_MINUTES}, got {minutes}")
    return minutes


def _note(note: str | None) -> str | None:
    return None if note is None else check_text(note, "note", NOTE_MAX)


def add_time(session: Session, ticket: int, user: str, minutes: int, day: str, note: str | None) -> int:
    conn = session.connection()
    if not q.ticket_exists(conn, ticket):
        raise UserError(f"unknown ticket {ticket}")
    person = find_user(session, user)
    if not user_roles(session, person.id) & set(STAFF_ROLES):
        raise UserError(f"{user} is not staff: only technicians, dispatchers and admins record time")
    return q.add_entry(conn, ticket, person.id, minutes, parse_date(day, "date"), _note(note) or "")


def edit_time(session: Session, entry_id: int, minutes: int | None, day: str | None, note: str | None) -> None:
    conn = session.connection()
    entry = q.find_entry(conn, entry_id)
    if entry is None:
        raise UserError(f"unknown time entry {entry_id}")
    if entry.invoice:
        raise UserError(f"time entry {entry_id} is on invoice {entry.invoice} and can no longer be changed")
    when: date | None = parse_date(day, "date") if day is not None else None
    q.edit_entry(conn, entry_id, minutes=minutes, day=when, note=_note(note))


def entry_view(row) -> dict:
    return {"id": row.id, "ticket": row.ticket, "user": row.user, "minutes": row.minutes,
            "date": row.at.date().isoformat(), "note": row.note or "", "invoice": row.invoice}
