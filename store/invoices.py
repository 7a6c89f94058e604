"""Invoices in the database: which contracts a period still has to invoice, what each one used
(time, tickets), writing an invoice and locking the time entries it billed, finding and listing them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import bindparam, exists, func, select, update
from sqlalchemy.engine import Connection

from helpdesk.store.account_tables import Contract, Organization, User
from helpdesk.store.billing_tables import Invoice, TimeEntryBilling
from helpdesk.store.models import Ticket, TimeEntry
from helpdesk.store.prebuilt import Prebuilt

_invoice, _contract, _org = Invoice.__table__, Contract.__table__, Organization.__table__
_entry, _billing, _ticket, _user = TimeEntry.__table__, TimeEntryBilling.__table__, Ticket.__table__, User.__table__


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=timezone.utc)


# A contract with its organization's name and language, read once per invoice (plain Core: the run
# reads 10,000 of them).
_CONTRACT_ROW = (select(_contract, _org.c.name.label("org_name"), _org.c.default_locale.label("org_locale"))
                 .join(_org, _org.c.id == _contract.c.organization_id))
CONTRACT_FOR_INVOICE = _CONTRACT_ROW.where(_contract.c.id == bindparam("contract_id"))


def contract_for_invoice(conn: Connection, contract_id: int):
    return conn.execute(CONTRACT_FOR_INVOICE, {"contract_id": contract_id}).one()


def contracts_to_invoice(conn: Connection, kind: str, start: date, end: date, key: str) -> list:
    """The contracts billed by `kind` that run in the period and have no invoice for it yet, as rows
    of contract_for_invoice, read at once (one query instead of one per invoice)."""
    invoiced = exists().where(_invoice.c.contract_id == _contract.c.id, _invoice.c.period == key)
    query = (_CONTRACT_ROW.where(_contract.c.billing_period == kind, _contract.c.starts_on <= end,
                                 (_contract.c.ends_on.is_(None)) | (_contract.c.ends_on >= start), ~invoiced)
             .order_by(_contract.c.id))
    return list(conn.execute(query))


# The statements a period run makes per invoice, compiled once (store/prebuilt.py): a run makes
# 10,000 invoices, and building them anew each time was a fifth of its CPU.
_BILLED = exists().where(_billing.c.time_entry_id == _entry.c.id, _billing.c.invoice_id.is_not(None))
# Time entries of the organization's tickets worked in [start, end) (UTC), not invoiced yet; locked,
# so an edit cannot change an entry between being counted here and being locked by the invoice.
UNBILLED_ENTRIES = Prebuilt(
    select(_entry.c.id, _entry.c.minutes)
    .join(_ticket, _ticket.c.id == _entry.c.ticket_id).join(_user, _user.c.id == _ticket.c.requester_id)
    .where(_user.c.organization_id == bindparam("org_id"), _entry.c.at >= bindparam("start", type_=_entry.c.at.type),
           _entry.c.at < bindparam("end", type_=_entry.c.at.type), ~_BILLED)
    .with_for_update(of=_entry))
TICKETS_BY_PRIORITY = Prebuilt(
    select(_ticket.c.priority, func.count()).join(_user, _user.c.id == _ticket.c.requester_id)
    .where(_user.c.organization_id == bindparam("org_id"),
           _ticket.c.created_at >= bindparam("start", type_=_ticket.c.created_at.type),
           _ticket.c.created_at < bindparam("end", type_=_ticket.c.created_at.type)).group_by(_ticket.c.priority))
# ON CONFLICT DO NOTHING: no id back when the contract's period is invoiced already (another run).
INSERT_INVOICE = Prebuilt.per_dialect(lambda dialect: dialect.insert(_invoice).on_conflict_do_nothing(
    index_elements=["contract_id", "period"]).returning(_invoice.c.id))
LOCK_ENTRIES = Prebuilt.per_dialect(lambda dialect: dialect.insert(_billing).on_conflict_do_update(
    index_elements=["time_entry_id"], set_={"invoice_id": dialect.insert(_billing).excluded.invoice_id}))


def _days(start: date, end: date) -> dict:
    return {"start": day_start(start), "end": day_start(end + timedelta(days=1))}


def unbilled_entries(conn: Connection, org_id: int, start: date, end: date) -> list[tuple[int, int]]:
    """(entry id, minutes) of the period's entries not yet on an invoice."""
    return [tuple(row) for row in UNBILLED_ENTRIES.all(conn, {"org_id": org_id, **_days(start, end)})]


def tickets_by_priority(conn: Connection, org_id: int, start: date, end: date) -> dict[str, int]:
    return dict(TICKETS_BY_PRIORITY.all(conn, {"org_id": org_id, **_days(start, end)}))


def minutes_carried_in(conn: Connection, contract_id: int, before: date) -> int:
    """Included minutes left unused by the contract's invoice of the period just before `before`
    (none when that period was not invoiced: minutes carry over one period, not across a gap)."""
    query = select(_invoice.c.minutes_left).where(_invoice.c.contract_id == contract_id,
                                                  _invoice.c.period_end == before - timedelta(days=1))
    return conn.execute(query).scalar() or 0


def insert_invoice(conn: Connection, values: dict) -> int | None:
    """The new invoice's id; None when the contract already has one for the period."""
    return INSERT_INVOICE.scalar(conn, values)


def lock_entries(conn: Connection, entry_ids: list[int], invoice_id: int) -> None:
    """Mark the entries as billed by the invoice (their note rows are kept, or made)."""
    LOCK_ENTRIES.executemany(
        conn, [{"time_entry_id": i, "note": "", "invoice_id": invoice_id} for i in entry_ids])


INVOICE_COLUMNS = (_invoice.c.id, _invoice.c.number, _invoice.c.period, _invoice.c.status, _invoice.c.currency,
                   _invoice.c.line_total, _invoice.c.tax_total, _invoice.c.invoice_total, _invoice.c.issue_date,
                   _invoice.c.due_date, _invoice.c.decided_by, _invoice.c.reject_reason, _invoice.c.sent_outbox_id,
                   _invoice.c.document, _invoice.c.organization_id, _invoice.c.contract_id,
                   _org.c.name.label("organization"), _contract.c.number.label("contract"))


def _invoices():
    return (select(*INVOICE_COLUMNS).join(_org, _org.c.id == _invoice.c.organization_id)
            .join(_contract, _contract.c.id == _invoice.c.contract_id))


def find_invoice(conn: Connection, number: str, *, lock: bool = False):
    query = _invoices().where(_invoice.c.number == number)
    if lock:
        query = query.with_for_update(of=_invoice)
    return conn.execute(query).first()


def list_invoices(conn: Connection, period: str | None, org_id: int | None, status: str | None) -> list:
    query = _invoices().order_by(_invoice.c.number)
    if period:
        query = query.where(_invoice.c.period == period)
    if org_id:
        query = query.where(_invoice.c.organization_id == org_id)
    if status:
        query = query.where(_invoice.c.status == status)
    return list(conn.execute(query))


def refresh_statistics(engine) -> None:
    """ANALYZE the tables a period run fills, on PostgreSQL. Plans made while they were nearly empty
    (a new installation's first run; the foreign-key checks of time_entry_billing are such plans)
    scan the whole table per row: quadratic over 10,000 invoices. Fresh statistics replace them."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE invoice, time_entry_billing, invoice_counter")


def decide_invoice(conn: Connection, invoice_id: int, status: str, by: str, now: datetime,
                   reason: str | None = None) -> None:
    conn.execute(update(_invoice).where(_invoice.c.id == invoice_id).values(
        status=status, decided_by=by, decided_at=now, reject_reason=reason))


def record_sent(conn: Connection, invoice_id: int, outbox_id: int) -> None:
    conn.execute(update(_invoice).where(_invoice.c.id == invoice_id).values(sent_outbox_id=outbox_id))
