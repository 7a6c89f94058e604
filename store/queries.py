"""Read-side queries for the CLI: ticket lists and details, the outbox, as plain dicts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import aliased
from sqlmodel import Session

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
        "resolved_at": _iso(ticket.resolved_at),
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
    return conditions


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
                    Ticket.updated_at, _shown_address(Ticket.requester_id), _shown_address(Ticket.assignee_id),
                    Organization.name)
             .join(requester, requester.id == Ticket.requester_id)
             .outerjoin(Organization, Organization.id == requester.organization_id)
             .where(*conditions).order_by(Ticket.id.desc()).limit(limit).offset(offset))
    rows = [{"number": number, "subject": subject, "status": status, "priority": priority, "queue": queue,
             "requester": requester_email, "assignee": assignee_email, "organization": org,
             "created_at": _iso(created), "updated_at": _iso(updated)}
            for number, subject, status, priority, queue, created, updated, requester_email, assignee_email, org
            in session.execute(query)]
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
