"""Read-side queries for the CLI: ticket lists and details, the outbox, as plain dicts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.gateway.ground.statuses import TicketStatus
from helpdesk.store.account_tables import Organization, User, UserEmail
from helpdesk.store.models import (
    Article,
    Attachment,
    DeliveryAttempt,
    InboundMessage,
    Outbox,
    SatisfactionRating,
    Ticket,
    TicketEvent,
    TimeEntry,
)
from helpdesk.store.tickets import TicketStore


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def list_tickets(session: Session, status: str | None = None, limit: int = 200) -> list[dict]:
    return ticket_page(session, TicketFilter(status=status or None), limit)[0]


def _articles(session: Session, ticket_id: int) -> list[dict]:
    counts = dict(session.execute(
        select(Attachment.article_id, func.count()).join(Article, Article.id == Attachment.article_id)
        .where(Article.ticket_id == ticket_id).group_by(Attachment.article_id)).all())
    rows = session.execute(select(Article).where(Article.ticket_id == ticket_id).order_by(Article.id)).scalars()
    return [{"direction": a.direction, "channel": a.channel, "sender": a.sender, "subject": a.subject,
             "message_id": a.message_id, "text": a.text, "new_text": a.new_text, "visibility": a.visibility,
             "attachments": counts.get(a.id, 0),
             "created_at": _iso(a.created_at)} for a in rows]


def _utc_iso(value) -> str | None:
    # SQLite hands back naive UTC, PostgreSQL the session's zone: the SLA's moments are all shown as UTC.
    return as_utc(value).astimezone(UTC).isoformat() if value else None


# The bits of Ticket.sla_warned / sla_breached and the state of a running clock, as gateway/sla/clock.py
# defines them (the store does not import the deciding code); JSON names the targets as `targets` does.
FIRST_RESPONSE_BIT, RESOLUTION_BIT, RUNNING_CLOCK = 1, 2, "running"
_TARGET_BITS = {FIRST_RESPONSE_BIT: "first_response", RESOLUTION_BIT: "resolution"}


def _target_names(bits: int) -> list[str]:
    return [name for bit, name in _TARGET_BITS.items() if bits & bit]


def _sla(t: Ticket) -> dict:
    """The SLA clock as stored: `used` (working seconds) and `paused` (wall seconds) count up to
    `since`; the caller, who has the rules' calendar, brings them up to now."""
    return {"profile": t.sla_profile, "state": t.sla_state, "since": _utc_iso(t.sla_since),
            "targets": {"first_response": t.first_response_target_s, "resolution": t.resolution_target_s},
            "used": t.sla_used_s, "paused": t.sla_paused_s,
            "first_response_at": _utc_iso(t.first_response_at), "first_response_used": t.first_response_used_s,
            "resolution_used": t.resolution_used_s,
            "due": {"first_response": _utc_iso(t.first_response_due_at), "resolution": _utc_iso(t.resolution_due_at)},
            "warned": _target_names(t.sla_warned), "breached": _target_names(t.sla_breached),
            "escalation_level": t.escalation_level, "escalated_at": _utc_iso(t.escalated_at),
            "acknowledged": bool(t.escalation_acked)}


def ticket_detail(session: Session, number: int) -> dict | None:
    ticket = session.get(Ticket, number)
    if ticket is None:
        return None
    requester = TicketStore(session).get_contact(ticket.requester_id)
    events = session.execute(select(TicketEvent).where(TicketEvent.ticket_id == number)
                             .order_by(TicketEvent.id)).scalars()
    outbound = session.execute(select(Outbox).where(Outbox.ticket_id == number).order_by(Outbox.id)).scalars()
    return {
        "number": ticket.number, "subject": ticket.subject, "status": ticket.status,
        "priority": ticket.priority, "queue": ticket.queue, "rule": ticket.rule,
        "requester": requester.email, "requester_name": requester.display_name,
        "participants": sorted(TicketStore(session).participants(number)),
        "assignee": TicketStore(session).get_contact(ticket.assignee_id).email if ticket.assignee_id else None,
        "category": ticket.category, "tags": [t for t in ticket.tags.split(",") if t],
        "alert_level": ticket.alert_level, "assignment": ticket.assignment, "created_at": _iso(ticket.created_at),
        "updated_at": _iso(ticket.updated_at), "closed_at": _iso(ticket.closed_at),
        "resolved_at": _iso(ticket.resolved_at), "sla": _sla(ticket),
        "time_spent_minutes": session.execute(select(func.coalesce(func.sum(TimeEntry.minutes), 0))
                                              .where(TimeEntry.ticket_id == number)).scalar(),
        "ratings": list(session.execute(select(SatisfactionRating.score).where(SatisfactionRating.ticket_id == number)
                                        .order_by(SatisfactionRating.id)).scalars()),
        "articles": _articles(session, number),
        "events": [{"at": _iso(e.at), "kind": e.kind, "detail": e.detail} for e in events],
        "outbox": [{"id": o.id, "kind": o.kind, "to": o.rcpt_to, "status": o.status} for o in outbound],
    }


def list_outbox(session: Session, status: str | None = None, limit: int = 200) -> list[dict]:
    query = select(Outbox).order_by(Outbox.id.desc()).limit(limit)
    if status:
        query = query.where(Outbox.status == status)
    return [{"id": o.id, "ticket": o.ticket_id, "kind": o.kind, "to": o.rcpt_to, "status": o.status,
             "attempts": o.attempts, "next_attempt_at": _iso(o.next_attempt_at),
             "sent_at": _iso(o.sent_at), "last_error": o.last_error, "message_id": o.message_id}
            for o in session.execute(query).scalars()]


def delivery_attempts(session: Session, outbox_id: int) -> list[dict]:
    rows = session.execute(select(DeliveryAttempt).where(DeliveryAttempt.outbox_id == outbox_id)
                           .order_by(DeliveryAttempt.id)).scalars()
    return [{"at": _iso(a.at), "ok": a.ok, "code": a.code, "detail": a.detail} for a in rows]


# --- Paged lists for the CLI: one statement for the page, at most one more for the count -----------

@dataclass(frozen=True)
class TicketFilter:
    """Which tickets a list shows. Users and the organization come as ids (the caller resolves
    addresses and names); times are aware UTC, since inclusive, until exclusive, on created_at."""

    queue: str | None = None
    assignee_id: int | None = None
    requester_id: int | None = None
    organization_id: int | None = None
    priority: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    # SLA: a running clock with a target due by then or already overdue; a breach on a ticket not closed.
    due_before: datetime | None = None
    breached: bool = False

    @property
    def about_sla(self) -> bool:
        """The list is about the SLA: its rows say when each ticket is due and what is breached."""
        return self.due_before is not None or self.breached


def _shown_address(user_id):
    """A user's address as TicketStore.get_contact picks it (primary first), inside the row's own query."""
    return (select(UserEmail.address).where(UserEmail.user_id == user_id)
            .order_by(UserEmail.is_primary.desc(), UserEmail.address).limit(1).scalar_subquery())


def _ticket_conditions(f: TicketFilter) -> list:
    equal = ((Ticket.queue, f.queue), (Ticket.assignee_id, f.assignee_id), (Ticket.requester_id, f.requester_id),
             (Ticket.priority, f.priority), (Ticket.status, f.status))
    conditions = [column == value for column, value in equal if value is not None]
    if f.organization_id is not None:  # the requester's organization, as `users list --org` means it
        conditions.append(Ticket.requester_id.in_(select(User.id).where(User.organization_id == f.organization_id)))
    if f.since is not None:
        conditions.append(Ticket.created_at >= _in_utc(f.since))
    if f.until is not None:
        conditions.append(Ticket.created_at < _in_utc(f.until))
    return conditions + _sla_conditions(f)


def _has_bit(column, bit: int):
    return column.op("&")(bit) != 0


def _sla_conditions(f: TicketFilter) -> list:
    conditions = []
    if f.due_before is not None:
        due_before = _in_utc(f.due_before)
        # Once the scheduler records a breach the keeper stores no due time for that target (it has
        # passed), so an overdue target is found by its breach bit while it is still open.
        overdue = or_(and_(_has_bit(Ticket.sla_breached, FIRST_RESPONSE_BIT), Ticket.first_response_at.is_(None)),
                      _has_bit(Ticket.sla_breached, RESOLUTION_BIT))
        conditions.append(and_(Ticket.sla_state == RUNNING_CLOCK, or_(
            Ticket.first_response_due_at <= due_before, Ticket.resolution_due_at <= due_before, overdue)))
    if f.breached:
        conditions += [Ticket.sla_breached != 0, Ticket.status != TicketStatus.CLOSED]
    return conditions


def _due(first_response_due, resolution_due) -> str | None:
    """The earlier of the two due times."""
    return _utc_iso(min((as_utc(d) for d in (first_response_due, resolution_due) if d is not None), default=None))


def _in_utc(moment: datetime) -> datetime:
    # SQLite keeps times as UTC text without an offset and renders a bound value the same way, offset
    # dropped: so it must be UTC already. PostgreSQL compares the aware value as timestamptz.
    return moment.astimezone(UTC)


def _total(session: Session, table, conditions: list, shown: int, limit: int, offset: int) -> int:
    """How many rows match: known from the page itself unless it is full or past the end."""
    if 0 < shown < limit or (shown == 0 and offset == 0):
        return offset + shown
    return session.execute(select(func.count()).select_from(table).where(*conditions)).scalar_one()


def ticket_page(session: Session, f: TicketFilter, limit: int, offset: int = 0) -> tuple[list[dict], int]:
    """A page of tickets, newest first, with requester, assignee and organization; and the total."""
    requester = aliased(User)
    conditions = _ticket_conditions(f)
    query = (select(Ticket.id, Ticket.subject, Ticket.status, Ticket.priority, Ticket.queue, Ticket.created_at,
                    Ticket.updated_at, _shown_address(Ticket.requester_id).label("requester"),
                    _shown_address(Ticket.assignee_id).label("assignee"), Organization.name.label("organization"),
                    Ticket.first_response_due_at, Ticket.resolution_due_at, Ticket.sla_breached)
             .join(requester, requester.id == Ticket.requester_id)
             .outerjoin(Organization, Organization.id == requester.organization_id)
             .where(*conditions).order_by(Ticket.id.desc()).limit(limit).offset(offset))
    rows = []
    for r in session.execute(query):
        row = {"number": r.id, "subject": r.subject, "status": r.status, "priority": r.priority, "queue": r.queue,
               "requester": r.requester, "assignee": r.assignee, "organization": r.organization,
               "created_at": _iso(r.created_at), "updated_at": _iso(r.updated_at)}
        if f.about_sla:
            row |= {"due": _due(r.first_response_due_at, r.resolution_due_at),
                    "breached": _target_names(r.sla_breached)}
        rows.append(row)
    return rows, _total(session, Ticket, conditions, len(rows), limit, offset)


def inbound_page(session: Session, status: str | None, since: datetime | None, until: datetime | None,
                 limit: int, offset: int = 0) -> tuple[list[dict], int]:
    """A page of stored inbound messages, newest first (without their raw bytes), and the total."""
    conditions = [InboundMessage.status == status] if status else []
    if since is not None:
        conditions.append(InboundMessage.received_at >= _in_utc(since))
    if until is not None:
        conditions.append(InboundMessage.received_at < _in_utc(until))
    query = (select(InboundMessage.id, InboundMessage.received_at, InboundMessage.source,
                    InboundMessage.envelope_from, InboundMessage.status, InboundMessage.ticket_id,
                    InboundMessage.reason)
             .where(*conditions).order_by(InboundMessage.id.desc()).limit(limit).offset(offset))
    rows = [{"id": m.id, "received_at": _iso(m.received_at), "source": m.source, "from": m.envelope_from,
             "status": m.status, "ticket": m.ticket_id, "reason": m.reason} for m in session.execute(query)]
    return rows, _total(session, InboundMessage, conditions, len(rows), limit, offset)
