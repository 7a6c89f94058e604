"""Reads and writes of tickets' SLA clocks: one row's clock, the due tickets, the profile of a contract."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.engine import Connection

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.store.account_tables import Contract, User
from helpdesk.store.models import Ticket

_ticket, _contract, _user = Ticket.__table__, Contract.__table__, User.__table__
CLOCK_COLUMNS = ("status", "priority", "requester_id", "sla_profile", "sla_state", "sla_since", "sla_used_s",
                 "sla_paused_s", "first_response_at", "sla_warned", "sla_breached", "escalation_level", "escalated_at",
                 "escalation_acked", "first_response_due_at", "resolution_due_at")
CLOCK_ROW = select(*(_ticket.c[name] for name in CLOCK_COLUMNS)).where(_ticket.c.id == bindparam("number"))
# The profile of the requester's organization: its active contract's (the newest, when several).
ORG_PROFILE = (select(_contract.c.sla_profile).where(
    _contract.c.organization_id == bindparam("org_id"), _contract.c.starts_on <= bindparam("today"),
    or_(_contract.c.ends_on.is_(None), _contract.c.ends_on >= bindparam("today")))
    .order_by(_contract.c.starts_on.desc(), _contract.c.number).limit(1))
REQUESTER_ORG = select(_user.c.organization_id).where(_user.c.id == bindparam("user_id"))
DUE = select(_ticket.c.id).where(_ticket.c.sla_next_at <= bindparam("now")).order_by(_ticket.c.sla_next_at)
OPEN_OF_ORG = (select(_ticket.c.id).join(_user, _user.c.id == _ticket.c.requester_id)
               .where(_user.c.organization_id == bindparam("org_id"), _ticket.c.status != "closed"))
SET_VALUES = update(_ticket).where(_ticket.c.id == bindparam("number"))
_TIMES = {"sla_since", "first_response_at", "escalated_at", "first_response_due_at", "resolution_due_at"}


def clock_row(conn: Connection, number: int, lock: bool = False) -> dict:
    query = CLOCK_ROW.with_for_update() if lock else CLOCK_ROW
    row = conn.execute(query, {"number": number}).one()._mapping
    return {k: as_utc(v) if k in _TIMES else v for k, v in row.items()}


def org_profile(conn: Connection, org_id: int | None, today: date) -> str | None:
    if org_id is None:
        return None
    return conn.execute(ORG_PROFILE, {"org_id": org_id, "today": today}).scalar()


def requester_profile(conn: Connection, requester_id: int, today: date) -> str | None:
    return org_profile(conn, conn.execute(REQUESTER_ORG, {"user_id": requester_id}).scalar(), today)


def due_tickets(conn: Connection, now: datetime, limit: int) -> list[int]:
    """Tickets whose clock needs a look; on PostgreSQL rows another scheduler holds are skipped,
    so two instances never handle one ticket's escalation at once."""
    query = DUE.limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=_ticket)
    return list(conn.execute(query, {"now": now}).scalars())


def open_tickets_of_org(conn: Connection, org_id: int) -> list[int]:
    return list(conn.execute(OPEN_OF_ORG, {"org_id": org_id}).scalars())


def set_clock(conn: Connection, number: int, values: dict) -> None:
    conn.execute(SET_VALUES.values(**values), {"number": number})
