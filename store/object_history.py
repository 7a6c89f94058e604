"""An object's history: its tickets, alerts, inspections, documents and events, newest first.

Each source keeps its own table; the history reads the newest of each and merges them, so no
write has to remember to copy itself into a log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.engine import Connection

from helpdesk.gateway.ground.clock import as_utc
from helpdesk.store.alert_tables import Alert
from helpdesk.store.models import Ticket
from helpdesk.store.object_tables import ObjectDocument, ObjectEvent, ObjectInspection

_ticket, _alert, _inspection, _document, _event = (Ticket.__table__, Alert.__table__, ObjectInspection.__table__,
                                                   ObjectDocument.__table__, ObjectEvent.__table__)
HISTORY_LIMIT = 500  # per source: an object's page stays readable, the CLI says when more exist


@dataclass(frozen=True)
class HistoryItem:
    at: datetime
    kind: str           # ticket, alert, inspection, document, or an event's kind (announcement, edit, ...)
    text: str
    ticket_id: int | None = None
    alert_id: int | None = None
    document_id: int | None = None

    def as_dict(self) -> dict:
        return {"at": self.at.isoformat(), "kind": self.kind, "text": self.text, "ticket": self.ticket_id,
                "alert": self.alert_id, "document": self.document_id}


def _newest(conn: Connection, columns, at, object_column, object_id: int):
    query = select(*columns).where(object_column == object_id).order_by(at.desc()).limit(HISTORY_LIMIT)
    return conn.execute(query).all()


def _tickets(conn: Connection, object_id: int) -> list[HistoryItem]:
    rows = _newest(conn, (_ticket.c.id, _ticket.c.created_at, _ticket.c.subject, _ticket.c.status, _ticket.c.kind),
                   _ticket.c.created_at, _ticket.c.object_id, object_id)
    return [HistoryItem(as_utc(r.created_at), "ticket", f"{r.kind} {r.id} ({r.status}): {r.subject}", ticket_id=r.id)
            for r in rows]


def _alerts(conn: Connection, object_id: int) -> list[HistoryItem]:
    rows = _newest(conn, (_alert.c.id, _alert.c.created_at, _alert.c.level, _alert.c.kind, _alert.c.subject,
                          _alert.c.ticket_id), _alert.c.created_at, _alert.c.object_id, object_id)
    return [HistoryItem(as_utc(r.created_at), "alert", f"{r.level} {r.kind}: {r.subject}", ticket_id=r.ticket_id,
                        alert_id=r.id) for r in rows]


def _inspections(conn: Connection, object_id: int) -> list[HistoryItem]:
    rows = _newest(conn, (_inspection.c.recorded_at, _inspection.c.inspected_on, _inspection.c.next_due_on,
                          _inspection.c.document_id), _inspection.c.recorded_at, _inspection.c.object_id, object_id)
    return [HistoryItem(as_utc(r.recorded_at), "inspection",
                        f"inspected on {r.inspected_on.isoformat()}; next due "
                        f"{r.next_due_on.isoformat() if r.next_due_on else 'not set'}", document_id=r.document_id)
            for r in rows]


def _documents(conn: Connection, object_id: int) -> list[HistoryItem]:
    rows = _newest(conn, (_document.c.id, _document.c.added_at, _document.c.filename, _document.c.kind,
                          _document.c.size, _document.c.ticket_id), _document.c.added_at, _document.c.object_id,
                   object_id)
    return [HistoryItem(as_utc(r.added_at), "document", f"{r.kind} {r.filename} ({r.size} bytes)",
                        ticket_id=r.ticket_id, document_id=r.id) for r in rows]


def _events(conn: Connection, object_id: int) -> list[HistoryItem]:
    rows = _newest(conn, (_event.c.at, _event.c.kind, _event.c.text, _event.c.ticket_id, _event.c.alert_id),
                   _event.c.at, _event.c.object_id, object_id)
    return [HistoryItem(as_utc(r.at), r.kind, r.text, ticket_id=r.ticket_id, alert_id=r.alert_id) for r in rows]


def object_history(conn: Connection, object_id: int) -> list[HistoryItem]:
    """Everything that happened to the object, newest first."""
    events = _events(conn, object_id)
    # An announcement's event names its alert: listed once, as the announcement.
    told = {item.alert_id for item in events if item.alert_id is not None}
    items = [item for source in (_tickets, _inspections, _documents) for item in source(conn, object_id)]
    items += [item for item in _alerts(conn, object_id) if item.alert_id not in told] + events
    return sorted(items, key=lambda item: item.at, reverse=True)
