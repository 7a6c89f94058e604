"""Raw-message retention: the raw copies of messages whose ticket was closed long ago are purged.

Data protection asks that a mail's full raw copy (every header, every hop, the undecoded body)
not be kept longer than needed; the ticket's text and attachments stay, so the conversation can
still be read. Only messages that were handled (processed or duplicate) of a ticket that is
closed now, and was closed before the cutoff, qualify: a pending message is not handled yet, and
a quarantined or dropped one has nothing but its raw copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection, Engine

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.gateway.ground.statuses import InboundStatus, TicketStatus
from helpdesk.store.models import InboundMessage, Ticket

_inbound, _ticket = InboundMessage.__table__, Ticket.__table__
HANDLED = (InboundStatus.PROCESSED, InboundStatus.DUPLICATE)
# Rows purged per transaction: the first run on an old database may find many, and on SQLite a
# long write transaction would keep the intake waiting for the lock (its senders get 451).
BATCH = 200


@dataclass(frozen=True)
class PurgeCandidate:
    inbound_id: int
    ticket: int
    closed_at: datetime
    size: int


@dataclass(frozen=True)
class PurgeResult:
    messages: int
    bytes: int


def retention_cutoff(now: datetime, days: int) -> datetime:
    """Tickets closed before this moment have been closed more than `days` days."""
    return now - timedelta(days=days)


def _purgeable(cutoff: datetime):
    return (select(_inbound.c.id, _inbound.c.ticket_id, _ticket.c.closed_at,
                   func.length(_inbound.c.raw).label("size"))
            .join(_ticket, _ticket.c.id == _inbound.c.ticket_id)
            .where(_ticket.c.status == TicketStatus.CLOSED, _ticket.c.closed_at < cutoff,
                   _inbound.c.status.in_(HANDLED), _inbound.c.raw_purged_at.is_(None))
            .order_by(_inbound.c.id))


def find_purgeable(conn: Connection, cutoff: datetime) -> list[PurgeCandidate]:
    """What a purge with this cutoff would empty (for --dry-run), oldest message first."""
    return [PurgeCandidate(r.id, r.ticket_id, as_utc(r.closed_at), r.size or 0)
            for r in conn.execute(_purgeable(cutoff))]


_PURGE = (update(_inbound).where(_inbound.c.id.in_(bindparam("ids", expanding=True)),
                                 _inbound.c.raw_purged_at.is_(None))
          .values(raw=b"", raw_purged_at=bindparam("now")))


def purge_raw(engine: Engine, cutoff: datetime, now: datetime) -> PurgeResult:
    """Empty the raw copies that qualify, BATCH rows per transaction; returns what went.

    Each batch is chosen in the transaction that purges it, so a ticket reopened during a long
    run keeps the raw copies of its messages not purged yet."""
    messages = size = 0
    while True:
        with engine.begin() as conn:
            # SQLite: overwrite the freed bytes with zeros, so they cannot be read from the file
            # (some builds do by default); the pooled connection gets its own setting back after.
            usual = conn.exec_driver_sql("PRAGMA secure_delete").scalar() if conn.dialect.name == "sqlite" else None
            if usual is not None:
                conn.exec_driver_sql("PRAGMA secure_delete=ON")
            batch = conn.execute(_purgeable(cutoff).limit(BATCH)).all()
            if batch:
                conn.execute(_PURGE, {"ids": [r.id for r in batch], "now": now})
            if usual is not None:
                conn.exec_driver_sql(f"PRAGMA secure_delete={int(usual)}")
        messages, size = messages + len(batch), size + sum(r.size or 0 for r in batch)
        if len(batch) < BATCH:
            return PurgeResult(messages, size)
