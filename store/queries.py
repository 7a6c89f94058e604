"""Read-side queries for the CLI: ticket lists and details, the outbox, as plain dicts."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from helpdesk.store.models import (
    Article,
    Attachment,
    DeliveryAttempt,
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
    query = select(Ticket).order_by(Ticket.id.desc()).limit(limit)
    if status:
        query = query.where(Ticket.status == status)
    store = TicketStore(session)
    return [{"number": t.number, "subject": t.subject, "status": t.status, "priority": t.priority,
             "queue": t.queue, "requester": store.get_contact(t.requester_id).email,
             "assignee": store.get_contact(t.assignee_id).email if t.assignee_id else None,
             "updated_at": _iso(t.updated_at)} for t in session.execute(query).scalars()]


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
