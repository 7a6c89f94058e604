"""The SLA report: tickets created in a period, grouped by queue, technician and contract, from one query.

The grouping is done here, in Python, over one query's rows (only the columns it needs): medians
and percentiles have no portable SQL on SQLite. 100,000 tickets in one period take about a
second on a busy 2-core machine, a month of them a tenth of that (bench/reports.py). The outcome
of each target is decided in store/report_outcomes.py, the arithmetic is in store/report_figures.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import Date, cast, func, select
from sqlmodel import Session

from helpdesk.store.account_tables import Contract, Organization, User, UserEmail
from helpdesk.store.models import Ticket
from helpdesk.store.report_figures import TicketColumns, figures_by_group, total_figures
from helpdesk.store.report_outcomes import FIRST_RESPONSE_OUTCOME, RESOLUTION_OUTCOME

_ticket, _user, _contract, _org = Ticket.__table__, User.__table__, Contract.__table__, Organization.__table__


@dataclass(frozen=True)
class Period:
    """Whole UTC days from first_day to last_day, both included."""

    first_day: date
    last_day: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first_day, time(), UTC)

    @property
    def until(self) -> datetime:
        """The exclusive end: midnight after last_day (the last moment there is, for 9999-12-31)."""
        if self.last_day == date.max:
            return datetime.max.replace(tzinfo=UTC)
        return datetime.combine(self.last_day + timedelta(days=1), time(), UTC)

    def within(self, column) -> list:
        # SQLite keeps UTC text without an offset and renders a bound value the same way: both UTC.
        return [column >= self.since, column < self.until]


@dataclass(frozen=True)
class SlaFilter:
    """Which tickets the SLA report counts; the organization is the requester's, by id."""

    period: Period
    queue: str | None = None
    organization_id: int | None = None


def staff_cards(session: Session, user_ids: Iterable[int]) -> dict[int, dict]:
    """Each user's address (the primary one, else the first) and name, as the reports show them."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = session.execute(select(User.id, UserEmail.address, User.display_name)
                           .outerjoin(UserEmail, UserEmail.user_id == User.id).where(User.id.in_(ids))
                           .order_by(User.id, UserEmail.is_primary.desc(), UserEmail.address)).all()
    cards: dict[int, dict] = {}
    for user_id, address, name in rows:
        # A user without any address still needs a row of their own, apart from "(unassigned)".
        cards.setdefault(user_id, {"technician": address or f"user {user_id}", "name": name})
    return cards


def _utc_day(column, dialect: str):
    """The UTC day of a stored time: 'YYYY-MM-DD' text on SQLite (its times are UTC text), a date
    on PostgreSQL (in UTC, not the session's zone)."""
    return func.date(column) if dialect == "sqlite" else cast(func.timezone("UTC", column), Date)


class _ContractOnDay(dict):
    """One organization's contracts (newest start first): day -> the contract in force that day,
    worked out the first time the day is asked for; the newest start wins when several are, as
    the SLA clock picks the profile (store/sla_clock.py)."""

    def __init__(self, contracts: list):
        super().__init__()
        self.contracts = contracts

    def __missing__(self, day) -> int | None:
        on = date.fromisoformat(day) if isinstance(day, str) else day
        self[day] = found = next((c.id for c in self.contracts
                                  if c.starts_on <= on and (c.ends_on is None or c.ends_on >= on)), None)
        return found


def _contracts_on_days(session: Session, orgs: Sequence[int | None], days: Sequence) -> list[int | None]:
    """For each ticket's organization and day of creation, the contract in force. Looked up here,
    each distinct day once, rather than by a subquery per ticket, which costs PostgreSQL over a
    second for 100,000 tickets."""
    c = _contract.c
    by_org: dict[int, list] = {}
    for row in session.connection().execute(select(c.id, c.organization_id, c.starts_on, c.ends_on)
                                            .order_by(c.starts_on.desc(), c.number)):
        by_org.setdefault(row.organization_id, []).append(row)
    on_day = {org: _ContractOnDay(by_org.get(org, [])) for org in set(orgs)}
    return [on_day[org][day] for org, day in zip(orgs, days)]


def _contract_cards(session: Session) -> dict[int, dict]:
    rows = session.execute(select(_contract.c.id, _contract.c.number, _org.c.name)
                           .join(_org, _org.c.id == _contract.c.organization_id)).all()
    return {contract_id: {"contract": number, "organization": org} for contract_id, number, org in rows}


def _ticket_rows(session: Session, wanted: SlaFilter) -> list:
    """One row per ticket with only what the figures need. The database decides the outcomes and
    the UTC day, so no time has to become a Python datetime (that alone would cost more than the
    rest); the rows come through the connection, as the ORM's result adds about a fifth."""
    t, day = _ticket.c, _utc_day(_ticket.c.created_at, session.get_bind().dialect.name)
    query = (select(t.queue, t.assignee_id, _user.c.organization_id, day, FIRST_RESPONSE_OUTCOME,
                    RESOLUTION_OUTCOME, t.first_response_used_s, t.resolution_used_s, t.sla_paused_s)
             .join(_user, _user.c.id == t.requester_id).where(*wanted.period.within(t.created_at)))
    if wanted.queue is not None:
        query = query.where(t.queue == wanted.queue)
    if wanted.organization_id is not None:
        query = query.where(_user.c.organization_id == wanted.organization_id)
    return session.connection().execute(query).all()


def _rows(figures: dict, cards: dict, empty: dict) -> list[dict]:
    """One row per group, sorted by its name (the card's first field, unique); the group of tickets
    without one (key None) last."""
    def name(key) -> str:
        return next(iter(cards[key].values()))

    rows = [{**cards[key], **figures[key]} for key in sorted((k for k in figures if k is not None), key=name)]
    if None in figures:
        rows.append({**empty, **figures[None]})
    return rows


def sla_report(session: Session, wanted: SlaFilter) -> dict:
    """Figures of all the tickets and per queue, technician (the assignee) and contract (the
    requester's organization's contract active on the day the ticket was created)."""
    rows = _ticket_rows(session, wanted)
    queues, assignees, orgs, days, *columns = zip(*rows) if rows else [()] * 9
    contracts, tickets = _contracts_on_days(session, orgs, days), TicketColumns(*columns)
    by_technician = figures_by_group(assignees, tickets)
    return {
        "total": total_figures(tickets),
        "by_queue": _rows(figures_by_group(queues, tickets), {q: {"queue": q} for q in set(queues)}, {"queue": None}),
        "by_technician": _rows(by_technician, staff_cards(session, (k for k in by_technician if k is not None)),
                               {"technician": None, "name": None}),
        "by_contract": _rows(figures_by_group(contracts, tickets), _contract_cards(session),
                             {"contract": None, "organization": None}),
    }
