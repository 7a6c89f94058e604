"""The workload report: per technician, open tickets, tickets handled, time logged and satisfaction.

The database does the counting: one grouped pass over the tickets, one over the time entries,
one over the ratings (it sums 100,000 rows faster than Python could read them). Tickets keep no
history of who held them, so a ticket handled in the period is credited to its assignee now.
"""

from __future__ import annotations

from sqlalchemy import and_, case, func, or_, select
from sqlmodel import Session

from helpdesk.gateway.ground.statuses import TicketStatus
from helpdesk.store.account_tables import User, UserRole
from helpdesk.store.models import SatisfactionRating, Ticket, TimeEntry
from helpdesk.store.report_outcomes import ANY_BREACHED
from helpdesk.store.reports import Period, staff_cards

REPORTED_ROLES = ("technician", "dispatcher")  # who does the work: admins only administer
SECONDS_PER_MINUTE = 60  # time entries are kept in minutes; reports give seconds


def _staff(session: Session) -> dict[int, bool]:
    """Technicians and dispatchers, active or not, with whether they are active."""
    return dict(session.execute(select(User.id, User.active).where(
        User.id.in_(select(UserRole.user_id).where(UserRole.role.in_(REPORTED_ROLES))))).all())


def _ticket_figures(session: Session, period: Period) -> dict[int, tuple[int, int, int]]:
    """By assignee, in one pass over the tickets: how many are open now (not closed, whatever the
    period), how many were resolved or closed in the period, and how many of those had a target
    breached (as the SLA report decides it)."""
    handled = or_(*(and_(*period.within(column)) for column in (Ticket.resolved_at, Ticket.closed_at)))
    rows = session.connection().execute(
        select(Ticket.assignee_id, _count_of(Ticket.status != TicketStatus.CLOSED), _count_of(handled),
               _count_of(and_(handled, ANY_BREACHED)))
        .where(Ticket.assignee_id.is_not(None)).group_by(Ticket.assignee_id)).all()
    return {user_id: (int(open_now), int(done), int(breached)) for user_id, open_now, done, breached in rows}


def _count_of(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _time_logged(session: Session, period: Period) -> dict[int, int]:
    return dict(session.execute(select(TimeEntry.user_id, func.sum(TimeEntry.minutes))
                                .where(*period.within(TimeEntry.at)).group_by(TimeEntry.user_id)).all())


def _ratings(session: Session, period: Period) -> dict[int, tuple[int, int]]:
    """(how many ratings, the sum of their scores) by technician."""
    rows = session.execute(select(SatisfactionRating.technician_id, func.count(), func.sum(SatisfactionRating.score))
                           .where(SatisfactionRating.technician_id.is_not(None),
                                  *period.within(SatisfactionRating.at))
                           .group_by(SatisfactionRating.technician_id)).all()
    return {user_id: (count, int(total)) for user_id, count, total in rows}


def workload_report(session: Session, period: Period) -> list[dict]:
    """One row per technician or dispatcher with any figure, sorted by address."""
    staff, tickets = _staff(session), _ticket_figures(session, period)
    logged, ratings = _time_logged(session, period), _ratings(session, period)
    busy = [user_id for user_id in staff if any(tickets.get(user_id, ())) or logged.get(user_id) or user_id in ratings]
    cards = staff_cards(session, busy)
    rows = []
    for user_id in busy:
        open_now, done, breached = tickets.get(user_id, (0, 0, 0))
        rated, score_sum = ratings.get(user_id, (0, 0))
        rows.append({**cards[user_id], "active": staff[user_id], "open": open_now, "handled": done,
                     "handled_breached": breached,
                     "time_logged_s": int(logged.get(user_id) or 0) * SECONDS_PER_MINUTE,
                     "satisfaction_count": rated,
                     "satisfaction_average": round(score_sum / rated, 2) if rated else None})
    return sorted(rows, key=lambda row: row["technician"])
