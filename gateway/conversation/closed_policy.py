"""What mail that continues a closed ticket does, by HELPDESK_CLOSED_TICKET_POLICY."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from helpdesk.gateway.ground.statuses import TicketStatus
from helpdesk.store.tickets import TicketRow


@dataclass(frozen=True)
class FollowUp:
    """The message opens a new ticket linked to a finished one instead of reopening it."""

    number: int
    reason: str


def follow_up_instead(ticket: TicketRow, policy: str, within_days: int, now: datetime) -> FollowUp | None:
    """None when the ticket may be continued (or reopened); else why a new ticket is opened."""
    # A resolved ticket still waits for the client's answer: that answer always continues it.
    if ticket.status != TicketStatus.CLOSED or policy == "reopen":
        return None
    if policy == "reopen-within" and ticket.finished_at and now - ticket.finished_at <= timedelta(days=within_days):
        return None
    if policy == "reopen-within":
        return FollowUp(ticket.number, f"{ticket.status} more than {within_days} days ago")
    return FollowUp(ticket.number, f"{ticket.status} tickets are never reopened by mail")
