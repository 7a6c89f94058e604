"""Time entries for the CLI: add, list with their invoice, edit (refused once invoiced).

The work date is the entry's `at` (UTC): `#time` records the moment of the mail, `time add --date`
noon UTC of the given day, so the day is the same in every European time zone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from helpdesk.store.account_tables import User
from helpdesk.store.billing_tables import Invoice, TimeEntryBilling
from helpdesk.store.models import Ticket, TimeEntry
from helpdesk.store.workflow import PRIMARY_EMAIL

_entry, _billing, _invoice = TimeEntry.__table__, TimeEntryBilling.__table__, Invoice.__table__
_ticket, _user = Ticket.__table__, User.__table__


def work_moment(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=timezone.utc)


def _upsert_note(conn: Connection, entry_id: int, note: str) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(_billing).values(time_entry_id=entry_id, note=note)
    conn.execute(statement.on_conflict_do_update(index_elements=["time_entry_id"], set_={"note": note}))


def add_entry(conn: Connection, ticket: int, user_id: int, minutes: int, day: date, note: str) -> int:
    entry_id = conn.execute(_entry.insert().returning(_entry.c.id), {
        "ticket_id": ticket, "user_id": user_id, "minutes": minutes, "at": work_moment(day)}).scalar_one()
    if note:
        _upsert_note(conn, entry_id, note)
    return entry_id


def _entries():
    return (select(_entry.c.id, _entry.c.ticket_id.label("ticket"), PRIMARY_EMAIL.label("user"), _entry.c.minutes,
                   _entry.c.at, _billing.c.note, _invoice.c.number.label("invoice"))
            .join(_user, _user.c.id == _entry.c.user_id)
            .outerjoin(_billing, _billing.c.time_entry_id == _entry.c.id)
            .outerjoin(_invoice, _invoice.c.id == _billing.c.invoice_id))


def list_entries(conn: Connection, *, ticket: int | None = None, user_id: int | None = None,
                 since: date | None = None, until: date | None = None, uninvoiced: bool = False) -> list:
    query = _entries().order_by(_entry.c.at, _entry.c.id)
    if ticket is not None:
        query = query.where(_entry.c.ticket_id == ticket)
    if user_id is not None:
        query = query.where(_entry.c.user_id == user_id)
    if since is not None:
        query = query.where(_entry.c.at >= datetime.combine(since, time(), tzinfo=timezone.utc))
    if until is not None:
        query = query.where(_entry.c.at < datetime.combine(until + timedelta(days=1), time(), tzinfo=timezone.utc))
    if uninvoiced:
        query = query.where(_invoice.c.number.is_(None))
    return list(conn.execute(query))


def find_entry(conn: Connection, entry_id: int):
    """The entry with its invoice number; its row is locked, so it cannot be invoiced while edited."""
    conn.execute(select(_entry.c.id).where(_entry.c.id == entry_id).with_for_update())
    return conn.execute(_entries().where(_entry.c.id == entry_id)).first()


def edit_entry(conn: Connection, entry_id: int, *, minutes: int | None, day: date | None, note: str | None) -> None:
    values = {k: v for k, v in (("minutes", minutes), ("at", day and work_moment(day))) if v is not None}
    if values:
        conn.execute(update(_entry).where(_entry.c.id == entry_id).values(**values))
    if note is not None:
        _upsert_note(conn, entry_id, note)


def ticket_exists(conn: Connection, number: int) -> bool:
    return conn.execute(select(_ticket.c.id).where(_ticket.c.id == number)).first() is not None
