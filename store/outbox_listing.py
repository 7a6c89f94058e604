"""`helpdesk outbox list`: one page of outbox rows, newest first, and how many match: two queries
whatever the page size, without the stored message bytes."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import Session

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.store.models import Outbox

_outbox = Outbox.__table__
_COLUMNS = (_outbox.c.id, _outbox.c.ticket_id, _outbox.c.kind, _outbox.c.rcpt_to, _outbox.c.status,
            _outbox.c.attempts, _outbox.c.created_at, _outbox.c.queued_at, _outbox.c.next_attempt_at,
            _outbox.c.sent_at, _outbox.c.last_error, _outbox.c.message_id)


def _iso(value) -> str | None:
    return as_utc(value).isoformat() if value else None


def outbox_page(session: Session, status: str | None, limit: int, offset: int) -> tuple[list[dict], int]:
    """Rows `offset` .. `offset + limit` (newest first) and the number of rows matching `status`."""
    where = [_outbox.c.status == status] if status else []
    total = session.execute(select(func.count()).select_from(_outbox).where(*where)).scalar()
    rows = session.execute(select(*_COLUMNS).where(*where).order_by(_outbox.c.id.desc())
                           .limit(limit).offset(offset)).all()
    return [{"id": r.id, "ticket": r.ticket_id, "kind": r.kind, "to": r.rcpt_to, "status": r.status,
             "attempts": r.attempts, "created_at": _iso(r.created_at), "queued_at": _iso(r.queued_at),
             "next_attempt_at": _iso(r.next_attempt_at), "sent_at": _iso(r.sent_at), "last_error": r.last_error,
             "message_id": r.message_id} for r in rows], total
