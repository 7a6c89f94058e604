"""Rows the store hands the deciding code: plain frozen data, no session behind them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class ContactRow:
    id: int
    email: str
    display_name: str
    locale: str | None
    organization_id: int | None = None
    blocked_until: datetime | None = None  # of this address, after a permanent bounce


@dataclass(frozen=True)
class TicketState:
    """What the staff workflow and the notifications need to know of a ticket."""

    number: int
    subject: str
    status: str
    priority: str
    queue: str
    category: str | None
    assignment: str
    requester_id: int
    assignee_id: int | None
    resolved_at: datetime | None
