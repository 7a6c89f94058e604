"""Incidents and problems: a problem ticket is the common cause its incident tickets point at (problem_id)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, literal_column, select, update
from sqlalchemy.engine import Connection

from helpdesk.store.models import Ticket

_ticket = Ticket.__table__


@dataclass(frozen=True)
class LinkedTicket:
    number: int
    subject: str
    status: str
    kind: str
    problem_id: int | None


_LINKED = select(_ticket.c.id, _ticket.c.subject, _ticket.c.status, _ticket.c.kind, _ticket.c.problem_id)
TICKET = _LINKED.where(_ticket.c.id == bindparam("number"))
INCIDENTS = _LINKED.where(_ticket.c.problem_id == bindparam("problem")).order_by(_ticket.c.id)
# The statuses written literally, not as parameters: PostgreSQL's generic plan then still knows
# which rows they select (see role_in in store/account_tables.py).
OPEN_INCIDENTS = (select(_ticket.c.id).where(_ticket.c.problem_id == bindparam("problem"),
                                             _ticket.c.status.not_in([literal_column("'resolved'"),
                                                                      literal_column("'closed'")]))
                  .order_by(_ticket.c.id))
LINK = update(_ticket).where(_ticket.c.id == bindparam("incident")).values(problem_id=bindparam("problem"))
MAKE_PROBLEM = update(_ticket).where(_ticket.c.id == bindparam("number")).values(kind="problem")


def linked_ticket(conn: Connection, number: int) -> LinkedTicket | None:
    row = conn.execute(TICKET, {"number": number}).first()
    return LinkedTicket(*row) if row else None


def incidents_of(conn: Connection, problem: int) -> list[LinkedTicket]:
    return [LinkedTicket(*row) for row in conn.execute(INCIDENTS, {"problem": problem})]


def open_incidents(conn: Connection, problem: int) -> list[int]:
    """Locked in number order (PostgreSQL), so two resolutions of one problem never deadlock."""
    query = OPEN_INCIDENTS.with_for_update() if conn.dialect.name == "postgresql" else OPEN_INCIDENTS
    return list(conn.execute(query, {"problem": problem}).scalars())


def link_incident(conn: Connection, incident: int, problem: int) -> None:
    """The incident points at the problem, which is a problem from now on."""
    conn.execute(MAKE_PROBLEM, {"number": problem})
    conn.execute(LINK, {"incident": incident, "problem": problem})
