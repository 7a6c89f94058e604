"""Reads and writes of clients' objects: the object itself, its people, inspections and events.

Documents live in store/object_documents.py and the merged history in store/object_history.py;
both are re-exported here so callers have one module to import.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection
from sqlmodel import Session

from helpdesk.store import workflow as q
from helpdesk.store.object_documents import DocumentRow, add_document, get_document, list_documents
from helpdesk.store.object_history import HistoryItem, object_history
from helpdesk.store.object_tables import ClientObject, ObjectEvent, ObjectInspection, ObjectPerson

__all__ = ["DocumentRow", "HistoryItem", "ObjectRow", "add_document", "find_object", "get_document", "get_object",
           "list_documents", "object_history", "object_people", "record_event", "record_inspection"]

_object, _person, _inspection, _event = (ClientObject.__table__, ObjectPerson.__table__,
                                         ObjectInspection.__table__, ObjectEvent.__table__)
_COLUMNS = (_object.c.id, _object.c.organization_id, _object.c.identifier, _object.c.name, _object.c.kind,
            _object.c.location, _object.c.critical, _object.c.inspection_interval_days,
            _object.c.next_inspection_on, _object.c.attributes)
OBJECT_BY_ID = select(*_COLUMNS).where(_object.c.id == bindparam("object_id"))
# Two rows at most tell "unique" from "ambiguous" without counting every organization's objects.
OBJECTS_BY_IDENTIFIER = (select(*_COLUMNS).where(func.lower(_object.c.identifier) == bindparam("identifier"))
                         .order_by(_object.c.id).limit(2))
PEOPLE = (select(_person.c.user_id).where(_person.c.object_id == bindparam("object_id"))
          .order_by(_person.c.side, _person.c.user_id))
MOVE_NEXT = update(_object).where(_object.c.id == bindparam("b_object_id")).values(
    next_inspection_on=bindparam("next_on"), updated_at=bindparam("now"))
INTERVAL = select(_object.c.inspection_interval_days).where(_object.c.id == bindparam("object_id"))
INSERT_INSPECTION = insert(_inspection).returning(_inspection.c.id)
INSERT_EVENT = insert(_event).returning(_event.c.id)


@dataclass(frozen=True)
class ObjectRow:
    id: int
    organization_id: int
    identifier: str
    name: str
    kind: str
    location: str
    critical: bool
    inspection_interval_days: int | None
    next_inspection_on: date | None
    attributes: dict


def _row(r) -> ObjectRow:
    return ObjectRow(r.id, r.organization_id, r.identifier, r.name or "", r.kind or "", r.location or "",
                     bool(r.critical), r.inspection_interval_days, r.next_inspection_on,
                     json.loads(r.attributes or "{}"))


def get_object(conn: Connection, object_id: int) -> ObjectRow | None:
    r = conn.execute(OBJECT_BY_ID, {"object_id": object_id}).first()
    return _row(r) if r is not None else None


def find_object(conn: Connection, identifier: str, organization_id: int | None = None) -> ObjectRow | None:
    """The object with this identifier (any case) in the organization; without an organization,
    the object only when no other organization has one of that identifier."""
    query = OBJECTS_BY_IDENTIFIER
    if organization_id is not None:
        query = query.where(_object.c.organization_id == organization_id)
    rows = conn.execute(query, {"identifier": identifier.strip().lower()}).all()
    return _row(rows[0]) if len(rows) == 1 else None


def object_people(conn: Connection, object_id: int, side: str | None = None) -> list[q.Person]:
    """The people responsible for the object, on one side ("client", "technician") or both."""
    query = PEOPLE if side is None else PEOPLE.where(_person.c.side == side)
    people = [q.person(conn, user_id) for user_id in conn.execute(query, {"object_id": object_id}).scalars()]
    return [p for p in people if p is not None]


def people_sides(conn: Connection, object_id: int) -> dict[int, str]:
    """user id -> side, for showing and editing the object's people."""
    query = select(_person.c.user_id, _person.c.side).where(_person.c.object_id == object_id)
    return dict(conn.execute(query).all())


def record_inspection(session: Session, object_id: int, *, inspected_on: date, document_id: int | None,
                      recorded_by: int | None, now: datetime) -> date | None:
    """Store the inspection and move the next one by the object's interval; returns the new date
    (None when the object has no interval: its next date is then cleared, nothing is due)."""
    conn = session.connection()
    interval = conn.execute(INTERVAL, {"object_id": object_id}).scalar()
    next_on = inspected_on + timedelta(days=interval) if interval else None
    conn.execute(INSERT_INSPECTION, {"object_id": object_id, "inspected_on": inspected_on,
                                     "document_id": document_id, "recorded_by": recorded_by,
                                     "recorded_at": now, "next_due_on": next_on})
    conn.execute(MOVE_NEXT, {"b_object_id": object_id, "next_on": next_on, "now": now})
    return next_on


def record_event(session: Session, object_id: int, kind: str, text: str, *, ticket_id: int | None = None,
                 alert_id: int | None = None, user_id: int | None = None, now: datetime) -> int:
    return session.connection().execute(INSERT_EVENT, {
        "object_id": object_id, "at": now, "kind": kind, "text": text, "ticket_id": ticket_id,
        "alert_id": alert_id, "user_id": user_id}).scalar_one()
