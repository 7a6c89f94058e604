"""Faults reported by clients' monitoring systems, one row per fingerprint (object + problem key).

Whoever handles a report locks the fingerprint's row first (inserted if new, then SELECT ... FOR
UPDATE on PostgreSQL; SQLite's one writer serializes anyway), so of two instances handling one
storm only the first opens a ticket and the other counts on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from helpdesk.store.models import Ticket
from helpdesk.store.object_tables import Fault

_fault, _ticket = Fault.__table__, Ticket.__table__


@dataclass(frozen=True)
class FaultRow:
    fingerprint: str
    object_id: int | None
    ticket_id: int | None
    state: str  # failing, recovered
    occurrences: int
    recoveries: int
    first_seen: datetime
    last_seen: datetime
    recovered_at: datetime | None
    ticket_status: str | None  # of ticket_id, when there is one


_COLUMNS = (_fault.c.fingerprint, _fault.c.object_id, _fault.c.ticket_id, _fault.c.state, _fault.c.occurrences,
            _fault.c.recoveries, _fault.c.first_seen, _fault.c.last_seen, _fault.c.recovered_at, _ticket.c.status)
_WITH_TICKET = select(*_COLUMNS).select_from(_fault.outerjoin(_ticket, _ticket.c.id == _fault.c.ticket_id))
LOCK_FAULT = _WITH_TICKET.where(_fault.c.fingerprint == bindparam("fingerprint")).with_for_update(of=_fault)
FAULTS_OF_TICKET = _WITH_TICKET.where(_fault.c.ticket_id == bindparam("ticket_id")).order_by(_fault.c.fingerprint)
_BY_FINGERPRINT = update(_fault).where(_fault.c.fingerprint == bindparam("f_fingerprint"))
COUNT_REPEAT = _BY_FINGERPRINT.values(occurrences=_fault.c.occurrences + 1, last_seen=bindparam("now"))
FAIL_AGAIN = _BY_FINGERPRINT.values(occurrences=_fault.c.occurrences + 1, last_seen=bindparam("now"),
                                    state="failing")
RECOVER = _BY_FINGERPRINT.values(recoveries=_fault.c.recoveries + 1, last_seen=bindparam("now"),
                                 recovered_at=bindparam("now"), state="recovered")
NEW_TICKET = _BY_FINGERPRINT.values(ticket_id=bindparam("ticket_id"), object_id=bindparam("object_id"),
                                    occurrences=1, recoveries=0, first_seen=bindparam("now"),
                                    last_seen=bindparam("now"), recovered_at=None, state="failing")


def lock_fault(conn: Connection, fingerprint: str, object_id: int | None, now: datetime) -> FaultRow:
    """The fingerprint's row, held until commit; a first report inserts it (no ticket yet)."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(_fault).on_conflict_do_nothing(index_elements=["fingerprint"]),
                 {"fingerprint": fingerprint, "object_id": object_id, "ticket_id": None, "state": "failing",
                  "occurrences": 0, "recoveries": 0, "first_seen": now, "last_seen": now})
    return FaultRow(*conn.execute(LOCK_FAULT, {"fingerprint": fingerprint}).one())


def count_repeat(conn: Connection, fingerprint: str, now: datetime) -> None:
    conn.execute(COUNT_REPEAT, {"f_fingerprint": fingerprint, "now": now})


def fail_again(conn: Connection, fingerprint: str, now: datetime) -> None:
    """A failure after a recovery, on the same ticket (flapping)."""
    conn.execute(FAIL_AGAIN, {"f_fingerprint": fingerprint, "now": now})


def record_recovery(conn: Connection, fingerprint: str, now: datetime) -> None:
    conn.execute(RECOVER, {"f_fingerprint": fingerprint, "now": now})


def start_ticket(conn: Connection, fingerprint: str, ticket_id: int, object_id: int | None, now: datetime) -> None:
    """The fingerprint's counts start again with this new ticket."""
    conn.execute(NEW_TICKET, {"f_fingerprint": fingerprint, "ticket_id": ticket_id, "object_id": object_id,
                              "now": now})


def faults_of_ticket(conn: Connection, ticket_id: int) -> list[FaultRow]:
    return [FaultRow(*row) for row in conn.execute(FAULTS_OF_TICKET, {"ticket_id": ticket_id})]
