"""What readiness and the metrics read from the database: backlogs, their oldest rows, open tickets.

Each query is one aggregate over an indexed column (ix_outbox_due, ix_ticket_status, the
inbound status), cheap enough to run at every scrape and every readiness check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.gateway.ground.statuses import FINISHED_STATUSES, InboundStatus, OutboxStatus
from helpdesk.store.models import InboundMessage, Outbox, Ticket

_inbound, _outbox, _ticket = InboundMessage.__table__, Outbox.__table__, Ticket.__table__
# Rows still waiting for something; sent and bounced rows are history, not depth.
WAITING_OUTBOX = (OutboxStatus.QUEUED, OutboxStatus.SENDING, OutboxStatus.FAILED)


@dataclass(frozen=True)
class Backlog:
    count: int
    oldest: datetime | None  # UTC


def pending_inbound(conn: Connection) -> Backlog:
    """Stored messages not yet processed, and when the oldest of them was stored."""
    count, oldest = conn.execute(select(func.count(), func.min(_inbound.c.received_at))
                                 .where(_inbound.c.status == InboundStatus.PENDING)).one()
    return Backlog(count, as_utc(oldest))


def oldest_due_outbox(conn: Connection, now: datetime,
                      channels: tuple[str, ...] = ("email", "sms")) -> datetime | None:
    """When the longest-waiting queued row of `channels` became due (it should be claimed within
    seconds); without an SMS provider SMS rows wait by design and are left out."""
    oldest = conn.execute(select(func.min(_outbox.c.next_attempt_at)).where(
        _outbox.c.status == OutboxStatus.QUEUED, _outbox.c.next_attempt_at <= now,
        _outbox.c.channel.in_(channels))).scalar_one()
    return as_utc(oldest)


def failed_outbox_count(conn: Connection) -> int:
    return conn.execute(select(func.count()).where(_outbox.c.status == OutboxStatus.FAILED)).scalar_one()


def outbox_backlogs(conn: Connection) -> dict[str, Backlog]:
    """Per waiting status: how many rows, and the creation time of the oldest."""
    rows = conn.execute(select(_outbox.c.status, func.count(), func.min(_outbox.c.created_at))
                        .where(_outbox.c.status.in_(WAITING_OUTBOX)).group_by(_outbox.c.status)).all()
    found = {status: Backlog(count, as_utc(oldest)) for status, count, oldest in rows}
    return {str(status): found.get(status, Backlog(0, None)) for status in WAITING_OUTBOX}


def open_tickets(conn: Connection) -> list[tuple[str, str, int]]:
    """(queue, status, count) of tickets not resolved or closed."""
    return [tuple(row) for row in conn.execute(
        select(_ticket.c.queue, _ticket.c.status, func.count())
        .where(_ticket.c.status.not_in(FINISHED_STATUSES)).group_by(_ticket.c.queue, _ticket.c.status)).all()]
